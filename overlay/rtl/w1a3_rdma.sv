// Read DMA: turns (address, beats) commands into AXI4 INCR bursts of 16-byte beats, at most
// MAX_BURST beats each and never crossing a 4 KiB boundary (AXI rule), with up to MAX_OUTST
// bursts outstanding to cover the DDR latency. Read data is handed on in order (single ID).
// Addresses must be 16-byte aligned (the driver's buffers are page aligned, pixels 192 bytes).
module w1a3_rdma #(
  parameter int MAX_BURST = 16,
  parameter int MAX_OUTST = 16,
  parameter int BW = 20            // width of a command's beat count
) (
  input  logic          clk,
  input  logic          rst_n,
  // commands
  input  logic          cmd_valid,
  output logic          cmd_ready,
  input  logic [63:0]   cmd_addr,
  input  logic [BW-1:0] cmd_beats,
  // AXI4 read address / data
  output logic [63:0]   araddr,
  output logic [7:0]    arlen,
  output logic          arvalid,
  input  logic          arready,
  input  logic [127:0]  rdata,
  input  logic          rlast,
  input  logic          rvalid,
  output logic          rready,
  // data to the consumer
  output logic [127:0]  ddata,
  output logic          dvalid,
  input  logic          dready,
  output logic          idle
);
  localparam int OW = $clog2(MAX_OUTST + 1);

  logic          active;
  logic [63:0]   addr;
  logic [BW-1:0] left;
  logic [OW-1:0] outst;
  logic [8:0]    to4k;     // beats before the next 4 KiB boundary (1..256)
  logic [BW-1:0] blen;

  assign to4k = 9'd256 - {1'b0, addr[11:4]};
  always_comb begin
    blen = left;
    if (blen > BW'(MAX_BURST)) blen = BW'(MAX_BURST);
    if (blen > BW'(to4k)) blen = BW'(to4k);
  end

  assign cmd_ready = !active;
  assign araddr    = addr;
  assign arlen     = 8'(blen - 1'b1);
  assign arvalid   = active && (outst != OW'(MAX_OUTST));
  assign ddata     = rdata;
  assign dvalid    = rvalid;
  assign rready    = dready;
  assign idle      = !active && (outst == '0);

  wire ar_hs = arvalid && arready;
  wire r_end = rvalid && rready && rlast;

  always_ff @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      active <= 1'b0; addr <= '0; left <= '0; outst <= '0;
    end else begin
      if (cmd_valid && cmd_ready) begin
        active <= (cmd_beats != '0);
        addr   <= cmd_addr;
        left   <= cmd_beats;
      end else if (ar_hs) begin
        addr <= addr + 64'({blen, 4'b0});
        left <= left - blen;
        if (left == blen) active <= 1'b0;
      end
      outst <= outst + OW'(ar_hs) - OW'(r_end);
    end
  end
endmodule
