// Write DMA: streams `beats` 16-byte beats to consecutive addresses from `addr` as AXI4 INCR
// bursts (at most MAX_BURST beats, never across a 4 KiB boundary). A burst's address is issued
// only once all its data sits in the local FIFO, so the W channel never stalls the
// interconnect. `done` rises when every beat is written and every response received.
module w1a3_wdma #(
  parameter int MAX_BURST = 16,
  parameter int FIFO_DEPTH = 32,
  parameter int BW = 24
) (
  input  logic          clk,
  input  logic          rst_n,
  input  logic          start,        // pulse: begin a stream
  input  logic [63:0]   start_addr,
  input  logic [BW-1:0] start_beats,
  // data in
  input  logic [127:0]  sdata,
  input  logic          svalid,
  output logic          sready,
  // AXI4 write address / data / response
  output logic [63:0]   awaddr,
  output logic [7:0]    awlen,
  output logic          awvalid,
  input  logic          awready,
  output logic [127:0]  wdata,
  output logic          wlast,
  output logic          wvalid,
  input  logic          wready,
  input  logic          bvalid,
  output logic          bready,
  output logic          done
);
  localparam int FAW = $clog2(FIFO_DEPTH);

  logic [63:0]   addr;
  logic [BW-1:0] left;       // beats not yet covered by an issued burst
  logic [8:0]    to4k;
  logic [BW-1:0] blen;
  logic          in_burst;   // sending the W beats of an issued burst
  logic [8:0]    wcnt;       // W beats left in that burst
  logic [15:0]   bpend;      // bursts awaiting their response
  logic [FAW:0]  fcount;
  logic          fempty, ffull;

  assign to4k = 9'd256 - {1'b0, addr[11:4]};
  always_comb begin
    blen = left;
    if (blen > BW'(MAX_BURST)) blen = BW'(MAX_BURST);
    if (blen > BW'(to4k)) blen = BW'(to4k);
  end

  w1a3_fifo #(.W(128), .DEPTH(FIFO_DEPTH)) fifo (
    .clk(clk), .rst_n(rst_n), .clear(start),
    .push(svalid && sready), .din(sdata),
    .pop(wvalid && wready), .dout(wdata),
    .empty(fempty), .full(ffull), .count(fcount)
  );

  assign sready  = !ffull;
  assign awaddr  = addr;
  assign awlen   = 8'(blen - 1'b1);
  assign awvalid = !in_burst && (left != '0) && ((FAW+1)'(blen) <= fcount);
  assign wvalid  = in_burst && !fempty;
  assign wlast   = (wcnt == 9'd1);
  assign bready  = 1'b1;
  assign done    = (left == '0) && !in_burst && (bpend == '0);

  always_ff @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      addr <= '0; left <= '0; in_burst <= 1'b0; wcnt <= '0; bpend <= '0;
    end else if (start) begin
      addr <= start_addr; left <= start_beats; in_burst <= 1'b0; wcnt <= '0;
    end else begin
      if (awvalid && awready) begin
        addr     <= addr + 64'({blen, 4'b0});
        left     <= left - blen;
        in_burst <= 1'b1;
        wcnt     <= 9'(blen);
      end else if (wvalid && wready) begin
        wcnt <= wcnt - 1'b1;
        if (wlast) in_burst <= 1'b0;
      end
      bpend <= bpend + 16'(awvalid && awready) - 16'(bvalid);
    end
  end
endmodule
