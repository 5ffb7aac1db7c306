/*
 * Entry points: argument checks, ISA selection, activation preparation (once per call), and the
 * split of the N rows over the thread pool.
 */
#include "qg_internal.h"
#include "qg_pages.h"
#include "qg_pool.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#if defined(__aarch64__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

const float qg_fp4_levels[16] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f,
                                 -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};
const float qg_nf4_levels[16] = {-1.0f, -0.6961928009986877f, -0.5250730514526367f,
                                 -0.39491748809814453f, -0.28444138169288635f, -0.18477343022823334f,
                                 -0.09105003625154495f, 0.0f, 0.07958029955625534f,
                                 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
                                 0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f};
const int8_t qg_nf4_q8[16] = {-127, -88, -67, -50, -36, -23, -12, 0, 10, 20, 31, 43, 56, 71, 92, 127};

static pthread_mutex_t call_lock = PTHREAD_MUTEX_INITIALIZER;
/* the tier in use: set under call_lock (qg_set_isa), read without it by lanes' first calls and qg_sum_exp; chosen
 * when the library loads */
static _Atomic int isa_current = -1;
static int pool_configured = 0; /* qg_set_threads called, or the default applied */

static void ensure_pool(void) {
  if (!pool_configured) { qg_pool_resize(0); pool_configured = 1; }
}

static const char *isa_names[QG_ISA_COUNT] = {"scalar", "avx2", "avx512", "neon", "avx512bf16", "neon_dotprod"};

int qg_isa_supported(int isa) {
  switch (isa) {
    case QG_ISA_SCALAR: return 1;
#if defined(__x86_64__)
    case QG_ISA_AVX2:
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case QG_ISA_AVX512:
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni") &&
             __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512dq") &&
             __builtin_cpu_supports("fma"); /* vbmi: vpermb (4-bit lookups); dq: 256-bit halves of zmm */
    case QG_ISA_AVX512BF16:
      return qg_isa_supported(QG_ISA_AVX512) && __builtin_cpu_supports("avx512bf16");
#endif
#if defined(__aarch64__)
    case QG_ISA_NEON: return 1; /* Advanced SIMD is part of the AArch64 base architecture */
    case QG_ISA_NEON_DOTPROD: return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0; /* the kernel's hwcap: sdot */
#endif
    default: return 0;
  }
}

const char *qg_isa_name(int isa) { return isa >= 0 && isa < QG_ISA_COUNT ? isa_names[isa] : "unknown"; }

static int best_isa(void) {
  for (int i = QG_ISA_COUNT - 1; i > 0; i--)
    if (qg_isa_supported(i)) return i;
  return QG_ISA_SCALAR;
}

int qg_set_isa(int isa) {
  if (isa < 0 || isa >= QG_ISA_COUNT || !qg_isa_supported(isa)) return QG_EUNSUPPORTED;
  pthread_mutex_lock(&call_lock);
  isa_current = isa;
  pthread_mutex_unlock(&call_lock);
  return QG_OK;
}

#define MAX_SLOTS 5 /* 0..3 per kernel call; 4: the 16-row panels' block table, kept across calls (q8_rows16) */
/* A lane (quantgate.h: qg_lane_begin): a thread that runs its kernel calls alone, with a workspace of its own. Two
 * lanes run side by side without sharing anything written: not the pool, not call_lock, not a buffer. */
typedef struct {
  void *scratch_ptr[MAX_SLOTS];
  size_t scratch_cap[MAX_SLOTS];
  void *shared_buf;
  size_t shared_cap;
  int isa; /* the tier its calls use: the process's when the lane opened */
  int scratch_failed; /* a qg_scratch of this lane's current call came back NULL */
} qg_lane;
static __thread qg_lane *lane_here;

__attribute__((constructor)) static void choose_isa(void) { atomic_store(&isa_current, best_isa()); }

int qg_get_isa(void) {
  if (lane_here) return lane_here->isa; /* the tier when the lane opened: a qg_set_isa meanwhile is not half-seen */
  const int isa = atomic_load_explicit(&isa_current, memory_order_relaxed);
  return isa >= 0 ? isa : best_isa();
}

int qg_set_threads(int threads) {
  pthread_mutex_lock(&call_lock);
  int t = qg_pool_resize(threads);
  pool_configured = 1;
  pthread_mutex_unlock(&call_lock);
  return t;
}

int qg_get_threads(void) {
  pthread_mutex_lock(&call_lock);
  ensure_pool();
  int t = qg_pool_size(); /* the pool's size, asked from a lane too */
  pthread_mutex_unlock(&call_lock);
  return t;
}

const char *qg_version(void) { return "quantgate-kernels 0.1.0"; }

/* ---- scratch memory: per pool thread (or per lane), per slot, grow-only, 64-byte aligned ---- */
#define MAX_SCRATCH_THREADS 256
static void *scratch_ptr[MAX_SCRATCH_THREADS][MAX_SLOTS];
static size_t scratch_cap[MAX_SCRATCH_THREADS][MAX_SLOTS];

/* *p grown to at least `bytes` (rounded up to 4 KiB, 64-byte aligned); NULL when that fails */
static void *grow(void **p, size_t *cap, size_t bytes) {
  if (*cap < bytes) {
    free(*p);
    const size_t c = (bytes + 4095) & ~(size_t)4095;
    *p = aligned_alloc(64, c);
    *cap = *p ? c : 0;
    if (*p) memset(*p, 0, 64); /* a slot kept across calls starts with a key no call has (q8_rows16) */
  }
  return *p;
}

/* set when a pool call's task gets no scratch (it then skips its rows): the call returns QG_ENOMEM instead of QG_OK
 * over outputs it did not write (call_end) */
static _Atomic int scratch_failed;

size_t qg_scratch_limit;

void *qg_scratch(int thread, int slot, size_t bytes) {
  void *p = NULL;
  if (bytes == 0) bytes = 64;
  if (slot >= 0 && slot < MAX_SLOTS && (qg_scratch_limit == 0 || bytes <= qg_scratch_limit)) {
    if (lane_here) p = grow(&lane_here->scratch_ptr[slot], &lane_here->scratch_cap[slot], bytes);
    else if (thread >= 0 && thread < MAX_SCRATCH_THREADS) p = grow(&scratch_ptr[thread][slot], &scratch_cap[thread][slot], bytes);
  }
  if (!p) {
    if (lane_here) lane_here->scratch_failed = 1;
    else atomic_store(&scratch_failed, 1);
  }
  return p;
}

/* call-wide buffers (activations): the process's, grown under call_lock, or the lane's */
static void *shared_buf;
static size_t shared_cap;
static void *shared_alloc(size_t bytes) {
  if (lane_here) return grow(&lane_here->shared_buf, &lane_here->shared_cap, bytes);
  return grow(&shared_buf, &shared_cap, bytes);
}

/* ---- call timeline (quantgate.h: qg_trace_start) ---- */
static qg_trace_record *trace_buf;
static int64_t trace_alloc, trace_cap; /* records allocated, records this trace keeps */
static atomic_llong trace_next;
static atomic_int tracing;
static _Thread_local qg_trace_record trace_open; /* the calling thread's call in progress; kind 0: not traced */

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

int qg_trace_start(int64_t capacity) {
  if (capacity < 1 || capacity > ((int64_t)1 << 26)) return QG_EINVAL;
  atomic_store(&tracing, 0);
  /* the buffer is kept from one trace to the next and grown here: no traced call may be in flight (quantgate.h) */
  if (capacity > trace_alloc) {
    qg_trace_record *b = realloc(trace_buf, (size_t)capacity * sizeof *b);
    if (!b) return QG_ENOMEM;
    trace_buf = b;
    trace_alloc = capacity;
  }
  trace_cap = capacity;
  atomic_store(&trace_next, 0);
  atomic_store(&tracing, 1);
  return QG_OK;
}

