// Test bench of the W1A3 engine RTL, driven only through engine_api.h (registers, memory,
// interrupt), following the call sequence of docs/register-map.md.
//
//   tb --regs                 register-file behaviour (AP_CTRL, ISR, unlisted offsets, ...)
//   tb --random N [--seed S]  N random passes against the reference model
//   tb --golden DIR           Tinier-YOLO conv1..conv7 on DIR/golden/input.bin, compared with
//                             DIR/golden/verification.bin; prints cycles per call
//   --summary FILE            key=value figures for overlay/report
//   --latency L --no-shared --beat-interval N
//                             DDR model (default: 64-cycle reads, 16 bytes/cycle shared)
// Exit status 1 on any mismatch.
#include "engine_api.h"
#include "reference.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace {

// register offsets (docs/register-map.md)
enum : uint32_t {
    AP_CTRL = 0x00, GIE = 0x04, IER = 0x08, ISR = 0x0C, IN1_LO = 0x10, IN1_HI = 0x14,
    IN2_LO = 0x1C, IN2_HI = 0x20, OUT_LO = 0x28, OUT_HI = 0x2C, DO_INIT = 0x34,
    LAYER_TYPE = 0x3C, KERNEL_DIM = 0x44, STRIDE = 0x4C, IFM_CH = 0x54, OFM_CH = 0x5C,
    IFM_DIM = 0x64, PADDED_DIM = 0x6C, OFM_DIM = 0x74, POOL_IN_DIM = 0x7C, POOL_OUT_DIM = 0x84,
    POOL_STRIDE = 0x8C
};
constexpr uint32_t AP_START = 1, AP_DONE = 2, AP_IDLE = 4, AP_READY = 8;
constexpr uint64_t TIMEOUT = 50'000'000;  // cycles; the largest call takes ~1M

int failures = 0;

void check(bool ok, const char *what) {
    if (!ok) {
        failures++;
        printf("FAIL: %s\n", what);
    }
}

Geometry geometry() {
    w1a3_geometry g = w1a3_sim_geometry();
    return {int(g.pe), int(g.simd), int(g.max_out), int(g.max_in), int(g.lb_depth),
            int(g.pool_depth)};
}

// Page-aligned bump allocation in the model's arena, as the driver's u-dma-buf allocator does.
struct Arena {
    w1a3_sim *sim;
    size_t next = 0;
    size_t alloc(size_t len) {
        size_t off = next;
        next += (len + 4095) / 4096 * 4096;
        if (next > w1a3_sim_mem_size(sim)) {
            fprintf(stderr, "arena too small\n");
            exit(2);
        }
        return off;
    }
    uint8_t *ptr(size_t off) { return w1a3_sim_mem(sim) + off; }
    uint64_t phys(size_t off) { return w1a3_sim_mem_phys(sim) + off; }
};

void write_addr(w1a3_sim *s, uint32_t lo, uint32_t hi, uint64_t a) {
    w1a3_reg_write(s, lo, uint32_t(a));
    w1a3_reg_write(s, hi, uint32_t(a >> 32));
}

// Starts the call and waits for its interrupt; acknowledges it as the driver does. Returns the
// engine's cycles from the start write to the interrupt.
uint64_t run_call(w1a3_sim *s, const char *what) {
    uint32_t ctrl = w1a3_reg_read(s, AP_CTRL);
    check(ctrl & AP_IDLE, "engine idle before start");
    w1a3_reg_write(s, AP_CTRL, AP_START);
    uint64_t t0 = w1a3_cycles(s);
    if (!w1a3_wait_irq(s, TIMEOUT)) {
        printf("FAIL: %s: no interrupt within %" PRIu64 " cycles\n", what, TIMEOUT);
        failures++;
        return 0;
    }
    uint64_t cycles = w1a3_cycles(s) - t0;
    ctrl = w1a3_reg_read(s, AP_CTRL);
    check(ctrl & AP_DONE, "ap_done set after the interrupt");
    uint32_t isr = w1a3_reg_read(s, ISR);
    check(isr & 1, "ISR bit 0 set after the interrupt");
    w1a3_reg_write(s, ISR, isr);
    w1a3_step(s, 2);
    check(!w1a3_irq(s), "interrupt cleared by the ISR write");
    if (const char *e = w1a3_sim_error(s)) {
        printf("FAIL: %s: memory model: %s\n", what, e);
        failures++;
    }
    return cycles;
}

