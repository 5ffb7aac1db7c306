/*
 * A persistent thread pool. The calling thread is worker 0 and takes tasks like everyone else, so a
 * worker that the OS has descheduled (a busy machine, the JVM's GC and JIT threads) never holds a
 * call up: tasks are claimed with a compare-and-swap on a word that carries the call's generation,
 * and the call ends when all its tasks are done, not when every worker has checked in.
 * Thread t owns the t-th contiguous range of a call's tasks and takes them from the front; a thread whose range is
 * done takes from the back of the others'. The kernels number their tasks along the rows of their outputs, so the
 * same thread writes (and keeps in its cache) the same rows from one call to the next — a norm, RoPE or SwiGLU reads
 * the rows the GEMM before it wrote on the same core — while a slow or descheduled thread still never holds a call
 * up. Calls of more than RANGE_MAX tasks share one ticket instead.
 * Workers spin briefly between calls (a GEMV takes ~100 us; a futex wake-up costs tens of us), then
 * sleep on a condition variable so an idle pool burns no CPU. Between calls a worker may also read ahead: the start
 * of its share of the weights the caller expects to stream next (qg_pool_run_ahead), while the memory would idle.
 */
#include "qg_pool.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ __volatile__("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

#define MAX_THREADS 256
#define SPIN_ITERS 100000 /* ~1-3 ms of pause before a worker sleeps: back-to-back kernel calls never pay a wake-up */

static pthread_t workers[MAX_THREADS];
static int nthreads = 0; /* including the caller */
#define RANGE_MAX 65535 /* tasks per call that the ranges can number (16 bits each end) */
static _Atomic uint64_t ticket;     /* generation << 32 | next task index (calls of more than RANGE_MAX tasks) */
/* thread t's range of the current call: generation << 32 | back << 16 | front — tasks front .. back-1 are unclaimed;
 * one cache line each, so that the owners' claims do not pass a shared line back and forth */
typedef struct {
  _Atomic uint64_t word;
  char pad[64 - sizeof(uint64_t)];
} task_range;
static task_range range[MAX_THREADS] __attribute__((aligned(64)));
/* the current call claims through range[]; atomic because a worker still leaving the previous call may read it while the
 * next call sets it (whatever it reads then, its claims fail the generation check) */
static _Atomic int ranged_cur;
static _Atomic uint32_t generation; /* bumped to wake workers for a call (or to stop them) */
/* tasks completed in the current call, on a cache line of its own; each thread adds its count once, when it finds no
 * task left, instead of after every task: a per-task add passed this line between the cores hundreds of times a call
 * (whole-file perplexity of stories260K: ~9 M adds), slow whenever the two vCPUs sat far apart */
static struct {
  _Atomic int n;
  char pad[64 - sizeof(int)];
} finished __attribute__((aligned(64)));
static _Atomic int stop_flag;

/* ---- reading ahead (qg_pool_run_ahead) ----
 * The regions are written by the caller while a worker still reading ahead from the previous ones may load them: a
 * sequence lock (odd while they change) gives every reader one call's start, length and epoch together. */
#define AHEAD_CHUNK 512 /* bytes read between checks for the next call (8 lines: a few hundred ns from DRAM) */
static _Atomic uintptr_t ahead_start[MAX_THREADS];
static _Atomic int64_t ahead_bytes[MAX_THREADS];
/* each region's own epoch (loads) or 0 (prefetches): a slot a smaller pool stopped writing keeps the epoch its
 * region was checked under, never a later call's */
static _Atomic uint64_t ahead_epoch[MAX_THREADS];
static _Atomic uint32_t ahead_seq;
/* bumped before a qg_pages mapping goes (qg_pool_pages_retire); a thread loads from a region only while it is on its
 * reading flag and the epoch is still the region's: either the retiring thread sees the flag and waits, or the reader
 * sees the new epoch and stops (both sequentially consistent) */
static _Atomic uint64_t pages_epoch = 1;
static struct {
  _Atomic int on;
  char pad[64 - sizeof(int)];
} reading[MAX_THREADS] __attribute__((aligned(64)));
typedef struct {
  const char *p;
  int64_t left;
  uint64_t epoch;
  uint32_t seq;
} ahead_state;
static ahead_state caller_ahead; /* the calling thread's (one call at a time runs on the pool) */
/* the generation when the current workers were created: a worker starts from it, not from whatever generation it
 * finds once it runs, or a stop (or call) issued between pthread_create and the worker's first instruction would go
 * unseen and a resize would wait forever in pthread_join (seen in the self-test: two resizes back to back) */
static uint32_t spawn_generation;
/* atomic for the same reason as ranged_cur: a worker that found the previous call's ticket may read it once more */
static _Atomic int ntasks_cur;
static qg_task_fn fn_cur;
static void *ctx_cur;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
/* this thread runs its calls' tasks itself, one after another (a lane, quantgate.h: qg_lane_begin): the pool's state
 * above is the pool's callers', and a lane's call must not touch it while another thread's call runs on the pool */
static __thread int serial_here;

void qg_pool_serial(int on) { serial_here = on; }