int64_t qg_trace_stop(qg_trace_record *out, int64_t max) {
  atomic_store(&tracing, 0);
  const int64_t n = atomic_load(&trace_next), kept = n < trace_cap ? n : trace_cap;
  if (out && max > 0 && kept > 0) memcpy(out, trace_buf, (size_t)(kept < max ? kept : max) * sizeof *out);
  return n;
}

/* Every kernel call runs between these: the process-wide lock and the pool, or, in a lane, nothing to take. The
 * trace's clock starts before the lock, so a call that waits for another one shows the wait. */
static void call_begin(int kind, int64_t m, int64_t n, int64_t k) {
  trace_open.kind = 0;
  if (atomic_load_explicit(&tracing, memory_order_relaxed)) {
    trace_open = (qg_trace_record){now_ns(), 0, kind, (int32_t)(m < INT32_MAX ? m : INT32_MAX),
                                   (int32_t)(n < INT32_MAX ? n : INT32_MAX), (int32_t)(k < INT32_MAX ? k : INT32_MAX)};
  }
  if (lane_here) { lane_here->scratch_failed = 0; return; }
  pthread_mutex_lock(&call_lock);
  ensure_pool();
  atomic_store(&scratch_failed, 0);
}

/* QG_ENOMEM when a task of the call got no scratch memory (its part of the output is not written), else QG_OK */
static int call_end(void) {
  if (trace_open.kind && atomic_load_explicit(&tracing, memory_order_acquire)) { /* orders trace_buf, trace_cap */
    const int64_t i = atomic_fetch_add(&trace_next, 1);
    if (i < trace_cap) {
      trace_open.end_ns = now_ns();
      trace_buf[i] = trace_open;
    }
  }
  int failed;
  if (lane_here) {
    failed = lane_here->scratch_failed;
  } else {
    failed = atomic_load(&scratch_failed);
    pthread_mutex_unlock(&call_lock);
  }
  return failed ? QG_ENOMEM : QG_OK;
}

int qg_lane_begin(void) {
  if (lane_here) return QG_EINVAL;
  qg_lane *l = calloc(1, sizeof *l);
  if (!l) return QG_ENOMEM;
  l->isa = qg_get_isa();
  lane_here = l;
  qg_pool_serial(1);
  return QG_OK;
}

int qg_lane_end(void) {
  qg_lane *l = lane_here;
  if (!l) return QG_EINVAL;
  for (int s = 0; s < MAX_SLOTS; s++) free(l->scratch_ptr[s]);
  free(l->shared_buf);
  free(l);
  lane_here = NULL;
  qg_pool_serial(0);
  return QG_OK;
}

static inline size_t al64(size_t v) { return (v + 63) & ~(size_t)63; }

/* ---- activation preparation, one task per activation row ---- */
static void prep_q8_row(void *vc, int mm, int thread) {
  qg_call *c = vc;
  c->kern->prep_q8_row(c, mm, thread);
}

static void prep_f32_row(void *vc, int mm, int thread) {
  (void)thread;
  qg_call *c = vc;
  const int K = c->k, kpad = c->kpad;
  const float *x = c->x + (int64_t)mm * c->ldx;
  if (c->x_w8) {
    float *w8 = (float *)c->x_w8 + (int64_t)mm * kpad;
    for (int ch = 0; ch < kpad; ch += 128)
      for (int j = 0; j < 8; j++)
        for (int i = 0; i < 16; i++) {
          const int kk = ch + 8 * i + j;
          w8[ch + 16 * j + i] = kk < K ? x[kk] : 0.0f;
        }
  }
  if (c->gsum) {
    float *gs = (float *)c->gsum + (int64_t)mm * c->ngroups;
    for (int gi = 0; gi < c->ngroups; gi++) {
      const int a0 = gi * c->group, a1 = a0 + c->group < K ? a0 + c->group : K;
      /* eight partial sums: one chain of dependent adds cost ~4 cycles per K value (~4 us per call at K = 4096) */
      float p[8] = {0};
      int kk = a0;
      for (; kk + 8 <= a1; kk += 8)
        for (int l = 0; l < 8; l++) p[l] += x[kk + l];
      for (; kk < a1; kk++) p[kk & 7] += x[kk];
      gs[gi] = ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]));
    }
  }
}

/* One 32-wide (or last 16-wide) M tile of the panel GEMM's activations: reads each activation row
 * sequentially and writes it down a column of the tile (stride = tile width), so the whole tile
 * (kpad x 32 floats) is written while it sits in L1; K padding and M padding become zeros. */
static void prep_xt_tile(void *vc, int task, int thread) {
  (void)thread;
  qg_call *c = vc;
  const int t0 = task * 32, w = qg_xt_width(c->mpad, t0);
  float *tile = (float *)c->xt + (int64_t)t0 * c->kpad;
  for (int j = 0; j < w; j++) {
    const int mm = t0 + j;
    float *dst = tile + j;
    int kk = 0;
    if (mm < c->m) {
      const float *src = c->x + (int64_t)mm * c->ldx;
      for (; kk < c->k; kk++) dst[(int64_t)kk * w] = src[kk];
    }
    for (; kk < c->kpad; kk++) dst[(int64_t)kk * w] = 0.0f;
  }
}

/* bf16 activations: row m of x rounded to bf16 (kept as fp32 values), for the fp32 paths */
typedef struct { const qg_call *c; float *xr; } bf16_job;
static void prep_bf16_row(void *vj, int mm, int thread) {
  (void)thread;
  const bf16_job *j = vj;
  const float *src = j->c->x + (int64_t)mm * j->c->ldx;
  float *dst = j->xr + (int64_t)mm * j->c->k;
  for (int kk = 0; kk < j->c->k; kk++) dst[kk] = qg_bf16_round(src[kk]);
}

/* One 32-wide (or last 16-wide) M tile of the vdpbf16ps panel's activations: word (p, j) holds the bf16 of
 * x[m][2p] (low half) and x[m][2p+1] (high half), m = t0 + j; K and M padding are zeros. */
static void prep_xtb_tile(void *vc, int task, int thread) {
  (void)thread;
  qg_call *c = vc;
  const int t0 = task * 32, w = qg_xt_width(c->mpad, t0), kp2 = c->kpad / 2;
  uint32_t *tile = (uint32_t *)c->xtb + (int64_t)t0 * kp2;
  for (int j = 0; j < w; j++) {
    const int mm = t0 + j;
    const float *src = mm < c->m ? c->x + (int64_t)mm * c->ldx : NULL;
    for (int p = 0; p < kp2; p++) {
      const int k0 = 2 * p;
      const uint32_t lo = src && k0 < c->k ? qg_bf16_bits(src[k0]) : 0;
      const uint32_t hi = src && k0 + 1 < c->k ? qg_bf16_bits(src[k0 + 1]) : 0;
      tile[(int64_t)p * w + j] = lo | hi << 16;
    }
  }
}

typedef struct {
  const qg_call *c;
  qg_rows_fn fn;
  int rows_per_task;
  int shrink_threads; /* > 0: GEMV tasks that shrink towards the end of each thread's share (rows_task) */
} rows_job;

#define SHRINK_TASKS 16 /* tasks per thread of a shrinking GEMV */