// The doc's "load the parameters of one pass".
uint64_t load_pass(w1a3_sim *s, Arena &ar, size_t b1, size_t b2, const Geometry &g,
                   const PassParams &p, int k) {
    for (int half = 0; half < 2; half++) {
        auto buf = weight_buffer(g, p, k, half);
        memcpy(ar.ptr(half ? b2 : b1), buf.data(), buf.size());
    }
    write_addr(s, IN1_LO, IN1_HI, ar.phys(b1));
    write_addr(s, IN2_LO, IN2_HI, ar.phys(b2));
    w1a3_reg_write(s, DO_INIT, 1);
    w1a3_reg_write(s, LAYER_TYPE, 1);
    w1a3_reg_write(s, KERNEL_DIM, uint32_t(k));
    return run_call(s, "init");
}

// The doc's "compute one pass".
uint64_t compute(w1a3_sim *s, uint64_t in, uint64_t out, const Call &c) {
    w1a3_reg_write(s, DO_INIT, 0);
    write_addr(s, IN1_LO, IN1_HI, in);
    write_addr(s, OUT_LO, OUT_HI, out);
    w1a3_reg_write(s, LAYER_TYPE, uint32_t(c.type));
    w1a3_reg_write(s, KERNEL_DIM, uint32_t(c.k));
    w1a3_reg_write(s, STRIDE, uint32_t(c.stride));
    w1a3_reg_write(s, IFM_CH, uint32_t(c.ifm_ch));
    w1a3_reg_write(s, OFM_CH, uint32_t(c.ofm_ch));
    w1a3_reg_write(s, IFM_DIM, uint32_t(c.ifm_dim));
    w1a3_reg_write(s, PADDED_DIM, uint32_t(c.ifm_dim + 2 * (c.k / 2)));
    w1a3_reg_write(s, OFM_DIM, uint32_t(c.ofm_dim));
    w1a3_reg_write(s, POOL_IN_DIM, uint32_t(c.pool_in));
    w1a3_reg_write(s, POOL_OUT_DIM, uint32_t(c.pool_out));
    w1a3_reg_write(s, POOL_STRIDE, uint32_t(c.pool_stride));
    return run_call(s, "compute");
}

size_t buffer_bytes(const Geometry &g, int k) {
    return size_t(g.pe / 2) * (size_t(g.wmem(k)) * g.simd / 8 + size_t(g.nf_max()) * 16);
}

