#include "reference.h"

#include <algorithm>
#include <cstring>

int get_act(const uint8_t *pixel, int c) {
    int v = 0;
    for (int b = 0; b < 3; b++) {
        int bit = 3 * c + b;
        v |= ((pixel[bit >> 3] >> (bit & 7)) & 1) << b;
    }
    return v;
}

void set_act(uint8_t *pixel, int c, int v) {
    for (int b = 0; b < 3; b++) {
        int bit = 3 * c + b;
        pixel[bit >> 3] = uint8_t((pixel[bit >> 3] & ~(1 << (bit & 7))) | (((v >> b) & 1) << (bit & 7)));
    }
}

std::vector<uint8_t> weight_buffer(const Geometry &g, const PassParams &p, int k, int half) {
    const int n = g.pe / 2, words = g.wmem(k), wbytes = words * g.simd / 8;
    const int tbytes = g.nf_max() * 16;
    std::vector<uint8_t> buf(size_t(n) * (wbytes + tbytes), 0);
    for (int i = 0; i < n; i++) {
        const auto &w = p.w[half * n + i];
        uint8_t *dst = &buf[size_t(i) * wbytes];
        for (int j = 0; j < words && j < int(w.size()); j++)
            for (int s = 0; s < g.simd; s++) {
                int bit = j * g.simd + s;
                if ((w[j] >> s) & 1) dst[bit >> 3] |= uint8_t(1 << (bit & 7));
            }
    }
    for (int i = 0; i < n; i++) {
        const auto &t = p.t[half * n + i];
        uint8_t *dst = &buf[size_t(n) * wbytes + size_t(i) * tbytes];
        for (int j = 0; j < 2 * g.nf_max() && j < int(t.size()); j++)
            memcpy(dst + 8 * j, &t[j], 8);  // little-endian host
    }
    return buf;
}

bool reference_call(const Geometry &g, const Call &c, const PassParams &p, const uint8_t *in,
                    uint8_t *out) {
    const int k = c.k, pad = k / 2, s = 1 << c.stride, chunks = (c.ifm_ch + g.simd - 1) / g.simd;
    const int id = c.ifm_dim, od = c.ofm_dim, ic = c.ifm_ch, pb = g.pix_bytes();
    bool in_range = true;

    // activations and +-1 weights as small integers
    std::vector<int16_t> a(size_t(id) * id * ic);
    for (int i = 0; i < id * id; i++)
        for (int ch = 0; ch < ic; ch++) a[size_t(i) * ic + ch] = int16_t(get_act(in + size_t(i) * pb, ch));

    std::vector<uint8_t> level(size_t(od) * od * c.ofm_ch);
    std::vector<int16_t> w(size_t(k) * k * ic);
    for (int o = 0; o < c.ofm_ch; o++) {
        const int pe = o % g.pe, nm = o / g.pe;
        for (int tap = 0; tap < k * k; tap++)
            for (int ch = 0; ch < ic; ch++) {
                uint64_t word = p.w[pe][size_t(nm * k * k + tap) * chunks + ch / g.simd];
                w[size_t(tap) * ic + ch] = ((word >> (ch % g.simd)) & 1) ? -1 : 1;
            }
        const uint64_t hi = p.t[pe][2 * nm], lo = p.t[pe][2 * nm + 1];
        int thr[7];
        for (int i = 0; i < 7; i++) {
            uint64_t part = i < 4 ? lo >> (16 * i) : hi >> (16 * (i - 4));
            thr[i] = int16_t(uint16_t(part & 0xFFFF));
        }
        const bool invert = (hi >> 48) & 1;
        for (int oy = 0; oy < od; oy++)
            for (int ox = 0; ox < od; ox++) {
                int acc = 0;
                for (int ky = 0; ky < k; ky++)
                    for (int kx = 0; kx < k; kx++) {
                        int iy = oy * s + ky - pad, ix = ox * s + kx - pad;
                        if (iy < 0 || ix < 0 || iy >= id || ix >= id) continue;
                        const int16_t *av = &a[(size_t(iy) * id + ix) * ic];
                        const int16_t *wv = &w[size_t(ky * k + kx) * ic];
                        int sum = 0;
                        for (int ch = 0; ch < ic; ch++) sum += av[ch] * wv[ch];
                        acc += sum;
                    }
                if (acc < -32768 || acc > 32767) in_range = false;
                int lv = 0;
                for (int i = 0; i < 7; i++) lv += acc >= thr[i];
                if (invert) lv ^= 7;
                level[(size_t(oy) * od + ox) * c.ofm_ch + o] = uint8_t(lv);
            }
    }

    const int odim = c.out_dim();
    memset(out, 0, size_t(odim) * odim * pb);
    for (int y = 0; y < odim; y++)
        for (int x = 0; x < odim; x++)
            for (int o = 0; o < c.ofm_ch; o++) {
                int v;
                if (c.type == 2) {
                    // 2x2 window every 2^pool_stride pixels; zeros right/bottom of the map
                    const int ps = 1 << c.pool_stride;
                    v = 0;
                    for (int dy = 0; dy < 2; dy++)
                        for (int dx = 0; dx < 2; dx++) {
                            int yy = y * ps + dy, xx = x * ps + dx;
                            if (yy < od && xx < od)
                                v = std::max<int>(v, level[(size_t(yy) * od + xx) * c.ofm_ch + o]);
                        }
                } else {
                    v = level[(size_t(y) * od + x) * c.ofm_ch + o];
                }
                set_act(out + (size_t(y) * odim + x) * pb, o, v);
            }
    return in_range;
}