/* ---- reading ahead between GEMVs (qg_set_read_ahead) ----
 * A decode step runs the same GEMVs in the same order for every token, with work between them (the threads' uneven
 * ends, attention, norms, the caller's own code) during which the memory idles. Each M = 1 call on panels notes which
 * panels the previous one read, so each learns its successor; once a thread has no task of a call left it reads the
 * start of its share of the successor's panels (the pool's read-ahead, qg_pool.c) until the next call begins, and on
 * between later calls. A wrong guess costs a few hundred KiB of reads. Only the pool's caller touches the table
 * (under call_lock). */
#define SUCC_SLOTS 256
static struct succ_entry {
  const uint8_t *from, *to; /* the panels of an M = 1 call and of the one that came next */
  int n;                    /* the next call's rows */
  int64_t stride;           /* and its panel stride */
  uint64_t epoch;           /* qg_pages_epoch_of(to) when the entry was made; 0: not inside a live mapping then */
} succ[SUCC_SLOTS];
static const uint8_t *succ_last; /* the panels of the last M = 1 call */
/* the pages epoch the table belongs to: when a qg_pages mapping goes, every entry goes (one may name its panels, and
 * memory mapped there later may be another thread's to write) */
static uint64_t succ_epoch;
static _Atomic int64_t read_ahead_bytes = 768 << 10;

int qg_set_read_ahead(int64_t bytes) {
  if (bytes < 0 || bytes > ((int64_t)1 << 30)) return QG_EINVAL;
  atomic_store(&read_ahead_bytes, bytes);
  return QG_OK;
}

static struct succ_entry *succ_slot(const uint8_t *p) {
  return &succ[(uint64_t)((uintptr_t)p >> 6) * 0x9E3779B97F4A7C15ull >> 56];
}

/* Notes that an M = 1 call on `panels` (n rows, panel stride `stride`) follows the last one, and runs its tasks with
 * the read-ahead of the panels that followed it the last time — or with none, which ends what is left of the
 * previous regions. */
static void run_gemv_ahead(int ntasks, qg_task_fn fn, void *job, const uint8_t *panels, int n, int64_t stride,
                           int threads) {
  const uint64_t now = qg_pool_pages_epoch();
  if (now != succ_epoch) {
    memset(succ, 0, sizeof succ);
    succ_last = NULL;
    succ_epoch = now;
  }
  if (succ_last && succ_last != panels) { /* not a call after itself: a kernel benchmark's loop stays as it was */
    struct succ_entry *e = succ_slot(succ_last);
    if (e->from != succ_last || e->to != panels || e->n != n || e->stride != stride)
      *e = (struct succ_entry){succ_last, panels, n, stride,
                               qg_pages_epoch_of(panels, (int64_t)((n + 15) / 16) * stride)};
  }
  succ_last = panels;
  const struct succ_entry *e = succ_slot(panels);
  const int64_t cap = atomic_load_explicit(&read_ahead_bytes, memory_order_relaxed);
  const char *start[64] = {NULL};
  int64_t bytes[64] = {0};
  const int known = e->from == panels && cap > 0 && threads <= 64;
  if (known) {
    const int64_t npanels = (e->n + 15) / 16;
    for (int t = 0; t < threads; t++) { /* rows_task's shares, in whole panels */
      const int64_t p0 = (int64_t)e->n * t / threads / 16;
      const int64_t p1 = t + 1 == threads ? npanels : (int64_t)e->n * (t + 1) / threads / 16;
      start[t] = (const char *)e->to + p0 * e->stride;
      bytes[t] = (p1 - p0) * e->stride < cap ? (p1 - p0) * e->stride : cap;
    }
  }
  qg_pool_run_ahead(ntasks, fn, job, threads <= 64 ? threads : 0, start, bytes, known ? e->epoch : 0);
}

static void rows_task(void *vj, int task, int thread) {
  const rows_job *j = vj;
  int n0, n1;
  if (j->shrink_threads) {
    /* thread t's share of the rows (the pool hands it tasks t·16 .. t·16 + 15, qg_pool.c), cut at 1 - (1 - i/16)^2 of
     * it: the first task 31/256 of the share, the last 1/256 (to whole 16-row panels). A thread that finishes first
     * takes the other's last tasks, the smallest, so the two end a GEMV close together */
    const int64_t n = j->c->n, T = j->shrink_threads, P = SHRINK_TASKS, t = task / P, i = task % P;
    const int64_t r0 = n * t / T / 16 * 16, r1 = t + 1 == T ? n : n * (t + 1) / T / 16 * 16, share = r1 - r0;
    n0 = (int)(r0 + share * (P * P - (P - i) * (P - i)) / (P * P) / 16 * 16);
    n1 = i + 1 == P ? (int)r1 : (int)(r0 + share * (P * P - (P - i - 1) * (P - i - 1)) / (P * P) / 16 * 16);
    if (n1 <= n0) return;
  } else {
    n0 = task * j->rows_per_task;
    n1 = n0 + j->rows_per_task < j->c->n ? n0 + j->rows_per_task : j->c->n;
  }
  j->fn(j->c, n0, n1, thread);
}

/* only the tiers built for this architecture exist (the Makefile picks them); qg_set_isa refuses the others */
static const qg_kernels *kernels_for(int isa) {
  switch (isa) {
#if defined(__x86_64__)
    case QG_ISA_AVX512BF16: return &qg_kernels_avx512bf16;
    case QG_ISA_AVX512: return &qg_kernels_avx512;
    case QG_ISA_AVX2: return &qg_kernels_avx2;
#endif
#if defined(__aarch64__)
    case QG_ISA_NEON: return &qg_kernels_neon;
    case QG_ISA_NEON_DOTPROD: return &qg_kernels_neon_dotprod;
#endif
    default: return &qg_kernels_scalar;
  }
}

static int check_args(int fmt, int act, int n, int k, int group, const void *codes,
                      const uint16_t *scales, const uint8_t *zeros, int m, const float *x,
                      int64_t ldx, const float *y, int64_t ldy) {
  if (fmt < 0 || fmt >= QG_FMT_COUNT) return QG_EINVAL;
  if (act != QG_ACT_F32 && act != QG_ACT_Q8 && act != QG_ACT_BF16) return QG_EINVAL;
  if (n < 1 || k < 1 || m < 1 || !codes || !x || !y) return QG_EINVAL;
  if (ldx < k || ldy < n) return QG_EINVAL;
  if (k > (1 << 28) || n > (1 << 28) || m > (1 << 20)) return QG_EINVAL;
  if (fmt >= QG_FMT_INT8) {
    if (!scales || group < 1 || group > k) return QG_EINVAL;
    /* kernels rely on groups being whole 32-blocks and powers of two (shift, lane maps) */
    if (group != k && (group < QG_ABLOCK || (group & (group - 1)) != 0)) return QG_EINVAL;
    if (fmt == QG_FMT_INT4 && !zeros) return QG_EINVAL;
  } else if (act == QG_ACT_Q8) {
    return QG_EUNSUPPORTED;
  }
  return QG_OK;
}

/* ---- the small-K panel GEMM (fp32 activations, see nt_pack in qg_internal.h) ---- */
static size_t nt_bytes(int n, int k) { return al64((size_t)((n + QG_NT_W - 1) / QG_NT_W) * QG_NT_W * (size_t)k * 4); }

static int nt_applies(const qg_kernels *kern, int m, int k, int n) {
  const size_t bytes = nt_bytes(n, k);
  /* the panels' dequantization (N x K scattered stores) pays off over enough activation rows: measured against the
   * transposing panel GEMM (paired, one process), 0.4-0.7x its time at K 64-256 from M 64 and at K 512 from M 256,
   * slower below */
  const int enough_rows = k <= 256 ? m >= 64 : m >= 256;
  return kern->nt_pack && enough_rows && k <= QG_NT_MAX_K && bytes <= ((size_t)64 << 20);
}
static void nt_pack_task(void *vc, int panel, int thread) {
  (void)thread;
  const qg_call *c = vc;
  c->kern->nt_pack(c, panel);
}

