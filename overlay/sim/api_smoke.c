/* The C API used from plain C (as pl_driver's co-simulation backend will, through FFI):
 * create a model, touch the register window and the arena, step the clock. */
#include "engine_api.h"

#include <stdio.h>

static int failed = 0;

static void expect(int ok, const char *what) {
    if (!ok) {
        printf("FAIL: api_smoke: %s\n", what);
        failed = 1;
    }
}

int main(void) {
    static uint8_t arena[1 << 16];
    w1a3_geometry g = w1a3_sim_geometry();
    w1a3_sim *s = w1a3_sim_new(arena, 0x60000000ull, sizeof arena);
    expect(s != NULL, "model created");
    if (!s) return 1;
    expect(w1a3_sim_mem(s) == arena && w1a3_sim_mem_phys(s) == 0x60000000ull &&
               w1a3_sim_mem_size(s) == sizeof arena, "caller-owned arena");
    expect(w1a3_reg_read(s, 0x00) == 0x4, "AP_CTRL reads idle after reset");
    w1a3_reg_write(s, 0x64, 208);
    expect(w1a3_reg_read(s, 0x64) == 208, "IFM_DIM holds its value");
    expect(w1a3_reg_read(s, 0x18) == 0, "unlisted offset reads 0");
    uint64_t c0 = w1a3_cycles(s);
    w1a3_step(s, 10);
    expect(w1a3_cycles(s) == c0 + 10, "step advances the clock");
    expect(!w1a3_irq(s) && w1a3_wait_irq(s, 5) == 0, "no interrupt without a call");
    expect(w1a3_sim_error(s) == NULL, "no protocol error");
    w1a3_sim_free(s);
    printf("%s: C API smoke test (PE=%u SIMD=%u)\n", failed ? "FAIL" : "PASS", g.pe, g.simd);
    return failed;
}
