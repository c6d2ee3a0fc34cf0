// Top level of the W1A3 offload engine: AXI4-Lite control slave (`s_axi_control`, the register
// map of docs/register-map.md), one AXI4 master (`m_axi_gmem`, 128-bit data, 64-bit
// addresses) for activations, weights and thresholds, and a level interrupt on ap_done.
// Port names follow Vivado's conventions so that the block design infers the interfaces.
module w1a3_engine #(
  parameter int PE = 32,            // processing elements (output channels in parallel)
  parameter int SIMD = 64,          // input channels per PE per cycle (weight word width)
  parameter int MAX_OUT = 256,      // output channels per pass
  parameter int MAX_IN = 512,       // input channels; a pixel is 3*MAX_IN bits
  parameter int LB_DEPTH = 2048,    // line buffer in SIMD-channel chunks (4 rows)
  parameter int POOL_DEPTH = 256    // largest POOL_IN_DIM
) (
  (* X_INTERFACE_INFO = "xilinx.com:signal:clock:1.0 ap_clk CLK" *)
  (* X_INTERFACE_PARAMETER = "ASSOCIATED_BUSIF s_axi_control:m_axi_gmem, ASSOCIATED_RESET ap_rst_n" *)
  input  logic         ap_clk,
  (* X_INTERFACE_INFO = "xilinx.com:signal:reset:1.0 ap_rst_n RST" *)
  (* X_INTERFACE_PARAMETER = "POLARITY ACTIVE_LOW" *)
  input  logic         ap_rst_n,
  (* X_INTERFACE_INFO = "xilinx.com:signal:interrupt:1.0 irq INTERRUPT" *)
  (* X_INTERFACE_PARAMETER = "SENSITIVITY LEVEL_HIGH" *)
  output logic         irq,

  input  logic [15:0]  s_axi_control_awaddr,
  input  logic         s_axi_control_awvalid,
  output logic         s_axi_control_awready,
  input  logic [31:0]  s_axi_control_wdata,
  input  logic [3:0]   s_axi_control_wstrb,
  input  logic         s_axi_control_wvalid,
  output logic         s_axi_control_wready,
  output logic [1:0]   s_axi_control_bresp,
  output logic         s_axi_control_bvalid,
  input  logic         s_axi_control_bready,
  input  logic [15:0]  s_axi_control_araddr,
  input  logic         s_axi_control_arvalid,
  output logic         s_axi_control_arready,
  output logic [31:0]  s_axi_control_rdata,
  output logic [1:0]   s_axi_control_rresp,
  output logic         s_axi_control_rvalid,
  input  logic         s_axi_control_rready,

  output logic [63:0]  m_axi_gmem_awaddr,
  output logic [7:0]   m_axi_gmem_awlen,
  output logic [2:0]   m_axi_gmem_awsize,
  output logic [1:0]   m_axi_gmem_awburst,
  output logic [3:0]   m_axi_gmem_awcache,
  output logic [2:0]   m_axi_gmem_awprot,
  output logic         m_axi_gmem_awvalid,
  input  logic         m_axi_gmem_awready,
  output logic [127:0] m_axi_gmem_wdata,
  output logic [15:0]  m_axi_gmem_wstrb,
  output logic         m_axi_gmem_wlast,
  output logic         m_axi_gmem_wvalid,
  input  logic         m_axi_gmem_wready,
  /* verilator lint_off UNUSED */
  input  logic [1:0]   m_axi_gmem_bresp,   // errors cannot be reported through the HLS map
  /* verilator lint_on UNUSED */
  input  logic         m_axi_gmem_bvalid,
  output logic         m_axi_gmem_bready,
  output logic [63:0]  m_axi_gmem_araddr,
  output logic [7:0]   m_axi_gmem_arlen,
  output logic [2:0]   m_axi_gmem_arsize,
  output logic [1:0]   m_axi_gmem_arburst,
  output logic [3:0]   m_axi_gmem_arcache,
  output logic [2:0]   m_axi_gmem_arprot,
  output logic         m_axi_gmem_arvalid,
  input  logic         m_axi_gmem_arready,
  input  logic [127:0] m_axi_gmem_rdata,
  /* verilator lint_off UNUSED */
  input  logic [1:0]   m_axi_gmem_rresp,
  /* verilator lint_on UNUSED */
  input  logic         m_axi_gmem_rlast,
  input  logic         m_axi_gmem_rvalid,
  output logic         m_axi_gmem_rready
);
  logic start, core_done, core_idle;
  logic [63:0] in1_addr, in2_addr, out_addr;
  logic do_init, stride, pool_stride;
  logic [1:0] layer_type, kernel_dim;
  logic [10:0] ifm_ch;
  logic [9:0] ofm_ch;
  logic [8:0] ifm_dim, ofm_dim, pool_in_dim, pool_out_dim;

  w1a3_ctrl ctrl (
    .clk(ap_clk), .rst_n(ap_rst_n),
    .awaddr(s_axi_control_awaddr), .awvalid(s_axi_control_awvalid),
    .awready(s_axi_control_awready),
    .wdata(s_axi_control_wdata), .wstrb(s_axi_control_wstrb), .wvalid(s_axi_control_wvalid),
    .wready(s_axi_control_wready),
    .bresp(s_axi_control_bresp), .bvalid(s_axi_control_bvalid), .bready(s_axi_control_bready),
    .araddr(s_axi_control_araddr), .arvalid(s_axi_control_arvalid),
    .arready(s_axi_control_arready),
    .rdata(s_axi_control_rdata), .rresp(s_axi_control_rresp), .rvalid(s_axi_control_rvalid),
    .rready(s_axi_control_rready),
    .start(start), .core_done(core_done), .core_idle(core_idle), .interrupt(irq),
    .in1_addr(in1_addr), .in2_addr(in2_addr), .out_addr(out_addr), .do_init(do_init),
    .layer_type(layer_type), .kernel_dim(kernel_dim), .stride(stride), .ifm_ch(ifm_ch),
    .ofm_ch(ofm_ch), .ifm_dim(ifm_dim), .ofm_dim(ofm_dim), .pool_in_dim(pool_in_dim),
    .pool_out_dim(pool_out_dim), .pool_stride(pool_stride)
  );

  logic rcmd_valid, rcmd_ready, rd_valid, rd_ready, rd_idle;
  logic [63:0] rcmd_addr;
  logic [19:0] rcmd_beats;
  logic [127:0] rd_data;
  logic wr_start, wr_valid, wr_ready, wr_done;
  logic [63:0] wr_addr;
  logic [23:0] wr_beats;
  logic [127:0] wr_data;

  w1a3_core #(
    .PE(PE), .SIMD(SIMD), .MAX_OUT(MAX_OUT), .MAX_IN(MAX_IN), .LB_DEPTH(LB_DEPTH),
    .POOL_DEPTH(POOL_DEPTH)
  ) core (
    .clk(ap_clk), .rst_n(ap_rst_n),
    .start(start), .in1_addr(in1_addr), .in2_addr(in2_addr), .out_addr(out_addr),
    .do_init(do_init), .layer_type(layer_type), .kernel_dim(kernel_dim), .stride(stride),
    .ifm_ch(ifm_ch), .ofm_ch(ofm_ch), .ifm_dim(ifm_dim), .ofm_dim(ofm_dim),
    .pool_in_dim(pool_in_dim), .pool_out_dim(pool_out_dim), .pool_stride(pool_stride),
    .done(core_done), .idle(core_idle),
    .rcmd_valid(rcmd_valid), .rcmd_ready(rcmd_ready), .rcmd_addr(rcmd_addr),
    .rcmd_beats(rcmd_beats), .rd_data(rd_data), .rd_valid(rd_valid), .rd_ready(rd_ready),
    .rd_idle(rd_idle),
    .wr_start(wr_start), .wr_addr(wr_addr), .wr_beats(wr_beats), .wr_data(wr_data),
    .wr_valid(wr_valid), .wr_ready(wr_ready), .wr_done(wr_done)
  );

  w1a3_rdma #(.MAX_BURST(16), .MAX_OUTST(16), .BW(20)) rdma (
    .clk(ap_clk), .rst_n(ap_rst_n),
    .cmd_valid(rcmd_valid), .cmd_ready(rcmd_ready), .cmd_addr(rcmd_addr),
    .cmd_beats(rcmd_beats),
    .araddr(m_axi_gmem_araddr), .arlen(m_axi_gmem_arlen), .arvalid(m_axi_gmem_arvalid),
    .arready(m_axi_gmem_arready),
    .rdata(m_axi_gmem_rdata), .rlast(m_axi_gmem_rlast), .rvalid(m_axi_gmem_rvalid),
    .rready(m_axi_gmem_rready),
    .ddata(rd_data), .dvalid(rd_valid), .dready(rd_ready), .idle(rd_idle)
  );

  w1a3_wdma #(.MAX_BURST(16), .FIFO_DEPTH(32), .BW(24)) wdma (
    .clk(ap_clk), .rst_n(ap_rst_n),
    .start(wr_start), .start_addr(wr_addr), .start_beats(wr_beats),
    .sdata(wr_data), .svalid(wr_valid), .sready(wr_ready),
    .awaddr(m_axi_gmem_awaddr), .awlen(m_axi_gmem_awlen), .awvalid(m_axi_gmem_awvalid),
    .awready(m_axi_gmem_awready),
    .wdata(m_axi_gmem_wdata), .wlast(m_axi_gmem_wlast), .wvalid(m_axi_gmem_wvalid),
    .wready(m_axi_gmem_wready),
    .bvalid(m_axi_gmem_bvalid), .bready(m_axi_gmem_bready), .done(wr_done)
  );

  // 16-byte INCR bursts, normal non-secure data access, bufferable/modifiable (HP port use)
  assign m_axi_gmem_awsize  = 3'd4;
  assign m_axi_gmem_arsize  = 3'd4;
  assign m_axi_gmem_awburst = 2'b01;
  assign m_axi_gmem_arburst = 2'b01;
  assign m_axi_gmem_awcache = 4'b0011;
  assign m_axi_gmem_arcache = 4'b0011;
  assign m_axi_gmem_awprot  = 3'b000;
  assign m_axi_gmem_arprot  = 3'b000;
  assign m_axi_gmem_wstrb   = 16'hFFFF;
endmodule