typedef struct {
  const qg_call *c;
  int mb, panels;
} nt_job;

static void nt_tile_task(void *vj, int task, int thread) {
  (void)thread;
  const nt_job *j = vj;
  /* numbered along the output rows (all panels of one M block, then the next), so that each thread's share of the
   * tasks (qg_pool.c) is a band of rows: the rows the norm or SwiGLU after it reads on the same core */
  const int panel = task % j->panels, m0 = (task / j->panels) * j->mb;
  const int m1 = m0 + j->mb < j->c->m ? m0 + j->mb : j->c->m;
  j->c->kern->nt_tile(j->c, m0, m1, panel);
}

/* (M block, panel) tasks over panels already in c->wt: blocks of 48 rows (8 micro tiles) give every thread several
 * tasks even when N is a single panel */
static void nt_tiles(const qg_call *c) {
  const int panels = (c->n + QG_NT_W - 1) / QG_NT_W;
  nt_job j = {c, 48, panels};
  qg_pool_run(panels * ((c->m + 47) / 48), nt_tile_task, &j);
}

/* every panel dequantized once (one task each), then the tiles */
static void nt_run(const qg_call *c) {
  qg_pool_run((c->n + QG_NT_W - 1) / QG_NT_W, nt_pack_task, (void *)c);
  nt_tiles(c);
}

/* ---- prepacked 16-row panels (quantgate.h: qg_pack_panels; layout: qg_r16_layout) ---- */
static int64_t panel_stride(int fmt, int k, int group) {
  const qg_r16_layout l = qg_r16_layout_of(fmt, k, group);
  return qg_r16_panel_bytes(&l);
}

int64_t qg_panels_bytes(int fmt, int n, int k, int group) {
  if (fmt < QG_FMT_INT8 || fmt >= QG_FMT_COUNT || n < 1 || k < 1 || group < 1 || group > k || n > (1 << 28) ||
      k > (1 << 28))
    return 0; /* the sizes qg_gemm accepts */
  if (group != k && (group < QG_ABLOCK || (group & (group - 1)) != 0)) return 0; /* nor groups it rejects */
  return ((int64_t)n + 15) / 16 * panel_stride(fmt, k, group);
}

int qg_pack_panels(int fmt, int n, int k, int group, const void *codes, const uint16_t *scales, const uint8_t *zeros,
                   void *panels, int64_t bytes) {
  float dummy_x = 0.0f, dummy_y = 0.0f;
  int rc = check_args(fmt, QG_ACT_Q8, n, k, group, codes, scales, zeros, 1, &dummy_x, k, &dummy_y, n);
  if (rc != QG_OK) return rc;
  if (!panels || ((uintptr_t)panels & 63) || bytes != qg_panels_bytes(fmt, n, k, group)) return QG_EINVAL;
  const int is4 = qg_is4(fmt);
  const qg_r16_layout l = qg_r16_layout_of(fmt, k, group);
  const int G = l.ngroups, wpb = (int)(l.wbb / 64);
  if (fmt == QG_FMT_INT4) /* the AVX-512 panel kernel folds them into 0..30 bytes (q - z + 15): 0..15 only */
    for (int64_t i = 0; i < (int64_t)n * G; i++)
      if (zeros[i] > 15) return QG_EINVAL;
  const int64_t row_bytes = fmt == QG_FMT_INT8 ? (int64_t)k : 4LL * ((k + 7) / 8);
  const int64_t stride = qg_r16_panel_bytes(&l);
  const uint8_t *cb = codes;
  memset(panels, 0, (size_t)bytes); /* header padding */
  for (int p = 0; p < (n + 15) / 16; p++) {
    uint8_t *pp = (uint8_t *)panels + (int64_t)p * stride;
    for (int r = 0; r < 16; r++) {
      const int row = p * 16 + r;
      for (int gi = 0; gi < G; gi++) {
        const uint16_t sc = row < n ? scales[(int64_t)row * G + gi] : 0;
        memcpy(pp + qg_r16_scales_at(&l, gi) + 2 * r, &sc, 2);
        if (fmt == QG_FMT_INT4) pp[qg_r16_zeros_at(&l, gi) + r] = row < n ? zeros[(int64_t)row * G + gi] : 0;
        uint32_t *tw = (uint32_t *)(pp + qg_r16_group_words_at(&l, gi));
        const int b0 = gi * l.gb, b1 = b0 + l.gb < l.nb ? b0 + l.gb : l.nb;
        for (int64_t w = (int64_t)b0 * wpb; w < (int64_t)b1 * wpb; w++) {
          /* the row's bytes 4w .. 4w+3, zeros past its end (and for missing rows); int8 stores u = code ^ 0x80 */
          uint32_t word = 0;
          if (row < n && 4 * w + 4 <= row_bytes) {
            memcpy(&word, cb + (int64_t)row * row_bytes + 4 * w, 4); /* little-endian, as the vector loads see it */
          } else {
            for (int b = 0; b < 4; b++) {
              const int64_t at = 4 * w + b;
              const uint32_t byte = row < n && at < row_bytes ? cb[(int64_t)row * row_bytes + at] : 0;
              word |= byte << (8 * b);
            }
          }
          tw[(w - (int64_t)b0 * wpb) * 16 + r] = !is4 ? word ^ 0x80808080u : fmt == QG_FMT_INT4S ? word ^ 0x88888888u : word;
        }
      }
    }
  }
  return QG_OK;
}

static int gemm_impl(int fmt, int act, int n, int k, int group, const void *codes, const uint16_t *scales,
                     const uint8_t *zeros, const uint8_t *panels, const float *nt, int m, const float *x, int64_t ldx,
                     float *y, int64_t ldy);

/* The weight side of a call: format, sizes, groups, codes, scales and zero points (the rest is zero). */
static void init_call(qg_call *c, int fmt, int act, int n, int k, int group, const void *codes, const uint16_t *scales,
                      const uint8_t *zeros) {
  memset(c, 0, sizeof *c);
  c->fmt = fmt; c->act = act; c->n = n; c->k = k;
  c->group = fmt >= QG_FMT_INT8 ? group : k;
  c->ngroups = (k + c->group - 1) / c->group;
  c->gshift = 31;
  if (c->group != k)
    for (c->gshift = 0; (1 << c->gshift) < c->group; c->gshift++) {}
  c->codes = codes;
  c->row_bytes = fmt == QG_FMT_FP32 ? 4LL * k
               : (fmt == QG_FMT_FP16 || fmt == QG_FMT_BF16) ? 2LL * k
               : fmt == QG_FMT_INT8 ? (int64_t)k : 4LL * ((k + 7) / 8);
  c->scales = scales; c->zeros = zeros;
  c->kpad = (k + QG_KPAD - 1) / QG_KPAD * QG_KPAD;
  c->nblocks = (k + QG_ABLOCK - 1) / QG_ABLOCK;
}

/* ---- prepacked small-K panels (quantgate.h: qg_pack_nt) ---- */
/* the tier whose small-K kernel reads them: the AVX-512 tiers share nt_pack / nt_tile (x86-64 only) */
static const qg_kernels *nt_kernels(void) {
#if defined(__x86_64__)
  if (qg_isa_supported(QG_ISA_AVX512)) return &qg_kernels_avx512;
#endif
  return NULL;
}