/* One task of call `gen` from range r: its front (the owner) or its back (another thread); -1 when none is left. */
static int claim(int r, uint32_t gen, int front) {
  uint64_t v = atomic_load_explicit(&range[r].word, memory_order_acquire);
  for (;;) {
    const uint32_t lo = (uint32_t)(v & 0xffff), hi = (uint32_t)((v >> 16) & 0xffff);
    if ((uint32_t)(v >> 32) != gen || lo >= hi) return -1;
    const uint64_t next = front ? v + 1 : v - (1u << 16);
    if (atomic_compare_exchange_weak_explicit(&range[r].word, &v, next, memory_order_acq_rel, memory_order_acquire))
      return (int)(front ? lo : hi - 1);
  }
}

/* Claims and runs tasks of call `gen` until none is left: its own range first, then the others' from the back. */
static void run_tasks(uint32_t gen, int thread) {
  int done = 0; /* the call cannot end before these are counted, so its parameters stay valid until then */
  if (atomic_load_explicit(&ranged_cur, memory_order_relaxed)) {
    const int n = nthreads;
    for (int k = 0; k < n; k++) {
      const int r = (thread + k) % n;
      for (int t; (t = claim(r, gen, k == 0)) >= 0; done++) fn_cur(ctx_cur, t, thread);
    }
  } else {
    for (;;) {
      uint64_t t = atomic_load_explicit(&ticket, memory_order_acquire);
      if ((uint32_t)(t >> 32) != gen || (int)(uint32_t)t >= atomic_load_explicit(&ntasks_cur, memory_order_relaxed)) break;
      if (!atomic_compare_exchange_weak_explicit(&ticket, &t, t + 1, memory_order_acq_rel, memory_order_relaxed)) continue;
      fn_cur(ctx_cur, (int)(uint32_t)t, thread);
      done++;
    }
  }
  if (done) atomic_fetch_add_explicit(&finished.n, done, memory_order_release);
}

uint64_t qg_pool_pages_epoch(void) { return atomic_load(&pages_epoch); }

void qg_pool_pages_retire(void) {
  atomic_fetch_add(&pages_epoch, 1);
  for (int t = 0; t < MAX_THREADS; t++)
    for (int spins = 1; atomic_load(&reading[t].on); spins++) { /* one chunk's loads; yield if the reader was descheduled */
      if (spins & 255) CPU_RELAX();
      else sched_yield();
    }
}

/* the writer's side of the sequence lock: threads 0 .. count-1 get [start[t], + bytes[t]) under `epoch`, or empty
 * regions where start is NULL */
static void ahead_publish(int count, const char *const *start, const int64_t *bytes, uint64_t epoch) {
  const uint32_t q = atomic_load_explicit(&ahead_seq, memory_order_relaxed);
  atomic_store_explicit(&ahead_seq, q + 1, memory_order_relaxed);
  for (int t = 0; t < count; t++) { /* release: a reader that loads one of these sees the odd number too */
    atomic_store_explicit(&ahead_start[t], start ? (uintptr_t)start[t] : 0, memory_order_release);
    atomic_store_explicit(&ahead_bytes[t], start ? bytes[t] : 0, memory_order_release);
    atomic_store_explicit(&ahead_epoch[t], start ? epoch : 0, memory_order_release);
  }
  atomic_store_explicit(&ahead_seq, q + 2, memory_order_release);
}

/* thread t's region of the latest call that set regions, unless `s` has it already */
static void ahead_take(ahead_state *s, int t) {
  for (;;) {
    const uint32_t q = atomic_load_explicit(&ahead_seq, memory_order_acquire);
    if (q == s->seq) return;
    if (q & 1) { CPU_RELAX(); continue; }
    /* acquire loads (no fences: ThreadSanitizer does not model them): a value of the next call's comes with the
     * sequence number the writer set before it, so the check below sees the change */
    const char *p = (const char *)atomic_load_explicit(&ahead_start[t], memory_order_acquire);
    const int64_t left = atomic_load_explicit(&ahead_bytes[t], memory_order_acquire);
    const uint64_t epoch = atomic_load_explicit(&ahead_epoch[t], memory_order_acquire);
    if (atomic_load_explicit(&ahead_seq, memory_order_relaxed) != q) continue;
    *s = (ahead_state){p, left, epoch, q};
    return;
  }
}

/* reads the next chunk of thread t's region; 0 when none is left */
static int ahead_chunk(ahead_state *s, int t) {
  if (s->left <= 0) return 0;
  const int n = s->left < AHEAD_CHUNK ? (int)s->left : AHEAD_CHUNK;
  if (s->epoch) {
    /* loads wait for their lines where prefetches are dropped when the core's misses are full: measured in a decode
     * with gaps between its GEMVs (ab_decode, QG_AB_GAP_US=10), 0.96x the time per token against 0.98x */
    atomic_store(&reading[t].on, 1);
    if (atomic_load(&pages_epoch) != s->epoch) {
      atomic_store_explicit(&reading[t].on, 0, memory_order_release);
      s->left = 0;
      return 0;
    }
    for (int l = 0; l < n; l += 64) (void)*(const volatile char *)(s->p + l);
    atomic_store_explicit(&reading[t].on, 0, memory_order_release);
  } else {
    for (int l = 0; l < n; l += 64) __builtin_prefetch(s->p + l, 0, 3);
  }
  s->p += n;
  s->left -= n;
  return 1;
}

