// The Verilator model behind engine_api.h: clocking, an AXI4-Lite master for the register
// window and an AXI4 slave memory model (a byte arena addressed by physical address) for the
// engine's m_axi_gmem port.
#include "engine_api.h"

#include "Vengine.h"
#include "verilated.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <string>

#ifndef W1A3_PE
#error "build with -DW1A3_PE=... (the RTL parameters, see the Makefile)"
#endif

namespace {

struct Burst {
    uint64_t addr;
    uint32_t beats;
    uint32_t done;    // beats transferred
    uint64_t ready;   // cycle from which data may move
};

}  // namespace

struct w1a3_sim {
    std::unique_ptr<VerilatedContext> ctx;
    std::unique_ptr<Vengine> top;
    uint8_t *mem = nullptr;
    bool own_mem = false;
    uint64_t phys = 0;
    size_t size = 0;
    uint64_t cycle = 0;
    uint32_t latency = 64;
    bool shared = true;
    uint32_t interval = 1;      // data beats move on every interval-th cycle
    bool prefer_write = false;  // round-robin between R and W under shared bandwidth
    std::deque<Burst> ar, aw, b;
    w1a3_traffic traffic{};
    std::string error;

    // AXI-Lite master state
    bool l_aw = false, l_w = false, l_ar = false, l_b = false, l_r = false;
    uint32_t l_addr = 0, l_wdata = 0, l_rdata = 0;

    void fail(const std::string &msg) {
        if (error.empty()) error = msg;
    }

    uint8_t *at(uint64_t addr, size_t len) {
        if (addr < phys || addr - phys + len > size) return nullptr;
        return mem + (addr - phys);
    }

    bool check_burst(const char *kind, uint64_t addr, uint32_t len, uint32_t size_code,
                     uint32_t burst) {
        char buf[200];
        uint32_t bytes = (len + 1) * 16;
        if (size_code != 4 || burst != 1) {
            snprintf(buf, sizeof buf, "%s burst at %#llx: size %u burst %u (want 16-byte INCR)",
                     kind, (unsigned long long)addr, size_code, burst);
            fail(buf);
            return false;
        }
        if ((addr & 15) != 0 || (addr & 4095) + bytes > 4096) {
            snprintf(buf, sizeof buf, "%s burst at %#llx of %u beats is unaligned or crosses 4 KiB",
                     kind, (unsigned long long)addr, len + 1);
            fail(buf);
            return false;
        }
        if (!at(addr, bytes)) {
            snprintf(buf, sizeof buf, "%s burst at %#llx of %u bytes is outside the arena", kind,
                     (unsigned long long)addr, bytes);
            fail(buf);
            return false;
        }
        return true;
    }

    void tick() {
        Vengine &t = *top;
        // ---- drive the slave side from the model state
        bool slot = (cycle % interval) == 0;
        bool r_can = slot && !ar.empty() && ar.front().ready <= cycle;
        bool w_can = slot && !aw.empty();
        bool r_go = r_can, w_go = w_can;
        if (shared && r_can && w_can) {
            r_go = !prefer_write;
            w_go = prefer_write;
        }
        t.m_axi_gmem_arready = ar.size() < 16;
        t.m_axi_gmem_awready = aw.size() < 16;
        t.m_axi_gmem_rvalid = r_go;
        t.m_axi_gmem_rlast = 0;
        if (r_go) {
            Burst &f = ar.front();
            const uint8_t *p = at(f.addr + 16ull * f.done, 16);
            for (int i = 0; i < 4; i++) {
                uint32_t v = 0;
                if (p) memcpy(&v, p + 4 * i, 4);
                t.m_axi_gmem_rdata[i] = v;
            }
            t.m_axi_gmem_rlast = (f.done + 1 == f.beats);
        }
        t.m_axi_gmem_rresp = 0;
        t.m_axi_gmem_wready = w_go;
        t.m_axi_gmem_bvalid = !b.empty() && b.front().ready <= cycle;
        t.m_axi_gmem_bresp = 0;

        t.s_axi_control_awvalid = l_aw;
        t.s_axi_control_awaddr = l_addr;
        t.s_axi_control_wvalid = l_w;
        t.s_axi_control_wdata = l_wdata;
        t.s_axi_control_wstrb = 0xF;
        t.s_axi_control_bready = 1;
        t.s_axi_control_arvalid = l_ar;
        t.s_axi_control_araddr = l_addr;
        t.s_axi_control_rready = 1;

        t.ap_clk = 0;
        t.eval();

        // ---- hand-shakes as the rising edge will see them
        bool ar_hs = t.m_axi_gmem_arvalid && t.m_axi_gmem_arready;
        bool aw_hs = t.m_axi_gmem_awvalid && t.m_axi_gmem_awready;
        bool r_hs = t.m_axi_gmem_rvalid && t.m_axi_gmem_rready;
        bool w_hs = t.m_axi_gmem_wvalid && t.m_axi_gmem_wready;
        bool b_hs = t.m_axi_gmem_bvalid && t.m_axi_gmem_bready;
        uint64_t araddr = t.m_axi_gmem_araddr, awaddr = t.m_axi_gmem_awaddr;
        uint32_t arlen = t.m_axi_gmem_arlen, awlen = t.m_axi_gmem_awlen;
        uint32_t arsize = t.m_axi_gmem_arsize, awsize = t.m_axi_gmem_awsize;
        uint32_t arburst = t.m_axi_gmem_arburst, awburst = t.m_axi_gmem_awburst;
        uint32_t wdata[4];
        for (int i = 0; i < 4; i++) wdata[i] = t.m_axi_gmem_wdata[i];
        uint32_t wstrb = t.m_axi_gmem_wstrb;
        bool wlast = t.m_axi_gmem_wlast;
        bool l_aw_hs = l_aw && t.s_axi_control_awready;
        bool l_w_hs = l_w && t.s_axi_control_wready;
        bool l_b_hs = t.s_axi_control_bvalid;
        bool l_ar_hs = l_ar && t.s_axi_control_arready;
        bool l_r_hs = t.s_axi_control_rvalid;
        uint32_t l_rd = t.s_axi_control_rdata;

        t.ap_clk = 1;
        t.eval();
        cycle++;

        // ---- update the model
        if (ar_hs) {
            check_burst("read", araddr, arlen, arsize, arburst);
            ar.push_back({araddr, arlen + 1, 0, cycle + latency});
            traffic.read_bursts++;
        }
        if (r_hs) {
            traffic.read_beats++;
            if (++ar.front().done == ar.front().beats) ar.pop_front();
        }
        if (aw_hs) {
            check_burst("write", awaddr, awlen, awsize, awburst);
            aw.push_back({awaddr, awlen + 1, 0, 0});
            traffic.write_bursts++;
        }
        if (w_hs) {
            Burst &f = aw.front();
            uint8_t *p = at(f.addr + 16ull * f.done, 16);
            const uint8_t *src = reinterpret_cast<const uint8_t *>(wdata);
            for (int i = 0; i < 16; i++)
                if (p && ((wstrb >> i) & 1)) p[i] = src[i];
            traffic.write_beats++;
            bool last = (++f.done == f.beats);
            if (wlast != last) fail("WLAST does not mark the last beat of a write burst");
            if (last) {
                b.push_back({0, 0, 0, cycle + 4});
                aw.pop_front();
            }
        }
        if (b_hs) b.pop_front();
        if (shared && r_can && w_can) prefer_write = !prefer_write;

        if (l_aw_hs) l_aw = false;
        if (l_w_hs) l_w = false;
        if (l_b_hs) l_b = true;
        if (l_ar_hs) l_ar = false;
        if (l_r_hs) {
            l_r = true;
            l_rdata = l_rd;
        }
    }
};