int64_t qg_nt_bytes(int fmt, int n, int k, int group) {
  float dummy = 0.0f;
  if (!nt_kernels() || k > QG_NT_MAX_K ||
      check_args(fmt, QG_ACT_F32, n, k, group, &dummy, fmt >= QG_FMT_INT8 ? (const uint16_t *)&dummy : NULL,
                 (const uint8_t *)&dummy, 1, &dummy, k, &dummy, n) != QG_OK ||
      nt_bytes(n, k) > ((size_t)64 << 20))
    return 0;
  return (int64_t)nt_bytes(n, k);
}

int qg_pack_nt(int fmt, int n, int k, int group, const void *codes, const uint16_t *scales, const uint8_t *zeros,
               float *nt, int64_t bytes) {
  float dummy_x = 0.0f, dummy_y = 0.0f;
  int rc = check_args(fmt, QG_ACT_F32, n, k, group, codes, scales, zeros, 1, &dummy_x, k, &dummy_y, n);
  if (rc != QG_OK) return rc;
  const qg_kernels *kern = nt_kernels();
  if (!kern) return QG_EUNSUPPORTED;
  if (!nt || ((uintptr_t)nt & 63) || bytes != qg_nt_bytes(fmt, n, k, group)) return QG_EINVAL;
  qg_call c;
  init_call(&c, fmt, QG_ACT_F32, n, k, group, codes, scales, zeros);
  c.kern = kern;
  c.wt = nt;
  /* the per-call packing's own code, so a GEMM reading these panels gives the per-call path's bits */
  for (int p = 0; p < (n + QG_NT_W - 1) / QG_NT_W; p++) kern->nt_pack(&c, p);
  return QG_OK;
}

int qg_gemm_nt(int fmt, int act, int n, int k, int group, const void *codes, const uint16_t *scales,
               const uint8_t *zeros, const float *nt, int64_t nt_bytes_given, int m, const float *x, int64_t ldx,
               float *y, int64_t ldy) {
  if (!nt || ((uintptr_t)nt & 63) || nt_bytes_given <= 0 || nt_bytes_given != qg_nt_bytes(fmt, n, k, group))
    return QG_EINVAL;
  return gemm_impl(fmt, act, n, k, group, codes, scales, zeros, NULL, nt, m, x, ldx, y, ldy);
}

int qg_gemm(int fmt, int act, int n, int k, int group, const void *codes, const uint16_t *scales,
            const uint8_t *zeros, int m, const float *x, int64_t ldx, float *y, int64_t ldy) {
  return gemm_impl(fmt, act, n, k, group, codes, scales, zeros, NULL, NULL, m, x, ldx, y, ldy);
}

int qg_gemm_panels(int fmt, int act, int n, int k, int group, const void *codes, const uint16_t *scales,
                   const uint8_t *zeros, const void *panels, int64_t panel_bytes, int m, const float *x, int64_t ldx,
                   float *y, int64_t ldy) {
  if (!panels || ((uintptr_t)panels & 63) || fmt < QG_FMT_INT8 || fmt >= QG_FMT_COUNT || group < 1 || group > k ||
      panel_bytes != qg_panels_bytes(fmt, n, k, group))
    return QG_EINVAL;
  return gemm_impl(fmt, act, n, k, group, codes, scales, zeros, panels, NULL, m, x, ldx, y, ldy);
}

