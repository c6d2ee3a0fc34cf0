// AXI4-Lite register file of docs/register-map.md (the HLS `s_axi_control` interface):
// AP_CTRL with self-clearing start, clear-on-read done/ready, idle, auto-restart; GIE, IER,
// toggle-on-write ISR and a level interrupt; the call's addresses and layer geometry.
// Registers hold their values between starts; unlisted offsets read 0 and ignore writes.
module w1a3_ctrl (
  input  logic        clk,
  input  logic        rst_n,
  // AXI4-Lite slave
  input  logic [15:0] awaddr,
  input  logic        awvalid,
  output logic        awready,
  input  logic [31:0] wdata,
  input  logic [3:0]  wstrb,
  input  logic        wvalid,
  output logic        wready,
  output logic [1:0]  bresp,
  output logic        bvalid,
  input  logic        bready,
  input  logic [15:0] araddr,
  input  logic        arvalid,
  output logic        arready,
  output logic [31:0] rdata,
  output logic [1:0]  rresp,
  output logic        rvalid,
  input  logic        rready,
  // engine
  output logic        start,       // one-cycle pulse: begin a call with the values below
  input  logic        core_done,   // one-cycle pulse: the call finished
  input  logic        core_idle,
  output logic        interrupt,
  output logic [63:0] in1_addr,
  output logic [63:0] in2_addr,
  output logic [63:0] out_addr,
  output logic        do_init,
  output logic [1:0]  layer_type,
  output logic [1:0]  kernel_dim,
  output logic        stride,
  output logic [10:0] ifm_ch,
  output logic [9:0]  ofm_ch,
  output logic [8:0]  ifm_dim,
  output logic [8:0]  ofm_dim,
  output logic [8:0]  pool_in_dim,
  output logic [8:0]  pool_out_dim,
  output logic        pool_stride
);
  localparam logic [15:0] A_CTRL = 16'h00, A_GIE = 16'h04, A_IER = 16'h08, A_ISR = 16'h0C,
    A_IN1_LO = 16'h10, A_IN1_HI = 16'h14, A_IN2_LO = 16'h1C, A_IN2_HI = 16'h20,
    A_OUT_LO = 16'h28, A_OUT_HI = 16'h2C, A_DO_INIT = 16'h34, A_LTYPE = 16'h3C,
    A_KDIM = 16'h44, A_STRIDE = 16'h4C, A_IFM_CH = 16'h54, A_OFM_CH = 16'h5C,
    A_IFM_DIM = 16'h64, A_PAD_DIM = 16'h6C, A_OFM_DIM = 16'h74, A_PIN_DIM = 16'h7C,
    A_POUT_DIM = 16'h84, A_PSTRIDE = 16'h8C;
  localparam int NCFG = 18;  // plain 32-bit registers from IN1_LO on, in the order above

  logic ap_start, ap_done, ap_ready, auto_restart, gie;
  logic [1:0] ier, isr;
  logic [31:0] cfg [NCFG];

  function automatic int cfg_index(input logic [15:0] a);
    case (a)
      A_IN1_LO:   cfg_index = 0;
      A_IN1_HI:   cfg_index = 1;
      A_IN2_LO:   cfg_index = 2;
      A_IN2_HI:   cfg_index = 3;
      A_OUT_LO:   cfg_index = 4;
      A_OUT_HI:   cfg_index = 5;
      A_DO_INIT:  cfg_index = 6;
      A_LTYPE:    cfg_index = 7;
      A_KDIM:     cfg_index = 8;
      A_STRIDE:   cfg_index = 9;
      A_IFM_CH:   cfg_index = 10;
      A_OFM_CH:   cfg_index = 11;
      A_IFM_DIM:  cfg_index = 12;
      A_PAD_DIM:  cfg_index = 13;
      A_OFM_DIM:  cfg_index = 14;
      A_PIN_DIM:  cfg_index = 15;
      A_POUT_DIM: cfg_index = 16;
      A_PSTRIDE:  cfg_index = 17;
      default:    cfg_index = -1;
    endcase
  endfunction

  // ---- write channel: address and data may arrive in either order
  logic aw_held, w_held;
  logic [15:0] aw_q;
  logic [31:0] w_q;
  logic [3:0] s_q;
  wire do_write = aw_held && w_held && !bvalid;
  logic [31:0] bytemask;
  always_comb
    for (int i = 0; i < 4; i++) bytemask[8*i +: 8] = {8{s_q[i]}};

  assign awready = !aw_held;
  assign wready  = !w_held;
  assign bresp   = 2'b00;
  assign rresp   = 2'b00;
  assign arready = !rvalid;

  wire do_read = arvalid && arready;
  wire read_ctrl = do_read && (araddr == A_CTRL);
  wire wr_ctrl = do_write && (aw_q == A_CTRL) && s_q[0];
  wire wr_isr = do_write && (aw_q == A_ISR) && s_q[0];

  assign start = ap_start && core_idle;

  always_ff @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      aw_held <= 1'b0; w_held <= 1'b0; bvalid <= 1'b0; rvalid <= 1'b0;
      aw_q <= '0; w_q <= '0; s_q <= '0; rdata <= '0;
      ap_start <= 1'b0; ap_done <= 1'b0; ap_ready <= 1'b0; auto_restart <= 1'b0;
      gie <= 1'b0; ier <= '0; isr <= '0; interrupt <= 1'b0;
      for (int i = 0; i < NCFG; i++) cfg[i] <= '0;
    end else begin
      if (awvalid && awready) begin aw_held <= 1'b1; aw_q <= awaddr; end
      if (wvalid && wready) begin w_held <= 1'b1; w_q <= wdata; s_q <= wstrb; end
      if (bvalid && bready) bvalid <= 1'b0;
      if (do_write) begin
        aw_held <= 1'b0; w_held <= 1'b0; bvalid <= 1'b1;
        if (cfg_index(aw_q) >= 0)
          cfg[cfg_index(aw_q)] <= (cfg[cfg_index(aw_q)] & ~bytemask) | (w_q & bytemask);
        if (aw_q == A_GIE && s_q[0]) gie <= w_q[0];
        if (aw_q == A_IER && s_q[0]) ier <= w_q[1:0];
      end

      // AP_CTRL: start is set by software and cleared when the engine takes it
      if (start) ap_start <= 1'b0;
      if (wr_ctrl) begin
        auto_restart <= w_q[7];
        if (w_q[0]) ap_start <= 1'b1;
      end
      if (core_done && auto_restart) ap_start <= 1'b1;
      if (read_ctrl) begin ap_done <= 1'b0; ap_ready <= 1'b0; end
      if (core_done) begin ap_done <= 1'b1; ap_ready <= 1'b1; end

      // ISR: events set bits enabled in IER, software toggles them
      for (int i = 0; i < 2; i++)
        isr[i] <= (isr[i] ^ (wr_isr && w_q[i])) | (core_done && ier[i]);
      interrupt <= gie && (isr != 2'b00);

      if (rvalid && rready) rvalid <= 1'b0;
      if (do_read) begin
        rvalid <= 1'b1;
        case (araddr)
          A_CTRL:  rdata <= {24'b0, auto_restart, 3'b0, ap_ready, core_idle, ap_done, ap_start};
          A_GIE:   rdata <= {31'b0, gie};
          A_IER:   rdata <= {30'b0, ier};
          A_ISR:   rdata <= {30'b0, isr};
          default: rdata <= (cfg_index(araddr) >= 0) ? cfg[cfg_index(araddr)] : 32'b0;
        endcase
      end
    end
  end

  assign in1_addr     = {cfg[1], cfg[0]};
  assign in2_addr     = {cfg[3], cfg[2]};
  assign out_addr     = {cfg[5], cfg[4]};
  assign do_init      = cfg[6][0];
  assign layer_type   = cfg[7][1:0];
  assign kernel_dim   = cfg[8][1:0];
  assign stride       = cfg[9][0];
  assign ifm_ch       = cfg[10][10:0];
  assign ofm_ch       = cfg[11][9:0];
  assign ifm_dim      = cfg[12][8:0];
  assign ofm_dim      = cfg[14][8:0];
  assign pool_in_dim  = cfg[15][8:0];
  assign pool_out_dim = cfg[16][8:0];
  assign pool_stride  = cfg[17][0];
  // PADDED_DIM (cfg[13]) is stored for the driver but implied by IFM_DIM and KERNEL_DIM here.
endmodule