static void *worker_main(void *arg) {
  const int id = (int)(intptr_t)arg;
  uint32_t seen = spawn_generation; /* written before pthread_create, which orders it before this read */
  ahead_state ahead = {NULL, 0, 0, 0};
  for (;;) {
    uint32_t gen;
    int spins = 0;
    while ((gen = atomic_load_explicit(&generation, memory_order_acquire)) == seen) {
      if (++spins < SPIN_ITERS) { CPU_RELAX(); continue; }
      pthread_mutex_lock(&mu);
      while ((gen = atomic_load(&generation)) == seen) pthread_cond_wait(&cv, &mu);
      pthread_mutex_unlock(&mu);
      break;
    }
    seen = gen;
    if (atomic_load(&stop_flag)) return NULL;
    ahead_take(&ahead, id);
    run_tasks(gen, id);
    /* idle until the next call: read ahead, a chunk at a time, stopping as soon as a call begins */
    while (atomic_load_explicit(&generation, memory_order_relaxed) == gen && ahead_chunk(&ahead, id)) {}
  }
}

static void stop_workers(void) {
  if (nthreads <= 1) { nthreads = 1; return; }
  atomic_store(&stop_flag, 1);
  pthread_mutex_lock(&mu);
  atomic_fetch_add(&generation, 1);
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
  for (int i = 1; i < nthreads; i++) pthread_join(workers[i], NULL);
  atomic_store(&stop_flag, 0);
  nthreads = 1;
}

int qg_pool_online_cores(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : (n > MAX_THREADS ? MAX_THREADS : (int)n);
}

int qg_pool_resize(int threads) {
  if (threads <= 0) threads = qg_pool_online_cores();
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  if (threads == nthreads) return nthreads;
  stop_workers();
  ahead_publish(MAX_THREADS, NULL, NULL, 0); /* every slot empty: no worker runs now */
  caller_ahead.left = 0;
  spawn_generation = atomic_load(&generation);
  for (int i = 1; i < threads; i++) {
    if (pthread_create(&workers[i], NULL, worker_main, (void *)(intptr_t)i) != 0) break;
    nthreads = i + 1;
  }
  if (nthreads < 1) nthreads = 1;
  return nthreads;
}

/* threads a call of this thread runs on: 1 in a lane (for sizing its tasks) */
int qg_pool_threads(void) { return serial_here || nthreads < 1 ? 1 : nthreads; }

/* the pool's threads, whichever thread asks */
int qg_pool_size(void) { return nthreads < 1 ? 1 : nthreads; }

void qg_pool_run(int ntasks, qg_task_fn fn, void *ctx) { qg_pool_run_ahead(ntasks, fn, ctx, 0, NULL, NULL, 0); }

void qg_pool_run_ahead(int ntasks, qg_task_fn fn, void *ctx, int nregions, const char *const *start,
                       const int64_t *bytes, uint64_t epoch) {
  if (!serial_here && nthreads == 0) qg_pool_resize(0);
  if (serial_here || nthreads == 1 || ntasks == 1) {
    for (int t = 0; t < ntasks; t++) fn(ctx, t, 0);
    return;
  }
  atomic_store_explicit(&ntasks_cur, ntasks, memory_order_relaxed);
  fn_cur = fn;
  ctx_cur = ctx;
  atomic_store_explicit(&finished.n, 0, memory_order_relaxed);
  const uint32_t gen = atomic_load(&generation) + 1;
  const int ranged = ntasks <= RANGE_MAX;
  atomic_store_explicit(&ranged_cur, ranged, memory_order_relaxed);
  if (ranged) {
    for (int t = 0; t < nthreads; t++) {
      const uint64_t lo = (uint64_t)ntasks * t / nthreads, hi = (uint64_t)ntasks * (t + 1) / nthreads;
      atomic_store_explicit(&range[t].word, (uint64_t)gen << 32 | hi << 16 | lo, memory_order_release);
    }
  }
  const int sets = start != NULL; /* this call sets the regions (empty ones where nregions is not the pool's size) */
  if (sets) {
    ahead_publish(nthreads, nregions == nthreads ? start : NULL, bytes, epoch);
    ahead_take(&caller_ahead, 0);
  }
  atomic_store_explicit(&ticket, (uint64_t)gen << 32, memory_order_release);
  pthread_mutex_lock(&mu);
  atomic_store_explicit(&generation, gen, memory_order_release);
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
  run_tasks(gen, 0);
  /* wait for tasks other workers claimed (in a call that set regions, reading ahead meanwhile); yield now and then in
   * case one was descheduled */
  for (int spins = 0; atomic_load_explicit(&finished.n, memory_order_acquire) < ntasks; spins++) {
    if (sets && ahead_chunk(&caller_ahead, 0)) continue;
    if (spins & 255) CPU_RELAX();
    else sched_yield();
  }
}