// ---------------------------------------------------------------------- register file
void test_regs() {
    w1a3_sim *s = w1a3_sim_new(nullptr, 0x4000'0000, 1 << 20);
    const uint32_t cfg[] = {IN1_LO, IN1_HI, IN2_LO, IN2_HI, OUT_LO, OUT_HI, DO_INIT, LAYER_TYPE,
                            KERNEL_DIM, STRIDE, IFM_CH, OFM_CH, IFM_DIM, PADDED_DIM, OFM_DIM,
                            POOL_IN_DIM, POOL_OUT_DIM, POOL_STRIDE};
    int bad = 0;
    for (uint32_t off : cfg) w1a3_reg_write(s, off, 0xA5000000u ^ (off * 0x01010101u));
    for (uint32_t off : cfg) bad += w1a3_reg_read(s, off) != (0xA5000000u ^ (off * 0x01010101u));
    check(bad == 0, "registers hold the written values");
    for (uint32_t off : {0x18u, 0x24u, 0x30u, 0x38u, 0x90u, 0x100u, 0xFFFCu}) {
        w1a3_reg_write(s, off, 0xFFFFFFFFu);
        bad += w1a3_reg_read(s, off) != 0;
    }
    check(bad == 0, "unlisted offsets read 0");
    uint32_t ctrl = w1a3_reg_read(s, AP_CTRL);
    check(ctrl == AP_IDLE, "AP_CTRL after reset is idle only");
    w1a3_reg_write(s, GIE, 1);
    w1a3_reg_write(s, IER, 3);
    check(w1a3_reg_read(s, GIE) == 1 && w1a3_reg_read(s, IER) == 3, "GIE and IER read back");
    w1a3_reg_write(s, ISR, 1);  // toggle-on-write: sets a bit that was clear
    w1a3_step(s, 2);
    check(w1a3_reg_read(s, ISR) == 1 && w1a3_irq(s), "ISR toggles on write and drives the interrupt");
    w1a3_reg_write(s, ISR, 1);
    w1a3_step(s, 2);
    check(w1a3_reg_read(s, ISR) == 0 && !w1a3_irq(s), "ISR toggles back");

    // a minimal call (1x1 map, K=1), polled: done is clear-on-read, start self-clearing
    Geometry g = geometry();
    Arena ar{s};
    size_t b1 = ar.alloc(buffer_bytes(g, 1)), b2 = ar.alloc(buffer_bytes(g, 1));
    size_t in = ar.alloc(4096), out = ar.alloc(4096);
    PassParams p;
    p.w.assign(g.pe, std::vector<uint64_t>(g.wmem(1), 0));
    p.t.assign(g.pe, std::vector<uint64_t>(2 * g.nf_max(), 0));
    w1a3_reg_write(s, IER, 0);  // polling from here on
    for (int half = 0; half < 2; half++) {
        auto buf = weight_buffer(g, p, 1, half);
        memcpy(ar.ptr(half ? b2 : b1), buf.data(), buf.size());
    }
    write_addr(s, IN1_LO, IN1_HI, ar.phys(b1));
    write_addr(s, IN2_LO, IN2_HI, ar.phys(b2));
    w1a3_reg_write(s, DO_INIT, 1);
    w1a3_reg_write(s, KERNEL_DIM, 1);
    w1a3_reg_write(s, AP_CTRL, AP_START);
    ctrl = w1a3_reg_read(s, AP_CTRL);
    check(!(ctrl & AP_IDLE) && !(ctrl & AP_START), "running: not idle, start taken");
    uint32_t seen = 0;
    for (int i = 0; i < 100000 && !(seen & AP_DONE); i++) seen = w1a3_reg_read(s, AP_CTRL);
    check((seen & (AP_DONE | AP_READY | AP_IDLE)) == (AP_DONE | AP_READY | AP_IDLE),
          "polled AP_CTRL shows done, ready and idle");
    check((w1a3_reg_read(s, AP_CTRL) & (AP_DONE | AP_READY)) == 0, "done and ready clear on read");
    check(w1a3_reg_read(s, ISR) == 0 && !w1a3_irq(s), "no interrupt while IER is 0");
    // thresholds all 0 and acc 0: every level is 7; this checks a compute call end to end
    Call c;
    c.k = 1; c.ifm_ch = 3; c.ofm_ch = g.pe; c.ifm_dim = 1; c.ofm_dim = 1;
    w1a3_reg_write(s, GIE, 1);
    w1a3_reg_write(s, IER, 1);
    memset(ar.ptr(out), 0xEE, 4096);
    compute(s, ar.phys(in), ar.phys(out), c);
    bool ok = true;
    for (int ch = 0; ch < g.max_in; ch++) ok &= get_act(ar.ptr(out), ch) == (ch < g.pe ? 7 : 0);
    ok &= ar.ptr(out)[g.pix_bytes()] == 0xEE;
    check(ok, "1x1 call writes one pixel of levels 7 and nothing more");
    // auto-restart: the engine starts itself again after each call until the bit is cleared
    w1a3_reg_write(s, IER, 0);
    w1a3_reg_write(s, AP_CTRL, AP_START | 0x80);
    int dones = 0;
    for (int i = 0; i < 200000 && dones < 3; i++)
        if (w1a3_reg_read(s, AP_CTRL) & AP_DONE) dones++;
    w1a3_reg_write(s, AP_CTRL, 0);
    uint32_t last = 0;
    for (int i = 0; i < 100000 && !(last & AP_IDLE); i++) last = w1a3_reg_read(s, AP_CTRL);
    w1a3_step(s, 1000);
    ctrl = w1a3_reg_read(s, AP_CTRL);
    check(dones == 3 && (ctrl & AP_IDLE) && !(ctrl & AP_START) && !(w1a3_reg_read(s, AP_CTRL) & AP_DONE),
          "auto-restart repeats calls and stops when cleared");
    if (const char *e = w1a3_sim_error(s)) {
        printf("FAIL: memory model: %s\n", e);
        failures++;
    }
    printf("%s: register file and call hand-shake\n", failures ? "FAIL" : "PASS");
    w1a3_sim_free(s);
}

// ---------------------------------------------------------------------- random passes
PassParams random_params(std::mt19937_64 &rng, const Geometry &g, const Call &c) {
    PassParams p;
    const int chunks = (c.ifm_ch + g.simd - 1) / g.simd, nf = c.ofm_ch / g.pe;
    const uint64_t mask = g.simd == 64 ? ~0ull : (1ull << g.simd) - 1;
    // acc spread: roughly sqrt(k*k*ifm_ch) * 3.5 * 2
    const int spread = int(7.0 * std::sqrt(double(c.k * c.k * c.ifm_ch))) + 4;
    p.w.assign(g.pe, {});
    p.t.assign(g.pe, {});
    for (int pe = 0; pe < g.pe; pe++) {
        // only the pass's words, as in the released per-PE files; bits beyond IFM_CH are junk
        // on purpose: they multiply channels that the engine must treat as zero
        for (int i = 0; i < nf * c.k * c.k * chunks; i++) p.w[pe].push_back(rng() & mask);
        for (int nm = 0; nm < nf; nm++) {
            std::vector<int> t(7);
            int base = int(rng() % (2 * spread + 1)) - spread;
            for (int i = 0; i < 7; i++) t[i] = base + int(rng() % (spread / 2 + 1)) - spread / 4;
            if (rng() % 4) std::sort(t.begin(), t.end());  // mostly ascending, sometimes not
            if (rng() % 16 == 0) t[rng() % 7] = (rng() & 1) ? 32767 : -32768;
            uint64_t lo = 0, hi = 0;
            for (int i = 0; i < 4; i++) lo |= uint64_t(uint16_t(t[i])) << (16 * i);
            for (int i = 4; i < 7; i++) hi |= uint64_t(uint16_t(t[i])) << (16 * (i - 4));
            if (rng() & 1) hi |= 1ull << 48;
            p.t[pe].push_back(hi);
            p.t[pe].push_back(lo);
        }
    }
    return p;
}

Call random_call(std::mt19937_64 &rng, const Geometry &g, int idx) {
    Call c;
    const int chs[] = {1, 3, g.simd / 4, g.simd, g.simd + 6, 2 * g.simd, g.max_in / 2 + 5,
                       g.max_in};
    c.k = (rng() % 4) ? 3 : 1;
    c.stride = (rng() % 6 == 0) ? 1 : 0;
    c.ifm_ch = chs[rng() % 8];
    if (rng() % 3 == 0) c.ifm_ch = 1 + int(rng() % g.max_in);
    c.ofm_ch = g.pe * (1 + int(rng() % g.nf_max()));
    c.ifm_dim = 1 + int(rng() % 9);
    if (idx % 5 == 4) c.ifm_dim = 10 + int(rng() % 12);  // more rows than the line buffer
    int chunks = (c.ifm_ch + g.simd - 1) / g.simd;
    if (c.ifm_dim > 9 && chunks * c.ofm_ch / g.pe > 8) c.ifm_ch = 1 + int(rng() % g.simd);
    // the line buffer holds four rows
    while (4 * c.ifm_dim * ((c.ifm_ch + g.simd - 1) / g.simd) > g.lb_depth) c.ifm_ch -= g.simd;
    c.ofm_dim = c.stride ? (c.ifm_dim + 1) / 2 : c.ifm_dim;
    c.type = (rng() % 2) ? 2 : 1;
    if (c.type == 2) {
        int mode = int(rng() % 3);
        if (mode == 0 || c.ofm_dim < 2) {  // stride 2, padded when odd
            c.pool_stride = 1;
            c.pool_in = c.ofm_dim + (c.ofm_dim & 1);
            c.pool_out = c.pool_in / 2;
        } else if (mode == 1) {            // stride 1, padded right and bottom (conv5)
            c.pool_stride = 0;
            c.pool_in = c.ofm_dim + 1;
            c.pool_out = c.ofm_dim;
        } else {                           // stride 1, no padding
            c.pool_stride = 0;
            c.pool_in = c.ofm_dim;
            c.pool_out = c.ofm_dim - 1;
        }
    } else {
        c.pool_in = c.pool_out = c.ofm_dim;
    }
    return c;
}

void describe(char *buf, size_t n, const Call &c) {
    snprintf(buf, n, "K=%d S=%d IFM_CH=%d OFM_CH=%d IFM_DIM=%d OFM_DIM=%d type=%d pool %d/%d/%d",
             c.k, 1 << c.stride, c.ifm_ch, c.ofm_ch, c.ifm_dim, c.ofm_dim, c.type, c.pool_in,
             c.pool_out, c.pool_stride);
}

// One init + compute with `c` and random data on model `s`; compares the whole output buffer
// (including the zero channels) with the reference and checks nothing beyond it was written.
bool run_random(w1a3_sim *s, Arena &ar, std::mt19937_64 &rng, const Geometry &g, const Call &c,
                bool dirty_input, uint64_t *cycles) {
    const int pb = g.pix_bytes();
    PassParams p = random_params(rng, g, c);
    size_t mark = ar.next;
    size_t b1 = ar.alloc(buffer_bytes(g, c.k)), b2 = ar.alloc(buffer_bytes(g, c.k));
    size_t in_bytes = size_t(c.ifm_dim) * c.ifm_dim * pb;
    size_t out_bytes = size_t(c.out_dim()) * c.out_dim() * pb;
    size_t in = ar.alloc(in_bytes), out = ar.alloc(out_bytes + 4096);
    uint8_t *ip = ar.ptr(in);
    memset(ip, 0, in_bytes);
    for (int i = 0; i < c.ifm_dim * c.ifm_dim; i++)
        for (int ch = 0; ch < g.max_in; ch++)
            if (ch < c.ifm_ch || dirty_input) set_act(ip + size_t(i) * pb, ch, int(rng() % 8));
    memset(ar.ptr(out), 0x5A, out_bytes + 4096);

    uint64_t ci = load_pass(s, ar, b1, b2, g, p, c.k);
    uint64_t cc = compute(s, ar.phys(in), ar.phys(out), c);
    *cycles = ci + cc;

    std::vector<uint8_t> ref(out_bytes);
    bool in_range = reference_call(g, c, p, ip, ref.data());
    bool same = memcmp(ref.data(), ar.ptr(out), out_bytes) == 0;
    bool guard = true;
    for (size_t i = 0; i < 4096; i++) guard &= ar.ptr(out)[out_bytes + i] == 0x5A;
    if (!guard) printf("  bytes after the output buffer were written\n");
    bool ok = same && guard;
    if (!same) {
        for (int px = 0; px < c.out_dim() * c.out_dim(); px++)
            for (int ch = 0; ch < g.max_in; ch++) {
                int e = get_act(&ref[size_t(px) * pb], ch), a = get_act(ar.ptr(out) + size_t(px) * pb, ch);
                if (e != a) {
                    printf("  first mismatch: pixel %d channel %d: engine %d, reference %d\n", px, ch, a, e);
                    px = 1 << 30;
                    break;
                }
            }
    }
    if (!in_range) printf("  note: accumulator outside 16 bits in the reference\n");
    ar.next = mark;
    return ok;
}

void test_random(int n, uint64_t seed) {
    Geometry g = geometry();
    // a high physical base exercises the *_HI address registers
    w1a3_sim *s = w1a3_sim_new(nullptr, 0x8'0000'0000ull, 64 << 20);
    Arena ar{s};
    w1a3_reg_write(s, GIE, 1);
    w1a3_reg_write(s, IER, 1);
    std::mt19937_64 rng(seed);
    int bad = 0;
    // fixed corner cases first, then random ones
    std::vector<Call> calls;
    {
        Call c;  // the conv5 shape at reduced size: stride-1 pool padded right/bottom
        c.k = 3; c.ifm_ch = g.max_in / 2; c.ofm_ch = g.max_out; c.ifm_dim = 5; c.ofm_dim = 5;
        c.type = 2; c.pool_in = 6; c.pool_out = 5; c.pool_stride = 0;
        calls.push_back(c);
        Call d;  // conv1-like: few channels, stride-2 pool, many rows
        d.k = 3; d.ifm_ch = 16 * g.simd / 64 + 1; d.ofm_ch = 2 * g.pe; d.ifm_dim = 24; d.ofm_dim = 24;
        d.type = 2; d.pool_in = 24; d.pool_out = 12; d.pool_stride = 1;
        calls.push_back(d);
        Call e;  // one token per pixel: the writer and the pool set the pace
        e.k = 1; e.ifm_ch = g.simd; e.ofm_ch = g.pe; e.ifm_dim = 40; e.ofm_dim = 40;
        e.type = 1; e.pool_in = e.pool_out = 40;
        calls.push_back(e);
        Call f = e;  // all input channels, full pass, K=3, 1x1 map (only the centre tap)
        f.k = 3; f.ifm_ch = g.max_in; f.ofm_ch = g.max_out; f.ifm_dim = f.ofm_dim = 1;
        f.pool_in = f.pool_out = 1;
        calls.push_back(f);
    }
    for (int i = 0; i < n; i++) calls.push_back(random_call(rng, g, i));
    for (size_t i = 0; i < calls.size(); i++) {
        const Call &c = calls[i];
        bool dirty = (i % 3) == 2;
        // vary the DDR model so that rows arrive late and the writer meets back-pressure
        const uint32_t lat[] = {64, 5, 300, 64}, gap[] = {1, 1, 3, 7};
        w1a3_sim_set_memory_model(s, lat[i % 4], (i % 8) < 4, gap[i % 4]);
        uint64_t cyc = 0;
        bool ok = run_random(s, ar, rng, g, c, dirty, &cyc);
        char d[200];
        describe(d, sizeof d, c);
        printf("%s: random %2zu: %s%s, DDR %u/%u%s (%" PRIu64 " cycles)\n", ok ? "PASS" : "FAIL",
               i, d, dirty ? ", junk>=IFM_CH" : "", lat[i % 4], gap[i % 4],
               (i % 8) < 4 ? "" : " split", cyc);
        bad += !ok;
    }
    failures += bad;
    if (const char *e = w1a3_sim_error(s)) {
        printf("FAIL: memory model: %s\n", e);
        failures++;
    }
    w1a3_traffic t = w1a3_sim_traffic(s);
    printf("%s: %zu random passes (PE=%d SIMD=%d), %d mismatches; AXI %" PRIu64 " read / %" PRIu64
           " write beats\n", bad ? "FAIL" : "PASS", calls.size(), g.pe, g.simd, bad, t.read_beats,
           t.write_beats);
    w1a3_sim_free(s);
}

// ---------------------------------------------------------------------- golden
std::vector<uint8_t> read_file(const std::string &path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) {
        fprintf(stderr, "cannot read %s\n", path.c_str());
        exit(2);
    }
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

std::vector<uint64_t> read_words(const std::string &path) {
    auto b = read_file(path);
    std::vector<uint64_t> w(b.size() / 8);
    memcpy(w.data(), b.data(), w.size() * 8);
    return w;
}

struct GoldenLayer {
    const char *name;
    int ifm_ch, ofm_ch, ifm_dim, type, pool_in, pool_out, pool_stride;  // ofm_ch: per pass
    std::vector<int> passes;  // binparam layer numbers
};

void test_golden(const std::string &dir, uint32_t latency, bool shared, uint32_t interval,
                 const char *summary) {
    Geometry g = geometry();
    if (g.pe != 32 || g.simd != 64 || g.max_out != 256 || g.max_in != 512) {
        printf("FAIL: the golden test needs the full engine geometry (32 PEs x 64 lanes)\n");
        failures++;
        return;
    }
    const std::vector<GoldenLayer> net = {
        {"conv1", 16, 64, 208, 2, 208, 104, 1, {1}},
        {"conv2", 64, 64, 104, 2, 104, 52, 1, {2}},
        {"conv3", 64, 128, 52, 2, 52, 26, 1, {3}},
        {"conv4", 128, 256, 26, 2, 26, 13, 1, {4}},
        {"conv5", 256, 256, 13, 2, 14, 13, 0, {5, 6}},
        {"conv6", 512, 256, 13, 1, 13, 13, 0, {7, 8}},
        {"conv7", 512, 256, 13, 1, 13, 13, 0, {9, 10}},
    };
    const int pb = g.pix_bytes();
    w1a3_sim *s = w1a3_sim_new(nullptr, 0x7000'0000ull, 64 << 20);
    w1a3_sim_set_memory_model(s, latency, shared, interval);
    Arena ar{s};
    size_t b1 = ar.alloc(buffer_bytes(g, 3)), b2 = ar.alloc(buffer_bytes(g, 3));
    size_t act[2] = {ar.alloc(208 * 208 * pb), ar.alloc(208 * 208 * pb)};
    size_t passbuf[2] = {ar.alloc(104 * 104 * pb), ar.alloc(104 * 104 * pb)};
    w1a3_reg_write(s, GIE, 1);
    w1a3_reg_write(s, IER, 1);

    // conv1's input: 8 bytes per pixel in the file, 192 in the engine's layout
    auto input = read_file(dir + "/golden/input.bin");
    auto expect = read_file(dir + "/golden/verification.bin");
    if (input.size() != 208 * 208 * 8 || expect.size() != size_t(13 * 13 * pb)) {
        printf("FAIL: unexpected golden file sizes\n");
        failures++;
        return;
    }
    memset(ar.ptr(act[0]), 0, 208 * 208 * pb);
    for (int i = 0; i < 208 * 208; i++) memcpy(ar.ptr(act[0]) + size_t(i) * pb, &input[size_t(i) * 8], 8);

    int cur = 0, call_no = 0, ref_bad = 0;
    uint64_t total_init = 0, total_compute = 0;
    FILE *sum = summary ? fopen(summary, "w") : nullptr;
    w1a3_traffic t0 = w1a3_sim_traffic(s);
    for (const auto &L : net) {
        Call c;
        c.k = 3; c.ifm_ch = L.ifm_ch; c.ofm_ch = L.ofm_ch;
        c.ifm_dim = c.ofm_dim = L.ifm_dim; c.type = L.type;
        c.pool_in = L.pool_in; c.pool_out = L.pool_out; c.pool_stride = L.pool_stride;
        const int od = c.out_dim();
        uint64_t layer_init = 0, layer_compute = 0;
        for (size_t pi = 0; pi < L.passes.size(); pi++) {
            int l = L.passes[pi];
            PassParams p;
            for (int pe = 0; pe < 32; pe++) {
                char f[64];
                snprintf(f, sizeof f, "/binparam/%d-%d-weights.bin", l, pe);
                p.w.push_back(read_words(dir + f));
                snprintf(f, sizeof f, "/binparam/%d-%d-thres.bin", l, pe);
                p.t.push_back(read_words(dir + f));
            }
            call_no++;
            uint64_t ci = load_pass(s, ar, b1, b2, g, p, 3);
            uint64_t cc = compute(s, ar.phys(act[cur]), ar.phys(passbuf[pi]), c);
            // the reference on the engine's own input pins a mismatch to one call
            std::vector<uint8_t> ref(size_t(od) * od * pb);
            reference_call(g, c, p, ar.ptr(act[cur]), ref.data());
            bool same = memcmp(ref.data(), ar.ptr(passbuf[pi]), ref.size()) == 0;
            ref_bad += !same;
            printf("golden: call %2d %s pass %zu: init %7" PRIu64 " cycles, compute %8" PRIu64
                   " cycles, output %s the reference\n", call_no, L.name, pi, ci, cc,
                   same ? "equals" : "DIFFERS FROM");
            if (sum) fprintf(sum, "call.%d.%s.%zu init=%" PRIu64 " compute=%" PRIu64 "\n", call_no, L.name, pi, ci, cc);
            layer_init += ci;
            layer_compute += cc;
        }
        // host side: concatenate the passes (pass p holds channels 256p..256p+255)
        uint8_t *dst = ar.ptr(act[cur ^ 1]);
        memset(dst, 0, size_t(od) * od * pb);
        for (int i = 0; i < od * od; i++)
            for (size_t pi = 0; pi < L.passes.size(); pi++)
                memcpy(dst + size_t(i) * pb + 96 * pi, ar.ptr(passbuf[pi]) + size_t(i) * pb, 96);
        cur ^= 1;
        if (sum) fprintf(sum, "layer.%s init=%" PRIu64 " compute=%" PRIu64 "\n", L.name, layer_init, layer_compute);
        total_init += layer_init;
        total_compute += layer_compute;
    }
    w1a3_traffic t1 = w1a3_sim_traffic(s);
    bool match = memcmp(ar.ptr(act[cur]), expect.data(), expect.size()) == 0;
    int diff = 0;
    for (size_t i = 0; i < expect.size(); i++) diff += ar.ptr(act[cur])[i] != expect[i];
    uint64_t frame = total_init + total_compute;
    printf("golden: conv1..conv7 (10 passes): weights %" PRIu64 " + compute %" PRIu64
           " = %" PRIu64 " cycles per frame = %.1f fps at 250 MHz (DDR model: %u-cycle reads, "
           "16 B every %u cycle(s)%s)\n",
           total_init, total_compute, frame, 250e6 / double(frame), latency, interval,
           shared ? " shared by reads and writes" : " each way");
    printf("golden: AXI traffic per frame: %" PRIu64 " read beats, %" PRIu64 " write beats (%.1f MB)\n",
           t1.read_beats - t0.read_beats, t1.write_beats - t0.write_beats,
           double(t1.read_beats - t0.read_beats + t1.write_beats - t0.write_beats) * 16 / 1e6);
    if (sum) {
        fprintf(sum, "frame init=%" PRIu64 " compute=%" PRIu64 " total=%" PRIu64 "\n", total_init, total_compute, frame);
        fprintf(sum, "traffic read_beats=%" PRIu64 " write_beats=%" PRIu64 "\n", t1.read_beats - t0.read_beats, t1.write_beats - t0.write_beats);
        fprintf(sum, "ddr latency=%u shared=%d interval=%u\n", latency, shared ? 1 : 0, interval);
        fprintf(sum, "golden %s\n", match ? "PASS" : "FAIL");
    }
    if (sum) fclose(sum);
    if (const char *e = w1a3_sim_error(s)) {
        printf("FAIL: memory model: %s\n", e);
        failures++;
    }
    printf("%s: golden conv7 output vs verification.bin: %s (%zu bytes, %d differ)\n",
           match ? "PASS" : "FAIL", match ? "bit-exact" : "MISMATCH", expect.size(), diff);
    failures += !match;
    failures += ref_bad;
    w1a3_sim_free(s);
}

}  // namespace

int main(int argc, char **argv) {
    bool regs = false;
    int random_n = -1;
    uint64_t seed = 1;
    std::string golden;
    const char *summary = nullptr;
    uint32_t latency = 64;
    bool shared = true;
    uint32_t interval = 1;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        if (a == "--regs") regs = true;
        else if (a == "--random" && i + 1 < argc) random_n = atoi(argv[++i]);
        else if (a == "--seed" && i + 1 < argc) seed = strtoull(argv[++i], nullptr, 0);
        else if (a == "--golden" && i + 1 < argc) golden = argv[++i];
        else if (a == "--summary" && i + 1 < argc) summary = argv[++i];
        else if (a == "--latency" && i + 1 < argc) latency = uint32_t(atoi(argv[++i]));
        else if (a == "--no-shared") shared = false;
        else if (a == "--beat-interval" && i + 1 < argc) interval = uint32_t(atoi(argv[++i]));
        else {
            fprintf(stderr, "usage: %s [--regs] [--random N] [--seed S] [--golden DIR] "
                            "[--summary FILE] [--latency L] [--no-shared] [--beat-interval N]\n", argv[0]);
            return 2;
        }
    }
    Geometry g = geometry();
    printf("engine model: PE=%d SIMD=%d MAX_OUT=%d MAX_IN=%d, line buffer %d chunks, pool rows %d\n",
           g.pe, g.simd, g.max_out, g.max_in, g.lb_depth, g.pool_depth);
    if (regs) test_regs();
    if (random_n >= 0) test_random(random_n, seed);
    if (!golden.empty()) test_golden(golden, latency, shared, interval, summary);
    printf("%s (%d failures)\n", failures ? "FAIL" : "PASS", failures);
    return failures ? 1 : 0;
}
