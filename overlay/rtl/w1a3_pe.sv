// One processing element: computes output channel nm*PE+pe for every neuron fold nm.
// Holds its weight memory (128-bit entries of 128/SIMD weight words, so the loader writes one
// AXI beat per cycle) and its threshold memory (one 113-bit entry per fold: seven signed 16-bit
// thresholds and the invert flag at bit 112).
//
// Datapath, one weight word per cycle, stages numbered as in w1a3_core:
//   S1 weight read address  -> S2 RAM output -> S3 selected word
//   S3 activation planes    -> S4 popcount(A_b & W) per plane
//   S4 -> S5 contribution = sum_b 2^b (popcount(A_b) - 2 popcount(A_b & W))
//   S5 -> S6 accumulator (restarts on `first5`)
//   S6 -> S7 level = #{i : acc >= t_i}, xor 7 when inverted
module w1a3_pe #(
  parameter int SIMD = 64,
  parameter int NF_MAX = 8,
  parameter int WDEPTH = 288,
  localparam int WPE = 128 / SIMD,
  localparam int WAW = $clog2(WDEPTH),
  localparam int SELW = $clog2(WPE),
  localparam int NFW = $clog2(NF_MAX),
  localparam int PCW = $clog2(SIMD + 1)
) (
  input  logic                clk,
  // parameter load
  input  logic                w_we,
  input  logic [WAW-1:0]      w_waddr,
  input  logic [127:0]        w_wdata,
  input  logic                t_we,
  input  logic [NFW-1:0]      t_waddr,
  input  logic [112:0]        t_wdata,
  // compute
  input  logic                rd_en1,
  input  logic [WAW-1:0]      rd_entry1,
  input  logic [SELW-1:0]     rd_sel1,
  input  logic [3*SIMD-1:0]   act3,       // planes: bit b*SIMD+s = bit b of lane s
  input  logic signed [15:0]  pa4,        // sum_b 2^b popcount(A_b), shared by all PEs
  input  logic                first5,
  input  logic [NFW-1:0]      nm6,
  output logic [2:0]          level7
);
  // ---- weights
  logic [127:0] wq2;
  logic [SELW-1:0] sel2;
  logic [SIMD-1:0] w3;

  w1a3_ram #(.W(128), .D(WDEPTH)) wmem (
    .clk(clk), .we(w_we), .waddr(w_waddr), .wdata(w_wdata),
    .re(rd_en1), .raddr(rd_entry1), .rdata(wq2)
  );

  always_ff @(posedge clk) begin
    sel2 <= rd_sel1;
    w3 <= wq2[sel2*SIMD +: SIMD];
  end

  // ---- thresholds (small: distributed RAM / registers, read asynchronously)
  logic [112:0] tmem [NF_MAX];
  always_ff @(posedge clk) begin
    if (t_we) tmem[t_waddr] <= t_wdata;
  end

  // ---- popcounts of the three activation planes masked by the -1 weights
  logic [PCW-1:0] pc3 [3];
  logic [PCW-1:0] pc4 [3];
  for (genvar b = 0; b < 3; b++) begin : plane
    w1a3_popcount #(.W(SIMD)) u_pc (.x(act3[b*SIMD +: SIMD] & w3), .y(pc3[b]));
  end

  always_ff @(posedge clk) begin
    for (int b = 0; b < 3; b++) pc4[b] <= pc3[b];
  end

  // ---- contribution and accumulator (16-bit signed, as the engine's MACC)
  logic signed [15:0] neg4, contrib5, acc6;
  assign neg4 = 16'(pc4[0]) + (16'(pc4[1]) << 1) + (16'(pc4[2]) << 2);

  always_ff @(posedge clk) begin
    contrib5 <= pa4 - (neg4 <<< 1);
    acc6 <= first5 ? contrib5 : acc6 + contrib5;
  end

  // ---- multi-threshold activation
  logic [112:0] thr6;
  logic [2:0] cnt6;
  assign thr6 = tmem[nm6];
  always_comb begin
    cnt6 = '0;
    for (int i = 0; i < 7; i++)
      cnt6 = cnt6 + 3'(acc6 >= $signed(thr6[16*i +: 16]));
  end

  always_ff @(posedge clk) begin
    level7 <= thr6[112] ? ~cnt6 : cnt6;
  end
endmodule