static int gemm_impl(int fmt, int act, int n, int k, int group, const void *codes, const uint16_t *scales,
                     const uint8_t *zeros, const uint8_t *panels, const float *nt, int m, const float *x, int64_t ldx,
                     float *y, int64_t ldy) {
  int rc = check_args(fmt, act, n, k, group, codes, scales, zeros, m, x, ldx, y, ldy);
  if (rc != QG_OK) return rc;
  call_begin(QG_CALL_GEMM, m, n, k);
  const qg_kernels *kern = kernels_for(qg_get_isa());
  qg_call c;
  init_call(&c, fmt, act, n, k, group, codes, scales, zeros);
  c.m = m; c.x = x; c.ldx = ldx; c.y = y; c.ldy = ldy;
  c.mpad = (m + 15) / 16 * 16;
  c.kern = kern;
  const int is4 = qg_is4(fmt);
  qg_rows_fn fn;
  int rows_per_task;
  if (act == QG_ACT_Q8) {
    /* sx is read 16 bytes at a time past the last block: pad it */
    const size_t sz_xq = al64((size_t)m * c.kpad), sz_sx = al64((size_t)m * c.nblocks * 4 + 64);
    const size_t sz_gx = kern->needs_il ? al64((size_t)m * c.ngroups * 4) : 0;
    c.lanew = is4 ? 8 : 4;
    /* the lane arrays serve the M <= 4 row kernels, which prepacked panels replace (q8_avx512) */
    const size_t sz_ln = kern->needs_il && !panels ? al64((size_t)m * (c.kpad / c.lanew) * 4) : 0;
    /* only the M <= 4 kernels start their lane sums at -off x sum(x); the panel kernel takes offsets per block */
    const size_t sz_ox = fmt != QG_FMT_INT4 && m <= QG_DIRECT_MAX_M ? sz_ln : 0;
    const size_t sz_x16 = sz_ox && is4 ? al64((size_t)m * (c.kpad / c.lanew) * 2) : 0; /* 4-bit long-K GEMV */
    const size_t sz_xu = fmt == QG_FMT_INT8 && m == 1 && sz_ox ? sz_xq : 0; /* the int8 GEMV's unsigned activations */
    const size_t total = sz_xq * (is4 && kern->needs_il ? 2 : 1) + 2 * sz_sx + sz_gx + sz_ln + sz_ox + sz_x16 + sz_xu;
    uint8_t *buf = shared_alloc(total);
    if (!buf) { call_end(); return QG_ENOMEM; }
    c.xq = (int8_t *)buf; buf += sz_xq;
    if (is4 && kern->needs_il) { c.xq_il = (int8_t *)buf; buf += sz_xq; }
    c.sx = (float *)buf; buf += sz_sx;
    c.xsum = (int32_t *)buf; buf += sz_sx;
    if (sz_gx) { c.gxs = (float *)buf; buf += sz_gx; }
    if (sz_ln) { c.lane_sx = (float *)buf; buf += sz_ln; }
    if (sz_ox) { c.lane_oxs = (int32_t *)buf; buf += sz_ox; }
    if (sz_x16) { c.lane_xs16 = (int16_t *)buf; buf += sz_x16; }
    if (sz_xu) c.xq_u = (uint8_t *)buf;
    qg_pool_run(m, prep_q8_row, &c);
    if (panels) { /* read by the AVX-512 tiers for every M; the generic tiers have no panel kernel */
      c.panels = panels;
      c.panel_stride = panel_stride(fmt, k, group);
    }
    fn = kern->q8;
    rows_per_task = m <= QG_DIRECT_MAX_M ? 32 : 64;
  } else if (act == QG_ACT_BF16 && m > QG_DIRECT_MAX_M && kern->panel_bf16) {
    /* vdpbf16ps: the activations become bf16 pairs once, per M tile */
    uint32_t *xtb = shared_alloc((size_t)c.kpad / 2 * c.mpad * 4);
    if (!xtb) { call_end(); return QG_ENOMEM; }
    c.xtb = xtb;
    qg_pool_run((c.mpad + 31) / 32, prep_xtb_tile, &c);
    fn = kern->panel_bf16;
    rows_per_task = 96;
  } else if (act == QG_ACT_BF16) {
    /* without vdpbf16ps (or M <= 4): the fp32 paths on bf16-rounded activations, their dequantizers rounding the
     * weights; the hand-written AVX-512 GEMV does not round, so M <= 4 takes the generic loops built for AVX-512 */
    const int nt = nt_applies(kern, m, k, n);
    const size_t sz_xr = al64((size_t)m * k * 4);
    const size_t sz_xt = m <= QG_DIRECT_MAX_M ? 0 : nt ? nt_bytes(n, k) : (size_t)c.kpad * c.mpad * 4;
    uint8_t *buf = shared_alloc(sz_xr + sz_xt);
    if (!buf) { call_end(); return QG_ENOMEM; }
    bf16_job bj = {&c, (float *)buf};
    qg_pool_run(m, prep_bf16_row, &bj);
    c.x = (const float *)buf; c.ldx = k;
    if (nt) {
      c.wt = (float *)(buf + sz_xr);
      nt_run(&c);
      return call_end();
    } else if (m <= QG_DIRECT_MAX_M) {
#if defined(__x86_64__)
      if (kern->needs_il) c.kern = kern = &qg_kernels_avx512g;
#endif
      fn = kern->direct_f32;
      rows_per_task = 32;
    } else {
      c.xt = (const float *)(buf + sz_xr);
      qg_pool_run((c.mpad + 31) / 32, prep_xt_tile, &c);
      fn = kern->panel_f32;
      rows_per_task = 96;
    }
  } else if (m <= QG_DIRECT_MAX_M) {
    /* the per-group activation sums feed int4's zero-point term, which the M = 1 kernel for groups spanning whole
     * 128-K chunks (direct_f32_avx512's gshift >= 7 case) folds into its scaled table instead */
    const int want_il = is4 && kern->needs_il, want_gs = fmt == QG_FMT_INT4 && kern->needs_il && (m > 1 || c.gshift < 7);
    const size_t sz_il = al64((size_t)m * c.kpad * 4), sz_gs = want_gs ? al64((size_t)m * c.ngroups * 4) : 0;
    uint8_t *buf = shared_alloc(sz_il + sz_gs);
    if (!buf) { call_end(); return QG_ENOMEM; }
    if (want_il) c.x_w8 = (float *)buf;
    if (want_gs) c.gsum = (float *)(buf + sz_il);
    if (want_il || want_gs) qg_pool_run(m, prep_f32_row, &c);
    fn = kern->direct_f32;
    rows_per_task = 32;
  } else if (nt && nt_applies(kern, m, k, n)) {
    /* prepacked small-K panels (qg_pack_nt, by the same nt_pack): only the tiles run */
    c.wt = (float *)nt;
    nt_tiles(&c);
    return call_end();
  } else if (nt_applies(kern, m, k, n)) {
    float *wt = shared_alloc(nt_bytes(n, k));
    if (!wt) { call_end(); return QG_ENOMEM; }
    c.wt = wt;
    nt_run(&c);
    return call_end();
  } else {
    float *xt = shared_alloc((size_t)c.kpad * c.mpad * 4);
    if (!xt) { call_end(); return QG_ENOMEM; }
    c.xt = xt;
    qg_pool_run((c.mpad + 31) / 32, prep_xt_tile, &c);
    fn = kern->panel_f32;
    rows_per_task = 96;
  }
  /* keep at least 4 tasks per thread where rows allow, so a slow core does not stall the call */
  const int threads = qg_pool_threads();
  while (rows_per_task > 16 && (n + rows_per_task - 1) / rows_per_task < 4 * threads) rows_per_task /= 2;
  /* GEMV: up to 16 tasks per thread (fewer where the kernel's minimum task is more rows). A thread takes its own
   * tasks in row order (qg_pool.c), so its stream of weights runs on from one task into the next; the tasks only
   * bound how much of a thread's share the other can take over at the end. With 4 per thread (when any task start
   * was a cold stream) the threads waited for each other about a task's length per call: tg128 of the 1B Q4_0
   * against llama.cpp in the same runs, 6 alternating pairs (2026-12-04, Zen 4): llama.cpp/native 0.79-0.94 (median
   * 0.83) with 16 per thread against 0.86-0.96 (median 0.955) with 4, 16 ahead in every pair; 32 no better than 16.
   * On more than one thread the 16 shrink towards the end of each share (rows_task): with equal tasks the threads
   * still ended a call about half a task apart, one core streaming alone meanwhile (2026-12-05). */
  if (m == 1) {
    int big = (n + 16 * threads - 1) / (16 * threads);
    big = (big + 15) / 16 * 16;
    if (big > rows_per_task) rows_per_task = big;
  }
  rows_job job = {&c, fn, rows_per_task, 0};
  if (m == 1 && threads > 1) {
    job.shrink_threads = threads;
    if (c.panels && kern->reads_panels && !lane_here)
      run_gemv_ahead(threads * SHRINK_TASKS, rows_task, &job, c.panels, n, c.panel_stride, threads);
    else qg_pool_run(threads * SHRINK_TASKS, rows_task, &job);
  } else {
    qg_pool_run((n + rows_per_task - 1) / rows_per_task, rows_task, &job);
  }
  return call_end();
}

/* ---- causal softmax ---- */
typedef struct {
  const qg_kernels *kern;
  float *att;
  int64_t ld;
  int rows, first_len, rows_per_task;
  float scale;
} softmax_job;

static void softmax_task(void *vj, int task, int thread) {
  (void)thread;
  softmax_job *j = vj;
  const int r0 = task * j->rows_per_task, r1 = r0 + j->rows_per_task < j->rows ? r0 + j->rows_per_task : j->rows;
  j->kern->softmax_rows(j->att, r0, r1, j->ld, j->first_len, j->scale);
}

int qg_softmax_causal(float *att, int rows, int64_t ld, int first_len, float scale) {
  if (!att || rows < 1 || first_len < 1 || ld < 1 || (int64_t)first_len + rows - 1 > ld || !isfinite(scale)) return QG_EINVAL;
  call_begin(QG_CALL_SOFTMAX, rows, first_len, 0);
  softmax_job j = {kernels_for(qg_get_isa()), att, ld, rows, first_len, 16, scale};
  qg_pool_run((rows + j.rows_per_task - 1) / j.rows_per_task, softmax_task, &j);
  return call_end();
}

/* ---- residual + RMSNorm, RoPE: row tasks ---- */
typedef struct {
  const qg_kernels *kern;
  const qg_norm_args *norm; /* one of the two is set */
  const qg_rope_args *rope;
  int64_t rows, rows_per_task;
} row_op_job;

static void row_op_task(void *vj, int task, int thread) {
  (void)thread;
  const row_op_job *j = vj;
  const int64_t r0 = task * j->rows_per_task, r1 = r0 + j->rows_per_task < j->rows ? r0 + j->rows_per_task : j->rows;
  if (j->norm) j->kern->add_rmsnorm_rows(j->norm, r0, r1);
  else j->kern->rope_rows(j->rope, r0, r1);
}

/* rows over the pool: at least 4 tasks per thread when there are rows enough, tasks of at least 16 rows */
static void run_row_op(const qg_norm_args *norm, const qg_rope_args *rope, int64_t rows) {
  if (norm) call_begin(QG_CALL_RMSNORM, rows, norm->dim, 0);
  else call_begin(QG_CALL_ROPE, rows, rope->n_heads, rope->hs);
  const int64_t want = 4LL * qg_pool_threads();
  int64_t per = (rows + want - 1) / want;
  if (per < 16) per = 16;
  row_op_job j = {kernels_for(qg_get_isa()), norm, rope, rows, per};
  qg_pool_run((int)((rows + per - 1) / per), row_op_task, &j);
  (void)call_end(); /* no scratch in these tasks */
}

