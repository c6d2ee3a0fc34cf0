// 2x2 max-pool over a stream of convolution pixels in raster order (LAYER_TYPE 2), or a plain
// pass-through (LAYER_TYPE 1).
//
// The unit walks the POOL_IN_DIM x POOL_IN_DIM grid; positions outside the OFM_DIM x OFM_DIM
// convolution map (the right/bottom padding) take zero pixels instead of stream pixels, so the
// padded stride-1 pool and the plain stride-2 pool are the same loop. At grid point (y, x) the
// 2x2 window with top-left (y-1, x-1) is complete; it is emitted when that corner lies on the
// pool stride and in_map the POOL_OUT_DIM x POOL_OUT_DIM output. One previous row is kept in a
// RAM, the previous pixel and the previous row's left neighbour in registers.
module w1a3_pool #(
  parameter int OUT_BITS = 768,
  parameter int POOL_DEPTH = 256,
  parameter int DW = 9,
  localparam int PAW = $clog2(POOL_DEPTH)
) (
  input  logic                clk,
  input  logic                rst_n,
  input  logic                start,       // pulse: a call begins, the configuration is valid
  input  logic                pool_en,     // LAYER_TYPE == 2
  input  logic [DW-1:0]       ofm_dim,
  input  logic [DW-1:0]       pool_in_dim,
  input  logic [DW-1:0]       pool_out_dim,
  input  logic                pool_s,      // log2 of the pool stride
  // convolution pixels
  input  logic                cvalid,
  input  logic [OUT_BITS-1:0] cdata,
  output logic                cpop,
  // pooled pixels
  output logic                ovalid,
  output logic [OUT_BITS-1:0] odata,
  input  logic                oready
);
  localparam int NCH = OUT_BITS / 3;

  function automatic logic [OUT_BITS-1:0] vmax(input logic [OUT_BITS-1:0] a,
                                               input logic [OUT_BITS-1:0] b);
    logic [OUT_BITS-1:0] r;
    for (int c = 0; c < NCH; c++)
      r[3*c +: 3] = (a[3*c +: 3] > b[3*c +: 3]) ? a[3*c +: 3] : b[3*c +: 3];
    vmax = r;
  endfunction

  logic active;            // walking the grid
  logic primed;            // the row RAM's read data belongs to x
  logic [DW-1:0] y, x;
  logic [OUT_BITS-1:0] up; // row RAM output: pixel (y-1, x)
  logic [OUT_BITS-1:0] ul; // pixel (y-1, x-1)
  logic [OUT_BITS-1:0] lf; // pixel (y, x-1)

  wire in_map = (y < ofm_dim) && (x < ofm_dim);
  wire [DW-1:0] y1 = y - 1'b1;
  wire [DW-1:0] x1 = x - 1'b1;
  wire on_stride = (y != 0) && (x != 0) && (!pool_s || (!y1[0] && !x1[0]));
  wire in_out = ((y1 >> pool_s) < pool_out_dim) && ((x1 >> pool_s) < pool_out_dim);
  wire emit = on_stride && in_out;
  wire [OUT_BITS-1:0] cur = in_map ? cdata : '0;
  wire have_cur = !in_map || cvalid;
  wire step = active && primed && have_cur && (!emit || oready);
  wire last_x = (x == pool_in_dim - 1'b1);
  wire last_y = (y == pool_in_dim - 1'b1);
  wire [DW-1:0] nx = last_x ? '0 : x + 1'b1;

  // the row RAM is read at the next grid column while this one is written
  w1a3_ram #(.W(OUT_BITS), .D(POOL_DEPTH)) rowbuf (
    .clk(clk),
    .we(step), .waddr(PAW'(x)), .wdata(cur),
    .re(1'b1), .raddr(PAW'(step ? nx : x)), .rdata(up)
  );

  always_ff @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      active <= 1'b0; primed <= 1'b0; y <= '0; x <= '0;
    end else if (start) begin
      active <= pool_en; primed <= 1'b0; y <= '0; x <= '0;
    end else if (active) begin
      primed <= 1'b1;
      if (step) begin
        x <= nx;
        if (last_x) begin
          y <= y + 1'b1;
          if (last_y) active <= 1'b0;
        end
      end
    end
  end

  always_ff @(posedge clk) begin
    if (step) begin
      ul <= up;
      lf <= cur;
    end
  end

  always_comb begin
    if (pool_en) begin
      ovalid = active && primed && have_cur && emit;
      odata  = vmax(vmax(ul, up), vmax(lf, cur));
      cpop   = step && in_map;
    end else begin
      ovalid = cvalid;
      odata  = cdata;
      cpop   = cvalid && oready;
    end
  end
endmodule
