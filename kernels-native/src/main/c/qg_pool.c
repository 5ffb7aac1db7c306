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
 * sleep on a condition variable so an idle pool burns no CPU.
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

static void *worker_main(void *arg) {
  const int id = (int)(intptr_t)arg;
  uint32_t seen = spawn_generation; /* written before pthread_create, which orders it before this read */
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
    run_tasks(gen, id);
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

void qg_pool_run(int ntasks, qg_task_fn fn, void *ctx) {
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
  atomic_store_explicit(&ticket, (uint64_t)gen << 32, memory_order_release);
  pthread_mutex_lock(&mu);
  atomic_store_explicit(&generation, gen, memory_order_release);
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
  run_tasks(gen, 0);
  /* wait for tasks other workers claimed; yield now and then in case one was descheduled */
  for (int spins = 0; atomic_load_explicit(&finished.n, memory_order_acquire) < ntasks; spins++) {
    if (spins & 255) CPU_RELAX();
    else sched_yield();
  }
}