extern "C" {

w1a3_geometry w1a3_sim_geometry(void) {
    return {W1A3_PE, W1A3_SIMD, W1A3_MAX_OUT, W1A3_MAX_IN, W1A3_LB_DEPTH, W1A3_POOL_DEPTH};
}

w1a3_sim *w1a3_sim_new(uint8_t *mem, uint64_t mem_phys, size_t mem_bytes) {
    auto *s = new w1a3_sim;
    s->ctx = std::make_unique<VerilatedContext>();
    s->top = std::make_unique<Vengine>(s->ctx.get());
    if (mem) {
        s->mem = mem;
    } else {
        s->mem = static_cast<uint8_t *>(calloc(mem_bytes, 1));
        s->own_mem = true;
        if (!s->mem) {
            delete s;
            return nullptr;
        }
    }
    s->phys = mem_phys;
    s->size = mem_bytes;
    // hold reset for a few cycles, then release
    s->top->ap_rst_n = 0;
    for (int i = 0; i < 4; i++) s->tick();
    s->top->ap_rst_n = 1;
    s->tick();
    return s;
}

void w1a3_sim_free(w1a3_sim *s) {
    if (!s) return;
    s->top->final();
    if (s->own_mem) free(s->mem);
    delete s;
}

uint8_t *w1a3_sim_mem(w1a3_sim *s) { return s->mem; }
uint64_t w1a3_sim_mem_phys(const w1a3_sim *s) { return s->phys; }
size_t w1a3_sim_mem_size(const w1a3_sim *s) { return s->size; }

void w1a3_sim_set_memory_model(w1a3_sim *s, uint32_t read_latency, int shared_bandwidth,
                               uint32_t beat_interval) {
    s->latency = read_latency;
    s->shared = shared_bandwidth != 0;
    s->interval = beat_interval ? beat_interval : 1;
}

void w1a3_reg_write(w1a3_sim *s, uint32_t offset, uint32_t value) {
    s->l_addr = offset;
    s->l_wdata = value;
    s->l_aw = s->l_w = true;
    s->l_b = false;
    for (int i = 0; i < 1000 && !s->l_b; i++) s->tick();
    if (!s->l_b) s->fail("AXI-Lite write was not answered");
    s->l_aw = s->l_w = false;
}

uint32_t w1a3_reg_read(w1a3_sim *s, uint32_t offset) {
    s->l_addr = offset;
    s->l_ar = true;
    s->l_r = false;
    for (int i = 0; i < 1000 && !s->l_r; i++) s->tick();
    if (!s->l_r) s->fail("AXI-Lite read was not answered");
    s->l_ar = false;
    return s->l_rdata;
}

void w1a3_step(w1a3_sim *s, uint64_t cycles) {
    for (uint64_t i = 0; i < cycles; i++) s->tick();
}

int w1a3_irq(const w1a3_sim *s) { return s->top->irq; }

int w1a3_wait_irq(w1a3_sim *s, uint64_t max_cycles) {
    for (uint64_t i = 0; i < max_cycles; i++) {
        if (s->top->irq) return 1;
        s->tick();
    }
    return s->top->irq ? 1 : 0;
}

uint64_t w1a3_cycles(const w1a3_sim *s) { return s->cycle; }
w1a3_traffic w1a3_sim_traffic(const w1a3_sim *s) { return s->traffic; }

const char *w1a3_sim_error(const w1a3_sim *s) {
    return s->error.empty() ? nullptr : s->error.c_str();
}

}  // extern "C"