int qg_add_rmsnorm(float *x, int64_t ldx, const float *delta, int64_t ldd, float *out, int64_t ldo, const float *w,
                   int64_t rows, int64_t dim, float eps) {
  if (!x || !out || !w || rows < 1 || dim < 1 || ldx < dim || ldo < dim || (delta && ldd < dim) || !(eps >= 0.0f) ||
      !isfinite(eps) || rows > INT32_MAX)
    return QG_EINVAL;
  const qg_norm_args a = {x, ldx, delta, ldd, out, ldo, w, dim, eps};
  run_row_op(&a, NULL, rows);
  return QG_OK;
}

int qg_rope(float *x, int64_t rows, int64_t ldx, int n_heads, int hs, int start, const float *cos, const float *sin,
            int64_t positions, int style) {
  if (!x || !cos || !sin || rows < 1 || n_heads < 1 || hs < 2 || hs % 2 || start < 0 || (style != 0 && style != 1) ||
      ldx < (int64_t)n_heads * hs || (int64_t)start + rows > positions || rows > INT32_MAX)
    return QG_EINVAL;
  const qg_rope_args a = {x, ldx, n_heads, hs, start, style, cos, sin};
  run_row_op(NULL, &a, rows);
  return QG_OK;
}

/* ---- KV cache store ---- */
typedef struct {
  const qg_kernels *kern;
  const float *src;
  int64_t rows, ld;
  int hs;
  float *dst;
  int64_t head_stride, ld_dst;
  int start;
} kv_store_job;

/* one kv head: each source row's hs floats are read once, written down hs cache rows (consecutive positions); a tier's
 * own copy for chunks of 16 positions or more (AVX-512: gathers, whose int32 indices need sources < 2^31 / 16 floats
 * apart). The write prefetches are PREFETCHW where the target has it (every AVX-512 CPU; a no-op hint elsewhere). */
#if defined(__x86_64__)
__attribute__((target("prfchw")))
#endif
static void kv_store_task(void *vj, int g, int thread) {
  (void)thread;
  const kv_store_job *j = vj;
  const float *src = j->src + (int64_t)g * j->hs;
  float *dst = j->dst + (int64_t)g * j->head_stride + j->start;
  if (j->kern->kv_store_head && j->rows >= 16 && j->ld <= INT32_MAX / 16) {
    j->kern->kv_store_head(src, j->rows, j->ld, j->hs, dst, j->ld_dst);
    return;
  }
  /* a decode step: one float into each of hs cache lines, which a whole token's weights have evicted since the last
   * step read them. Stores wait for their lines one store-buffer's worth at a time (~9 us for a 1B layer's 256
   * floats, K or V); a burst of write prefetches first has the lines on their way together */
  if (j->rows < 16)
    for (int i = 0; i < j->hs; i++)
      for (int64_t t = 0; t < j->rows; t += 16 - ((int64_t)(dst + (int64_t)i * j->ld_dst + t) & 63) / 4)
        __builtin_prefetch(dst + (int64_t)i * j->ld_dst + t, 1);
  for (int64_t t = 0; t < j->rows; t++) {
    const float *s = src + t * j->ld;
    for (int i = 0; i < j->hs; i++) dst[(int64_t)i * j->ld_dst + t] = s[i];
  }
}

int qg_kv_store(const float *src, int64_t rows, int64_t ld, int n_kv_heads, int hs, float *dst, int64_t head_stride,
                int64_t ld_dst, int start) {
  if (!src || !dst || rows < 1 || n_kv_heads < 1 || hs < 1 || start < 0 || ld < (int64_t)n_kv_heads * hs ||
      ld_dst < (int64_t)start + rows || head_stride < (int64_t)hs * ld_dst)
    return QG_EINVAL;
  call_begin(QG_CALL_KV_STORE, rows, n_kv_heads, hs);
  kv_store_job j = {kernels_for(qg_get_isa()), src, rows, ld, hs, dst, head_stride, ld_dst, start};
  /* a decode step stores one position: waking the pool for a few dozen floats costs more than the copy */
  if (rows * n_kv_heads * hs < 4096)
    for (int g = 0; g < n_kv_heads; g++) kv_store_task(&j, g, 0);
  else
    qg_pool_run(n_kv_heads, kv_store_task, &j);
  return call_end();
}

/* ---- attention ---- */
typedef struct {
  const qg_kernels *kern;
  const qg_attention_args *a;
  int rows_per_task, blocks;
} attention_job;

static void attention_group_task(void *vj, int task, int thread) {
  attention_job *j = vj;
  const int G = j->a->n_heads / j->a->n_kv_heads, g = task / j->blocks, h1 = task % j->blocks * QG_ATT_GROUP_HEADS;
  j->kern->attention_group(j->a, g, h1, G - h1 < QG_ATT_GROUP_HEADS ? G - h1 : QG_ATT_GROUP_HEADS, thread);
}

static void attention_task(void *vj, int task, int thread) {
  attention_job *j = vj;
  /* each head's blocks latest first: the causal rows grow with t, so the last tasks claimed are the shortest and the
   * threads finish together (a task's rows are computed the same whichever thread runs it) */
  const int h = task / j->blocks, t0 = (j->blocks - 1 - task % j->blocks) * j->rows_per_task;
  const int t1 = t0 + j->rows_per_task < j->a->t_total ? t0 + j->rows_per_task : j->a->t_total;
  j->kern->attention_rows(j->a, h, t0, t1, thread);
}

int qg_attention(int t, int n_heads, int n_kv_heads, int hs, int start, const float *q, int64_t ldq,
                 const float *kt, const float *vt, int64_t kv_head_stride, int64_t ld_kv, float scale,
                 float *out, int64_t ldo) {
  if (t < 1 || n_heads < 1 || n_kv_heads < 1 || n_heads % n_kv_heads || hs < 1 || start < 0 || !q || !kt || !vt ||
      !out || ldq < (int64_t)n_heads * hs || ldo < (int64_t)n_heads * hs || ld_kv < (int64_t)start + t ||
      kv_head_stride < (int64_t)hs * ld_kv || !isfinite(scale))
    return QG_EINVAL;
  call_begin(QG_CALL_ATTENTION, t, n_heads, start);
  qg_attention_args a = {t, n_heads, n_kv_heads, hs, start, q, ldq, kt, vt, kv_head_stride, ld_kv, scale, out, ldo};
  /* blocks of queries small enough that a chunk gives every thread several tasks (the causal rows grow with t,
   * so the pool's dynamic task claiming balances them) and large enough that a block shares its K and V loads */
  const int rows = t >= 32 ? 16 : (t >= 8 ? 8 : t);
  attention_job j = {kernels_for(qg_get_isa()), &a, rows, (t + rows - 1) / rows};
  /* a decode step: a task per kv group and block of up to 8 of its heads (they share every K and V load); always,
   * so that the bits do not depend on the thread count or on a lane */
  if (t == 1 && j.kern->attention_group) {
    j.blocks = (n_heads / n_kv_heads + QG_ATT_GROUP_HEADS - 1) / QG_ATT_GROUP_HEADS;
    qg_pool_run(n_kv_heads * j.blocks, attention_group_task, &j);
  } else
    qg_pool_run(n_heads * j.blocks, attention_task, &j);
  return call_end();
}

/* ---- SwiGLU ---- */
typedef struct {
  const qg_kernels *kern;
  float *gate;
  const float *up;
  int64_t rows, n, ld, rows_per_task;
} swiglu_job;

static void swiglu_task(void *vj, int task, int thread) {
  (void)thread;
  swiglu_job *j = vj;
  const int64_t r0 = (int64_t)task * j->rows_per_task, r1 = r0 + j->rows_per_task < j->rows ? r0 + j->rows_per_task : j->rows;
  if (j->ld == j->n) { j->kern->swiglu_range(j->gate, j->up, r0 * j->n, r1 * j->n); return; }
  for (int64_t r = r0; r < r1; r++) j->kern->swiglu_range(j->gate + r * j->ld, j->up + r * j->ld, 0, j->n);
}

