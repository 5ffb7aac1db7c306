/*
 * Paired timing of one decode step's qg_attention (t 1 at position P) in several builds of libquantgate.so, in one
 * process, with the caches flushed before every call (a 64 MiB walk), as a decode step finds them after a token's
 * weights streamed through; the pool's workers are woken by a tiny call just before each timed one. The K and V
 * caches are 2 MiB-aligned and advised to huge pages (HUGE=1), as the model's sequences have them (WeightArena).
 * Libraries alternate in order and reversed order every round (ROUNDS, default 60); prints each one's mean and median.
 *
 *   gcc -O2 ab_attention_decode.c -o ab_attention_decode -ldl
 *   HUGE=1 ./ab_attention_decode P LD THREADS A.so B.so [C.so ...]
 *
 * synthetic llama-1b's layer: 32 heads over 8 kv heads of 64 (as in the model: LD = the padded cache row,
 * LlamaSequence.cacheRow: 2064 for a 2048-position context). NOFLUSH=1 keeps the caches warm.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

typedef int (*attention_fn)(int, int, int, int, int, const float *, int64_t, const float *, const float *, int64_t,
                            int64_t, float, float *, int64_t);

static int cmp(const void *a, const void *b) { const double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

static float *mapped(size_t bytes) {
  const size_t huge = (size_t)2 << 20, len = (bytes + huge - 1) & ~(huge - 1);
  char *p = mmap(NULL, len + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) { perror("mmap"); exit(1); }
  char *a = (char *)(((uintptr_t)p + huge - 1) & ~(uintptr_t)(huge - 1));
  if (getenv("HUGE")) (void)madvise(a, len, MADV_HUGEPAGE);
  return (float *)a;
}

int main(int argc, char **argv) {
  if (argc < 5) { fprintf(stderr, "usage: %s P LD THREADS A.so [B.so ...]\n", argv[0]); return 2; }
  const int P = atoi(argv[1]), LD = atoi(argv[2]), threads = atoi(argv[3]), nl = argc - 4;
  if (P < 0 || LD < P + 1 || nl > 8) { fprintf(stderr, "bad arguments (LD must hold P + 1 positions; at most 8 libraries)\n"); return 2; }
  attention_fn f[8];
  for (int i = 0; i < nl; i++) {
    void *h = dlopen(argv[4 + i], RTLD_NOW | RTLD_LOCAL);
    if (!h) { fprintf(stderr, "%s\n", dlerror()); return 2; }
    f[i] = (attention_fn)dlsym(h, "qg_attention");
    int (*set_threads)(int) = (int (*)(int))dlsym(h, "qg_set_threads");
    if (!f[i] || !set_threads) { fprintf(stderr, "%s: no qg_attention / qg_set_threads\n", argv[4 + i]); return 2; }
    set_threads(threads);
  }
  const int H = 32, KV = 8, HS = 64;
  const int64_t stride = (int64_t)HS * LD;
  float *q = malloc(sizeof(float) * H * HS), *o = malloc(sizeof(float) * H * HS);
  float *kt = mapped(sizeof(float) * KV * stride), *vt = mapped(sizeof(float) * KV * stride);
  srand(1);
  for (int i = 0; i < H * HS; i++) q[i] = (float)rand() / RAND_MAX - 0.5f;
  for (int64_t i = 0; i < KV * stride; i++) { kt[i] = (float)rand() / RAND_MAX - 0.5f; vt[i] = (float)rand() / RAND_MAX; }
  const size_t flush_bytes = (size_t)64 << 20;
  char *flush = malloc(flush_bytes);
  memset(flush, 1, flush_bytes);
  double total[8] = {0}, times[8][200];
  const int rounds = getenv("ROUNDS") && atoi(getenv("ROUNDS")) > 0 && atoi(getenv("ROUNDS")) <= 200 ? atoi(getenv("ROUNDS")) : 60;
  for (int r = -2; r < rounds; r++)
    for (int i = 0; i < nl; i++) {
      const int lib = (r & 1) ? nl - 1 - i : i;
      if (!getenv("NOFLUSH"))
        for (size_t j = 0; j < flush_bytes; j += 64) flush[j]++;
      if (f[lib](1, H, KV, HS, 0, q, H * HS, q, q, 64, 1, 0.125f, o, H * HS) != 0) return 1; /* wakes the workers */
      const double t = now();
      if (f[lib](1, H, KV, HS, P, q, H * HS, kt, vt, stride, LD, 0.125f, o, H * HS) != 0) { fprintf(stderr, "rc\n"); return 1; }
      if (r >= 0) { times[lib][r] = now() - t; total[lib] += times[lib][r]; }
    }
  for (int i = 0; i < nl; i++) {
    qsort(times[i], rounds, sizeof(double), cmp);
    printf("%s: mean %.1f us, median %.1f us\n", argv[4 + i], total[i] / rounds * 1e6, times[i][rounds / 2] * 1e6);
  }
  return 0;
}
