// The W1A3 engine's datapath and sequencing for one call (docs/register-map.md):
//
// DO_INIT = 1: streams the two weight buffers (IN1: PEs 0..PE/2-1, IN2: the others; each PE's
// weight words, then each PE's threshold entries) into the PEs' on-chip memories.
//
// DO_INIT = 0: a convolution pass (optionally followed by a 2x2 max-pool):
//   reader   - fetches input pixels row by row (only the 16-byte beats that hold IFM_CH
//              channels), zeroes the channels >= IFM_CH, splits each pixel into SIMD-channel
//              chunks stored as three bit planes in a line buffer of NSLOTS rows;
//   issue    - for each output pixel, fold nm, tap (ky,kx) and chunk c (in the order of the
//              weight words) reads one chunk from the line buffer (zero outside the map: the
//              padding) and one weight word per PE; it starts a pixel only when the rows it
//              needs are loaded and the output FIFO has room, so the pipeline never stalls;
//   PEs      - popcount MAC, accumulator, multi-threshold (w1a3_pe);
//   assembly - collects the PE levels of each fold into a pixel of OFM_CH channels;
//   pool     - w1a3_pool;
//   writer   - serialises each output pixel into 192 bytes (channels >= OFM_CH are zero) for
//              the write DMA, which writes POOL_OUT_DIM^2 (or OFM_DIM^2) pixels from OUT.
//
// Pipeline stages of a token (one weight word per PE per cycle):
//   S1 line-buffer and weight addresses, S2 RAM outputs, S3 activation planes and weight word,
//   S4 popcounts, S5 contribution, S6 accumulator, S7 level.
module w1a3_core #(
  parameter int PE = 32,
  parameter int SIMD = 64,
  parameter int MAX_OUT = 256,
  parameter int MAX_IN = 512,
  parameter int LB_DEPTH = 2048,
  parameter int POOL_DEPTH = 256
) (
  input  logic         clk,
  input  logic         rst_n,
  // call
  input  logic         start,
  input  logic [63:0]  in1_addr,
  input  logic [63:0]  in2_addr,
  input  logic [63:0]  out_addr,
  input  logic         do_init,
  input  logic [1:0]   layer_type,
  input  logic [1:0]   kernel_dim,
  input  logic         stride,
  input  logic [10:0]  ifm_ch,
  input  logic [9:0]   ofm_ch,
  input  logic [8:0]   ifm_dim,
  input  logic [8:0]   ofm_dim,
  input  logic [8:0]   pool_in_dim,
  input  logic [8:0]   pool_out_dim,
  input  logic         pool_stride,
  output logic         done,
  output logic         idle,
  // read DMA
  output logic         rcmd_valid,
  input  logic         rcmd_ready,
  output logic [63:0]  rcmd_addr,
  output logic [19:0]  rcmd_beats,
  input  logic [127:0] rd_data,
  input  logic         rd_valid,
  output logic         rd_ready,
  input  logic         rd_idle,
  // write DMA
  output logic         wr_start,
  output logic [63:0]  wr_addr,
  output logic [23:0]  wr_beats,
  output logic [127:0] wr_data,
  output logic         wr_valid,
  input  logic         wr_ready,
  input  logic         wr_done
);
  localparam int NF_MAX    = MAX_OUT / PE;        // neuron folds per pass (TMEM)
  localparam int CH_MAX    = MAX_IN / SIMD;       // SIMD-channel chunks per pixel
  localparam int CB        = 3 * SIMD;            // bits per activation chunk
  localparam int PIX_BITS  = 3 * MAX_IN;
  localparam int PIX_BEATS = PIX_BITS / 128;
  localparam int PIX_BYTES = PIX_BITS / 8;
  localparam int OUT_BITS  = 3 * MAX_OUT;
  localparam int FOLD_BITS = 3 * PE;
  localparam int WPE       = 128 / SIMD;          // weight words per 128-bit entry
  localparam int WWORDS    = 9 * NF_MAX * CH_MAX; // WMEM for K = 3
  localparam int WDEPTH    = WWORDS / WPE;
  localparam int WAW       = $clog2(WDEPTH);
  localparam int WCW       = $clog2(WWORDS);
  localparam int SELW      = $clog2(WPE);
  localparam int NFW       = $clog2(NF_MAX);
  localparam int CHW       = $clog2(CH_MAX + 1);
  localparam int LBW       = $clog2(LB_DEPTH);
  localparam int HALF      = PE / 2;
  localparam int HW        = $clog2(HALF);
  localparam int PEW       = $clog2(PE);
  localparam int DW        = 9;                   // feature-map sides
  localparam int SW        = 12;                  // signed row/column arithmetic
  localparam int NSLOTS    = 4;                   // line-buffer rows (slot = row mod 4)
  localparam int CF_DEPTH  = 4;                   // convolution-pixel FIFO
  localparam int PCW       = $clog2(SIMD + 1);
  localparam int LOG_SIMD  = $clog2(SIMD);
  localparam int LOG_PE    = $clog2(PE);

  // ------------------------------------------------------------------ call sequencing
  localparam logic [2:0] S_IDLE = 3'd0, S_SETUP = 3'd1, S_ARM = 3'd2, S_INIT = 3'd3,
                         S_RUN = 3'd4, S_DONE = 3'd5;
  logic [2:0] st;

  // configuration latched at the start
  logic [63:0] c_in1, c_in2, c_out;
  logic c_init, c_pool, c_k3, c_s, c_ps;
  logic [10:0] c_ifm_ch;
  logic [9:0] c_ofm_ch;
  logic [DW-1:0] c_ifm_dim, c_ofm_dim, c_pin, c_pout;

  // derived in S_SETUP
  logic [CHW-1:0] d_chunks;                 // ceil(IFM_CH / SIMD)
  logic [NFW:0] d_nf;                       // OFM_CH / PE
  logic [4:0] d_rbeats;                     // beats holding IFM_CH channels of a pixel
  logic [LBW+1:0] d_base [NSLOTS];          // line-buffer row slots
  logic [LBW+1:0] d_lbwrap;
  logic [WAW-1:0] d_wbeats;                 // weight beats per PE (K*K*64 words for SIMD 64)
  logic [19:0] d_init_beats;
  logic [23:0] d_out_beats;

  wire arm = (st == S_ARM);
  wire init_fin, run_fin;
  assign done = (st == S_DONE);
  assign idle = (st == S_IDLE);

  always_ff @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      st <= S_IDLE;
    end else begin
      case (st)
        S_IDLE:  if (start) st <= S_SETUP;
        S_SETUP: st <= S_ARM;
        S_ARM:   st <= c_init ? S_INIT : S_RUN;
        S_INIT:  if (init_fin) st <= S_DONE;
        S_RUN:   if (run_fin) st <= S_DONE;
        default: st <= S_IDLE;
      endcase
    end
  end

  always_ff @(posedge clk) begin
    if (st == S_IDLE && start) begin
      c_in1 <= in1_addr; c_in2 <= in2_addr; c_out <= out_addr;
      c_init <= do_init; c_pool <= (layer_type == 2'd2); c_k3 <= (kernel_dim == 2'd3);
      c_s <= stride; c_ps <= pool_stride;
      c_ifm_ch <= ifm_ch; c_ofm_ch <= ofm_ch;
      c_ifm_dim <= ifm_dim; c_ofm_dim <= ofm_dim; c_pin <= pool_in_dim; c_pout <= pool_out_dim;
    end
  end

  logic [CHW-1:0] chunks_c;
  logic [LBW+1:0] row_words_c;
  logic [DW-1:0] out_dim_c;
  assign chunks_c    = CHW'((c_ifm_ch + 11'(SIMD - 1)) >> LOG_SIMD);
  assign row_words_c = (LBW+2)'(c_ifm_dim) * (LBW+2)'(chunks_c);
  assign out_dim_c   = c_pool ? c_pout : c_ofm_dim;

  always_ff @(posedge clk) begin
    if (st == S_SETUP) begin
      d_chunks <= chunks_c;
      d_nf <= (NFW+1)'((c_ofm_ch + 10'(PE - 1)) >> LOG_PE);
      d_rbeats <= 5'((14'(c_ifm_ch) * 14'd3 + 14'd127) >> 7);
      for (int i = 0; i < NSLOTS; i++) d_base[i] <= (LBW+2)'(i) * row_words_c;
      d_lbwrap <= (LBW+2)'(NSLOTS) * row_words_c;
      d_wbeats <= c_k3 ? WAW'(WDEPTH) : WAW'(WDEPTH / 9);
      d_init_beats <= 20'(HALF) * (c_k3 ? 20'(WDEPTH + NF_MAX) : 20'(WDEPTH / 9 + NF_MAX));
      d_out_beats <= 24'(out_dim_c) * 24'(out_dim_c) * 24'(PIX_BEATS);
    end
  end

  // ------------------------------------------------------------------ weight load (DO_INIT)
  logic [1:0] i_cmds;        // buffer commands issued
  logic i_buf, i_tsec, i_fin;
  logic [HW-1:0] i_pe;
  logic [WAW-1:0] i_ent;
  logic ld_w, ld_t;          // registered write to the PE memories
  logic [PEW-1:0] ld_pe;
  logic [WAW-1:0] ld_addr;
  logic [127:0] ld_data;

  wire init_beat = (st == S_INIT) && rd_valid && rd_ready;
  assign init_fin = i_fin && rd_idle;

  always_ff @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      i_cmds <= '0; i_buf <= 1'b0; i_tsec <= 1'b0; i_fin <= 1'b0; i_pe <= '0; i_ent <= '0;
      ld_w <= 1'b0; ld_t <= 1'b0;
    end else if (arm) begin
      i_cmds <= '0; i_buf <= 1'b0; i_tsec <= 1'b0; i_fin <= 1'b0; i_pe <= '0; i_ent <= '0;
      ld_w <= 1'b0; ld_t <= 1'b0;
    end else begin
      if ((st == S_INIT) && rcmd_valid && rcmd_ready) i_cmds <= i_cmds + 1'b1;
      ld_w <= init_beat && !i_tsec;
      ld_t <= init_beat && i_tsec;
      if (init_beat) begin
        if (!i_tsec) begin
          if (i_ent == d_wbeats - 1'b1) begin
            i_ent <= '0;
            i_pe <= i_pe + 1'b1;
            if (i_pe == HW'(HALF - 1)) i_tsec <= 1'b1;
          end else i_ent <= i_ent + 1'b1;
        end else begin
          if (i_ent == WAW'(NF_MAX - 1)) begin
            i_ent <= '0;
            i_pe <= i_pe + 1'b1;
            if (i_pe == HW'(HALF - 1)) begin
              i_tsec <= 1'b0;
              i_buf <= 1'b1;
              if (i_buf) i_fin <= 1'b1;
            end
          end else i_ent <= i_ent + 1'b1;
        end
      end
    end
  end

  always_ff @(posedge clk) begin
    ld_pe <= {i_buf, i_pe};
    ld_addr <= i_ent;
    ld_data <= rd_data;
  end

  // ------------------------------------------------------------------ reader (compute)
  logic [DW-1:0] cr, cx;             // next pixel to request
  logic [63:0] caddr;
  logic [DW-1:0] rx;                 // pixel being received
  logic [DW:0] rows_loaded;          // complete rows in the line buffer
  logic [DW:0] rows_retired;         // output rows whose line-buffer reads are all issued
  logic [4:0] rb;                    // beats of the current pixel received
  logic [CHW-1:0] cw;                // chunks of the current pixel written
  logic [PIX_BITS-1:0] collect;
  logic [LBW-1:0] lb_waddr;
  logic signed [SW-1:0] rd_limit;    // rows below this may be (over)written

  assign rd_limit = (rows_retired == {1'b0, c_ofm_dim}) ? SW'(2047)
                  : (SW'(rows_retired) <<< c_s) - SW'(c_k3) + SW'(NSLOTS);
  wire want_cmd = (st == S_RUN) && (cr < c_ifm_dim) && ($signed(SW'(cr)) < rd_limit);

  // one chunk from the collected beats, channels >= IFM_CH cleared, as three bit planes
  logic [CB-1:0] chunk_raw, chunk_planes;
  assign chunk_raw = collect[cw * CB +: CB];
  always_comb begin
    for (int s = 0; s < SIMD; s++)
      for (int b = 0; b < 3; b++)
        chunk_planes[b * SIMD + s] = chunk_raw[3 * s + b]
                                   && ((11'(cw) << LOG_SIMD) + 11'(s) < c_ifm_ch);
  end
  wire chunk_ready = (12'(rb) << 7) >= (12'(cw) + 12'd1) * 12'(CB) || (rb == d_rbeats);
  wire lb_we = (st == S_RUN) && (cw < d_chunks) && chunk_ready;
  wire run_beat = (st == S_RUN) && rd_valid && rd_ready;

  always_ff @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      cr <= '0; cx <= '0; caddr <= '0; rx <= '0; rows_loaded <= '0; rb <= '0; cw <= '0;
      lb_waddr <= '0;
    end else if (arm) begin
      cr <= '0; cx <= '0; caddr <= c_in1; rx <= '0; rows_loaded <= '0; rb <= '0; cw <= '0;
      lb_waddr <= '0;
    end else begin
      if ((st == S_RUN) && rcmd_valid && rcmd_ready) begin
        caddr <= caddr + 64'(PIX_BYTES);
        if (cx == c_ifm_dim - 1'b1) begin cx <= '0; cr <= cr + 1'b1; end
        else cx <= cx + 1'b1;
      end
      if (run_beat) rb <= rb + 1'b1;
      if (lb_we) begin
        lb_waddr <= (LBW+2)'(lb_waddr) + 1'b1 == d_lbwrap ? '0 : lb_waddr + 1'b1;
        // the last chunk is ready only once rb == d_rbeats (chunks*CB >= 3*IFM_CH >
        // (d_rbeats-1)*128), so the pixel is complete and no beat arrives this cycle
        if (cw == d_chunks - 1'b1) begin
          cw <= '0;
          rb <= '0;
          if (rx == c_ifm_dim - 1'b1) begin rx <= '0; rows_loaded <= rows_loaded + 1'b1; end
          else rx <= rx + 1'b1;
        end else cw <= cw + 1'b1;
      end
    end
  end

  always_ff @(posedge clk) begin
    if (run_beat) collect[rb * 128 +: 128] <= rd_data;
  end

  // read command and data hand-shakes shared by the weight load and the reader
  always_comb begin
    if (st == S_INIT) begin
      rcmd_valid = (i_cmds < 2'd2);
      rcmd_addr  = i_cmds[0] ? c_in2 : c_in1;
      rcmd_beats = d_init_beats;
      rd_ready   = 1'b1;
    end else begin
      rcmd_valid = want_cmd;
      rcmd_addr  = caddr;
      rcmd_beats = 20'(d_rbeats);
      rd_ready   = (st == S_RUN) && (rb < d_rbeats);
    end
  end

  // ------------------------------------------------------------------ line buffer
  logic [LBW-1:0] lb_raddr;
  logic [CB-1:0] lb_rdata;
  w1a3_ram #(.W(CB), .D(LB_DEPTH)) linebuf (
    .clk(clk),
    .we(lb_we), .waddr(lb_waddr), .wdata(chunk_planes),
    .re(1'b1), .raddr(lb_raddr), .rdata(lb_rdata)
  );

  // ------------------------------------------------------------------ issue
  logic [DW-1:0] oy, ox;
  logic [NFW-1:0] nm;
  logic [1:0] ky, kx;
  logic [CHW-1:0] ci;
  logic [WCW-1:0] wa;
  logic [2:0] credits;
  logic cpop;

  wire [1:0] kmax = c_k3 ? 2'd2 : 2'd0;
  wire tap_first = (ky == 2'd0) && (kx == 2'd0) && (ci == '0);
  wire tap_last = (ky == kmax) && (kx == kmax) && (ci == d_chunks - 1'b1);
  wire nm_last = ((NFW+1)'(nm) == d_nf - 1'b1);
  wire first_tok = tap_first && (nm == '0);
  wire signed [SW-1:0] oys = SW'(oy) <<< c_s;
  wire signed [SW-1:0] oxs = SW'(ox) <<< c_s;
  wire signed [SW-1:0] iy = oys + SW'(ky) - SW'(c_k3);
  wire signed [SW-1:0] ix = oxs + SW'(kx) - SW'(c_k3);
  wire inb = (iy >= 0) && (iy < SW'(c_ifm_dim)) && (ix >= 0) && (ix < SW'(c_ifm_dim));
  // the rows that output row oy reads are loaded (bottom rows beyond the map are padding)
  wire rows_ok = (rows_loaded == {1'b0, c_ifm_dim})
              || ($signed(SW'(rows_loaded)) >= oys - SW'(c_k3) + (c_k3 ? SW'(3) : SW'(1)));
  wire issuing = (st == S_RUN) && (oy < c_ofm_dim);
  wire go = issuing && (!first_tok || ((credits != 3'd0) && rows_ok));

  // S1 token
  logic t1_v, t1_inb, t1_first, t1_last, t1_pl, t1_rl;
  logic [NFW-1:0] t1_nm;
  logic [1:0] t1_slot;
  logic [LBW+1:0] t1_col;            // column * chunks + chunk (registered: no multiply in S1)
  logic [WCW-1:0] t1_wa;

  always_ff @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      oy <= '0; ox <= '0; nm <= '0; ky <= '0; kx <= '0; ci <= '0; wa <= '0; credits <= '0;
      t1_v <= 1'b0;
    end else if (arm) begin
      oy <= '0; ox <= '0; nm <= '0; ky <= '0; kx <= '0; ci <= '0; wa <= '0;
      credits <= 3'(CF_DEPTH);
      t1_v <= 1'b0;
    end else begin
      t1_v <= go;
      credits <= credits - 3'(go && first_tok) + 3'(cpop);
      if (go) begin
        wa <= wa + 1'b1;
        if (ci != d_chunks - 1'b1) ci <= ci + 1'b1;
        else begin
          ci <= '0;
          if (kx != kmax) kx <= kx + 1'b1;
          else begin
            kx <= '0;
            if (ky != kmax) ky <= ky + 1'b1;
            else begin
              ky <= '0;
              if (!nm_last) nm <= nm + 1'b1;
              else begin
                nm <= '0;
                wa <= '0;
                if (ox != c_ofm_dim - 1'b1) ox <= ox + 1'b1;
                else begin ox <= '0; oy <= oy + 1'b1; end
              end
            end
          end
        end
      end
    end
  end

  always_ff @(posedge clk) begin
    if (go) begin
      t1_inb <= inb; t1_first <= tap_first; t1_last <= tap_last; t1_nm <= nm;
      t1_pl <= tap_last && nm_last;
      t1_rl <= tap_last && nm_last && (ox == c_ofm_dim - 1'b1);
      t1_slot <= iy[1:0];
      t1_col <= (LBW+2)'(ix) * (LBW+2)'(d_chunks) + (LBW+2)'(ci);
      t1_wa <= wa;
    end
  end

  // S1: line-buffer address = row slot base + column offset
  assign lb_raddr = LBW'(d_base[t1_slot] + t1_col);

  // token flags through S2..S7
  localparam int FV = 0, FINB = 1, FFIRST = 2, FLAST = 3, FPL = 4, FRL = 5, FNM = 6;
  localparam int FLW = 6 + NFW;
  logic [FLW-1:0] f2, f3, f4, f5, f6, f7;
  logic [3*SIMD-1:0] act3;
  logic [PCW-1:0] pa3 [3];
  logic signed [15:0] pa4;

  always_ff @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      f2 <= '0; f3 <= '0; f4 <= '0; f5 <= '0; f6 <= '0; f7 <= '0; rows_retired <= '0;
    end else if (arm) begin
      f2 <= '0; f3 <= '0; f4 <= '0; f5 <= '0; f6 <= '0; f7 <= '0; rows_retired <= '0;
    end else begin
      f2 <= {t1_nm, t1_rl, t1_pl, t1_last, t1_first, t1_inb, t1_v};
      f3 <= f2; f4 <= f3; f5 <= f4; f6 <= f5; f7 <= f6;
      if (f2[FV] && f2[FRL]) rows_retired <= rows_retired + 1'b1;
    end
  end

  // S3: activation planes (zero for padding and bubbles), S4: their weighted popcount
  always_ff @(posedge clk) begin
    act3 <= (f2[FV] && f2[FINB]) ? lb_rdata : '0;
  end
  for (genvar b = 0; b < 3; b++) begin : apc
    w1a3_popcount #(.W(SIMD)) u_pc (.x(act3[b*SIMD +: SIMD]), .y(pa3[b]));
  end
  always_ff @(posedge clk) begin
    pa4 <= 16'(pa3[0]) + (16'(pa3[1]) << 1) + (16'(pa3[2]) << 2);
  end

  // ------------------------------------------------------------------ PE array
  logic [FOLD_BITS-1:0] levels7;
  for (genvar p = 0; p < PE; p++) begin : pe
    w1a3_pe #(.SIMD(SIMD), .NF_MAX(NF_MAX), .WDEPTH(WDEPTH)) u_pe (
      .clk(clk),
      .w_we(ld_w && (ld_pe == PEW'(p))), .w_waddr(ld_addr), .w_wdata(ld_data),
      .t_we(ld_t && (ld_pe == PEW'(p))), .t_waddr(ld_addr[NFW-1:0]),
      .t_wdata({ld_data[48:0], ld_data[127:64]}),   // entry = {first word, second word}
      .rd_en1(t1_v), .rd_entry1(WAW'(t1_wa >> SELW)), .rd_sel1(t1_wa[SELW-1:0]),
      .act3(act3), .pa4(pa4),
      .first5(f5[FV] && f5[FFIRST]),
      .nm6(f6[FNM +: NFW]),
      .level7(levels7[3*p +: 3])
    );
  end

  // ------------------------------------------------------------------ pixel assembly
  logic [OUT_BITS-1:0] pix_acc, pix_next;
  wire fold_done = f7[FV] && f7[FLAST];
  wire pix_done = fold_done && f7[FPL];
  always_comb begin
    pix_next = pix_acc;
    pix_next[f7[FNM +: NFW] * FOLD_BITS +: FOLD_BITS] = levels7;
  end
  always_ff @(posedge clk) begin
    if (arm) pix_acc <= '0;
    else if (fold_done) pix_acc <= pix_done ? '0 : pix_next;
  end

  logic cf_empty;
  logic [OUT_BITS-1:0] cf_dout;
  // never full: the issue stage starts a pixel only with a free slot (credits)
  /* verilator lint_off PINCONNECTEMPTY */
  w1a3_fifo #(.W(OUT_BITS), .DEPTH(CF_DEPTH)) convfifo (
    .clk(clk), .rst_n(rst_n), .clear(arm),
    .push(pix_done), .din(pix_next),
    .pop(cpop), .dout(cf_dout),
    .empty(cf_empty), .full(), .count()
  );
  /* verilator lint_on PINCONNECTEMPTY */

  // ------------------------------------------------------------------ pool and writer
  logic po_valid, po_ready;
  logic [OUT_BITS-1:0] po_data;
  w1a3_pool #(.OUT_BITS(OUT_BITS), .POOL_DEPTH(POOL_DEPTH), .DW(DW)) pool (
    .clk(clk), .rst_n(rst_n), .start(arm && !c_init), .pool_en(c_pool),
    .ofm_dim(c_ofm_dim), .pool_in_dim(c_pin), .pool_out_dim(c_pout), .pool_s(c_ps),
    .cvalid(!cf_empty), .cdata(cf_dout), .cpop(cpop),
    .ovalid(po_valid), .odata(po_data), .oready(po_ready)
  );

  logic ser_busy;
  logic [3:0] ser_j;
  logic [OUT_BITS-1:0] ser_pix;
  logic [PIX_BITS-1:0] ser_ext;
  wire ser_last = (ser_j == 4'(PIX_BEATS - 1));
  assign ser_ext = PIX_BITS'(ser_pix);
  assign po_ready = !ser_busy || (wr_ready && ser_last);
  assign wr_valid = ser_busy;
  assign wr_data = ser_ext[ser_j * 128 +: 128];

  always_ff @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      ser_busy <= 1'b0; ser_j <= '0;
    end else if (arm) begin
      ser_busy <= 1'b0; ser_j <= '0;
    end else if (po_valid && po_ready) begin
      ser_busy <= 1'b1; ser_j <= '0;
    end else if (wr_valid && wr_ready) begin
      ser_j <= ser_j + 1'b1;
      if (ser_last) ser_busy <= 1'b0;
    end
  end
  always_ff @(posedge clk) begin
    if (po_valid && po_ready) ser_pix <= po_data;
  end

  assign wr_start = arm && !c_init;
  assign wr_addr = c_out;
  assign wr_beats = d_out_beats;
  assign run_fin = wr_done && (rows_loaded == {1'b0, c_ifm_dim}) && rd_idle;
endmodule
