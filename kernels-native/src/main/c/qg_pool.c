/*
 * A persistent thread pool: workers spin briefly on a generation counter (a GEMV is ~100 us, so a
 * futex round trip per call would cost several percent), then sleep on a condition variable.
 * The calling thread is worker 0. Work is a range of tasks taken from an atomic counter.
 */
#include "qg_pool.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

#define MAX_THREADS 256
#define SPIN_ITERS 200000

static pthread_t workers[MAX_THREADS];
static int nthreads = 0; /* including the caller */
static _Atomic long generation = 0;
static _Atomic int next_task, tasks_done_workers, stop_flag;
static int ntasks_cur;
static qg_task_fn fn_cur;
static void *ctx_cur;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

static void run_tasks(int thread) {
  for (;;) {
    int t = atomic_fetch_add(&next_task, 1);
    if (t >= ntasks_cur) break;
    fn_cur(ctx_cur, t, thread);
  }
}

static void *worker_main(void *arg) {
  const int id = (int)(intptr_t)arg;
  long seen = 0;
  for (;;) {
    long gen;
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
    run_tasks(id);
    atomic_fetch_add_explicit(&tasks_done_workers, 1, memory_order_release);
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
  for (int i = 1; i < threads; i++) {
    if (pthread_create(&workers[i], NULL, worker_main, (void *)(intptr_t)i) != 0) {
      nthreads = i; /* keep the ones we got */
      return nthreads;
    }
    nthreads = i + 1;
  }
  nthreads = threads;
  return nthreads;
}

int qg_pool_threads(void) { return nthreads < 1 ? 1 : nthreads; }

void qg_pool_run(int ntasks, qg_task_fn fn, void *ctx) {
  if (nthreads == 0) qg_pool_resize(0);
  if (nthreads == 1 || ntasks == 1) {
    for (int t = 0; t < ntasks; t++) fn(ctx, t, 0);
    return;
  }
  ntasks_cur = ntasks; fn_cur = fn; ctx_cur = ctx;
  atomic_store(&next_task, 0);
  atomic_store(&tasks_done_workers, 0);
  pthread_mutex_lock(&mu);
  atomic_fetch_add_explicit(&generation, 1, memory_order_release);
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
  run_tasks(0);
  while (atomic_load_explicit(&tasks_done_workers, memory_order_acquire) < nthreads - 1) CPU_RELAX();
}
