/*
 * C API of the cycle-accurate W1A3 engine model (the Verilator build of overlay/rtl).
 *
 * It offers what a driver sees on the board: a 32-bit register window (docs/register-map.md),
 * a physically addressed memory arena that the engine's AXI4 master reads and writes, an
 * interrupt line, and a clock that only advances inside these calls. The test bench uses it;
 * pl_driver's co-simulation backend (`--backend rtl`) can wrap the same functions in its
 * RegisterWindow / PhysMemory traits (the arena may be memory the caller owns, e.g. a shared
 * mapping).
 *
 * Not thread-safe: one thread drives one model.
 */
#ifndef W1A3_ENGINE_API_H
#define W1A3_ENGINE_API_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct w1a3_sim w1a3_sim;

/* Geometry compiled into this model (the RTL parameters). */
typedef struct {
    uint32_t pe;      /* processing elements; weight buffer 1 serves PEs 0..pe/2-1 */
    uint32_t simd;    /* input channels per weight word */
    uint32_t max_out; /* output channels per pass */
    uint32_t max_in;  /* input channels; a pixel is 3*max_in/8 bytes */
    /* capacity: a compute call needs 4*IFM_DIM*ceil(IFM_CH/simd) <= lb_depth (line buffer of
       four rows) and POOL_IN_DIM <= pool_depth; beyond that the results are undefined */
    uint32_t lb_depth, pool_depth;
} w1a3_geometry;

/* AXI traffic since creation. */
typedef struct {
    uint64_t read_beats, write_beats; /* 16-byte data beats */
    uint64_t read_bursts, write_bursts;
} w1a3_traffic;

w1a3_geometry w1a3_sim_geometry(void);

/*
 * A model in reset-released state. `mem`: the arena (NULL: the model allocates `mem_bytes`
 * zeroed bytes); `mem_phys`: the physical address of arena byte 0. Returns NULL on failure.
 */
w1a3_sim *w1a3_sim_new(uint8_t *mem, uint64_t mem_phys, size_t mem_bytes);
void w1a3_sim_free(w1a3_sim *sim);

uint8_t *w1a3_sim_mem(w1a3_sim *sim);
uint64_t w1a3_sim_mem_phys(const w1a3_sim *sim);
size_t w1a3_sim_mem_size(const w1a3_sim *sim);

/*
 * DDR model. Read data arrives `read_latency` cycles after the address is accepted (default
 * 64); data beats (16 bytes) move only on every `beat_interval`-th cycle (default 1); with
 * `shared_bandwidth` (default on) reads and writes share those beats, otherwise each
 * direction has its own.
 */
void w1a3_sim_set_memory_model(w1a3_sim *sim, uint32_t read_latency, int shared_bandwidth,
                               uint32_t beat_interval);

/* AXI4-Lite accesses through the engine's s_axi_control port (each takes a few cycles). */
uint32_t w1a3_reg_read(w1a3_sim *sim, uint32_t offset);
void w1a3_reg_write(w1a3_sim *sim, uint32_t offset, uint32_t value);

/* Advances the clock. */
void w1a3_step(w1a3_sim *sim, uint64_t cycles);
/* The interrupt line. */
int w1a3_irq(const w1a3_sim *sim);
/* Steps until the interrupt line is high: 1, or 0 after `max_cycles` without it. */
int w1a3_wait_irq(w1a3_sim *sim, uint64_t max_cycles);
/* Cycles since creation. */
uint64_t w1a3_cycles(const w1a3_sim *sim);
w1a3_traffic w1a3_sim_traffic(const w1a3_sim *sim);

/*
 * The first AXI protocol or address error the memory model saw (a burst outside the arena,
 * across 4 KiB, of a size other than 16 bytes, a misplaced WLAST, a register access that was
 * never answered), or NULL.
 */
const char *w1a3_sim_error(const w1a3_sim *sim);

#ifdef __cplusplus
}
#endif

#endif
