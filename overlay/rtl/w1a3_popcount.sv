// Population count of W bits: 6-input groups (one LUT6 per result bit), then a sum of the
// group counts in a balanced tree. Simulates fast in Verilator; ~2 LUTs per input bit (Yosys).
module w1a3_popcount #(
  parameter int W = 64,
  parameter int OW = $clog2(W + 1)
) (
  input  logic [W-1:0]  x,
  output logic [OW-1:0] y
);
  localparam int G = (W + 5) / 6;
  logic [6*G-1:0] xp;
  logic [OW-1:0] s [G];

  assign xp = {{(6*G-W){1'b0}}, x};

  for (genvar g = 0; g < G; g++) begin : grp
    assign s[g] = OW'(xp[6*g]) + OW'(xp[6*g+1]) + OW'(xp[6*g+2])
                + OW'(xp[6*g+3]) + OW'(xp[6*g+4]) + OW'(xp[6*g+5]);
  end

  // balanced tree of the group counts: ceil(log2(G)) adders deep
  logic [OW-1:0] t [G];
  always_comb begin
    for (int g = 0; g < G; g++) t[g] = s[g];
    for (int step = 1; step < G; step = step * 2)
      for (int g = 0; g + step < G; g = g + 2 * step)
        t[g] = t[g] + t[g + step];
    y = t[0];
  end
endmodule