int qg_swiglu(float *gate, const float *up, int64_t rows, int64_t n, int64_t ld) {
  if (!gate || !up || rows < 1 || n < 1 || ld < n) return QG_EINVAL;
  call_begin(QG_CALL_SWIGLU, rows, n, 0);
  swiglu_job j = {kernels_for(qg_get_isa()), gate, up, rows, n, ld, 0};
  const int64_t total = rows * n;
  if (total <= 16384) {
    j.rows_per_task = rows; /* not worth waking the pool */
    swiglu_task(&j, 0, 0);
  } else if (rows == 1) { /* one long row (decode): split it */
    const int64_t per = 16384, tasks = (n + per - 1) / per;
    swiglu_job one = {j.kern, gate, up, tasks, per, per, 1};
    /* rows of `per` elements, the last one short: run the short tail here */
    one.rows = n / per;
    if (one.rows) qg_pool_run((int)one.rows, swiglu_task, &one);
    if (n % per) j.kern->swiglu_range(gate, up, one.rows * per, n);
  } else {
    j.rows_per_task = (16384 + n - 1) / n;
    qg_pool_run((int)((rows + j.rows_per_task - 1) / j.rows_per_task), swiglu_task, &j);
  }
  return call_end();
}

/* ---- largest value and sum of exponentials (perplexity's log-sum-exp) ---- */
float qg_max(const float *x, int64_t n) {
  if (!x) return NAN;
  /* eight running maxima (the compiler keeps one chain of compare-and-selects otherwise: ~2 cycles a float); the max of
   * non-NaN floats does not depend on the order (but for the sign of a zero maximum), and NaN never compares greater:
   * skipped */
  float m[8] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; j++) m[j] = x[i + j] > m[j] ? x[i + j] : m[j];
  for (; i < n; i++) m[0] = x[i] > m[0] ? x[i] : m[0];
  float r = m[0];
  for (int j = 1; j < 8; j++) r = m[j] > r ? m[j] : r;
  return r;
}

double qg_sum_exp(const float *x, int64_t n, double shift, double *exps) {
  if (!x || n < 1 || !isfinite(shift)) return NAN;
  const qg_kernels *kern = kernels_for(qg_get_isa());
  if (kern->sum_exp) return kern->sum_exp(x, n, shift, exps);
  double sum = 0;
  for (int64_t i = 0; i < n; i++) {
    const double e = exp((double)x[i] - shift);
    if (exps) exps[i] = e;
    sum += e;
  }
  return sum;
}

/* ---- STREAM-like read bandwidth ---- */
#ifndef QG_STREAM_TASK_WORDS
#define QG_STREAM_TASK_WORDS (1 << 18) /* 2 MiB per task */
#endif
typedef struct {
  const uint64_t *p;
  int64_t words_per_task, words;
  int simd; /* 2: AVX-512, 1: AVX2, 0: scalar */
  int64_t sums[256];
} stream_job;

#if defined(__x86_64__)
#include <immintrin.h>
/* the probe must read as fast as the machine allows, or every "fraction of bandwidth" is flattered:
 * 4 independent 512-bit loads per iteration */
__attribute__((target("avx512f"))) static int64_t stream_sum_avx512(const uint64_t *p, int64_t a, int64_t b) {
  __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0;
  int64_t i = a;
  for (; i + 32 <= b; i += 32) {
    /* 8 KiB ahead: measured 15-20% more than the hardware prefetcher alone reaches here, and the
     * kernels prefetch too; a probe weaker than the kernels would flatter every ratio */
    _mm_prefetch((const char *)(p + i + 1024), _MM_HINT_T0);
    _mm_prefetch((const char *)(p + i + 1032), _MM_HINT_T0);
    _mm_prefetch((const char *)(p + i + 1040), _MM_HINT_T0);
    _mm_prefetch((const char *)(p + i + 1048), _MM_HINT_T0);
    s0 = _mm512_add_epi64(s0, _mm512_load_si512(p + i));
    s1 = _mm512_add_epi64(s1, _mm512_load_si512(p + i + 8));
    s2 = _mm512_add_epi64(s2, _mm512_load_si512(p + i + 16));
    s3 = _mm512_add_epi64(s3, _mm512_load_si512(p + i + 24));
  }
  for (; i < b; i += 8) s0 = _mm512_add_epi64(s0, _mm512_load_si512(p + i));
  return _mm512_reduce_add_epi64(_mm512_add_epi64(_mm512_add_epi64(s0, s1), _mm512_add_epi64(s2, s3)));
}
__attribute__((target("avx2"))) static int64_t stream_sum_avx2(const uint64_t *p, int64_t a, int64_t b) {
  __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
  int64_t i = a;
  for (; i + 16 <= b; i += 16) {
    _mm_prefetch((const char *)(p + i + 1024), _MM_HINT_T0);
    _mm_prefetch((const char *)(p + i + 1032), _MM_HINT_T0);
    s0 = _mm256_add_epi64(s0, _mm256_load_si256((const __m256i *)(p + i)));
    s1 = _mm256_add_epi64(s1, _mm256_load_si256((const __m256i *)(p + i + 4)));
    s2 = _mm256_add_epi64(s2, _mm256_load_si256((const __m256i *)(p + i + 8)));
    s3 = _mm256_add_epi64(s3, _mm256_load_si256((const __m256i *)(p + i + 12)));
  }
  for (; i < b; i += 4) s0 = _mm256_add_epi64(s0, _mm256_load_si256((const __m256i *)(p + i)));
  __m256i s = _mm256_add_epi64(_mm256_add_epi64(s0, s1), _mm256_add_epi64(s2, s3));
  int64_t out[4];
  _mm256_storeu_si256((__m256i *)out, s);
  return out[0] + out[1] + out[2] + out[3];
}
#endif

static void stream_task(void *vj, int task, int thread) {
  stream_job *j = vj;
  const int64_t a = task * j->words_per_task;
  const int64_t b = a + j->words_per_task < j->words ? a + j->words_per_task : j->words;
#if defined(__x86_64__)
  if (j->simd == 2) { j->sums[thread & 255] += stream_sum_avx512(j->p, a, b); return; }
  if (j->simd == 1) { j->sums[thread & 255] += stream_sum_avx2(j->p, a, b); return; }
#endif
  uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
  for (int64_t i = a; i < b; i += 8) {
    s0 += j->p[i]; s1 += j->p[i + 1]; s2 += j->p[i + 2]; s3 += j->p[i + 3];
    s4 += j->p[i + 4]; s5 += j->p[i + 5]; s6 += j->p[i + 6]; s7 += j->p[i + 7];
  }
  j->sums[thread & 255] += (int64_t)(s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7);
}

int64_t qg_stream_read(const void *buf, int64_t bytes) {
  if (!buf || bytes < 64 || (bytes & 63) || ((uintptr_t)buf & 63)) return 0;
  call_begin(QG_CALL_STREAM, 1, bytes >> 20, 0);
  stream_job j;
  memset(&j, 0, sizeof j);
  j.p = buf;
  j.words = bytes / 8;
  j.words_per_task = QG_STREAM_TASK_WORDS;
  j.simd = qg_isa_supported(QG_ISA_AVX512) ? 2 : qg_isa_supported(QG_ISA_AVX2) ? 1 : 0;
  qg_pool_run((int)((j.words + j.words_per_task - 1) / j.words_per_task), stream_task, &j);
  int64_t s = 0;
  for (int i = 0; i < 256; i++) s += j.sums[i];
  (void)call_end(); /* no scratch in these tasks */
  return s;
}
