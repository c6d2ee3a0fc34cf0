// Host side of docs/register-map.md for the test bench: the per-PE parameter words, the two
// DO_INIT weight buffers, the activation layout, and a plain reference of the arithmetic
// (independent of the RTL: scalar multiply-accumulate, no popcounts).
#pragma once

#include <cstdint>
#include <vector>

struct Geometry {
    int pe, simd, max_out, max_in;
    int lb_depth, pool_depth;  // capacity limits (engine_api.h)
    int nf_max() const { return max_out / pe; }
    int ch_max() const { return max_in / simd; }
    int pix_bytes() const { return 3 * max_in / 8; }
    // WMEM: weight words of one PE for kernel side k
    int wmem(int k) const { return k * k * nf_max() * ch_max(); }
};

// The registers of one compute call.
struct Call {
    int k = 3, stride = 0;  // stride: log2
    int ifm_ch = 0, ofm_ch = 0, ifm_dim = 0, ofm_dim = 0;
    int type = 1;           // 1 conv, 2 conv + max-pool
    int pool_in = 0, pool_out = 0, pool_stride = 0;
    int out_dim() const { return type == 2 ? pool_out : ofm_dim; }
};

// One pass's parameters as per-PE words: w[pe][(nm*k*k + tap)*chunks + chunk] holds in bit s
// (of its low `simd` bits) the weight of input channel chunk*simd+s (1 = -1); t[pe] holds two
// u64 per fold, high half first: thresholds t_i at bits 16i, invert flag at bit 112.
struct PassParams {
    std::vector<std::vector<uint64_t>> w, t;
};

// Buffer `half` (0: IN1, PEs 0..pe/2-1; 1: IN2) of a DO_INIT call: each PE's WMEM words
// (simd bits each, packed little-endian, zero-padded), then each PE's TMEM entries.
std::vector<uint8_t> weight_buffer(const Geometry &g, const PassParams &p, int k, int half);

int get_act(const uint8_t *pixel, int c);
void set_act(uint8_t *pixel, int c, int v);

// The pass's output (out_dim^2 pixels of pix_bytes, channels >= ofm_ch zero) from its input
// (ifm_dim^2 pixels). Returns false if an accumulator left the 16-bit range.
bool reference_call(const Geometry &g, const Call &c, const PassParams &p, const uint8_t *in,
                    uint8_t *out);
