/*
 * Paired A/B timing of qg_attention in two builds of libquantgate.so, in one process: the same prefill chunk
 * (T queries at positions 0..T-1 over a cache of T positions, n_heads over n_kv_heads of size hs) alternates
 * between library A and B, order flipped every round; prints each median and the per-round ratios B/A.
 *
 *   gcc -O2 ab_attention.c -o ab_attention -ldl -lm
 *   ./ab_attention OLD.so NEW.so T HEADS KV_HEADS HS [ROUNDS [THREADS]]
 *
 * stories260K's chunk: T 512, 8 heads over 4, hs 8; a 7B layer's: 512, 32, 32, 128.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

typedef int (*attention_fn)(int, int, int, int, int, const float *, int64_t, const float *, const float *, int64_t,
                            int64_t, float, float *, int64_t);

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }
static double median(double *v, int n) { qsort(v, n, sizeof *v, cmp); return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]); }

int main(int argc, char **argv) {
  if (argc < 7) { fprintf(stderr, "usage: %s A.so B.so T HEADS KV_HEADS HS [ROUNDS [THREADS]]\n", argv[0]); return 2; }
  attention_fn f[2];
  for (int i = 0; i < 2; i++) {
    void *h = dlopen(argv[1 + i], RTLD_NOW | RTLD_LOCAL);
    if (!h) { fprintf(stderr, "%s\n", dlerror()); return 2; }
    f[i] = (attention_fn)dlsym(h, "qg_attention");
    if (!f[i]) { fprintf(stderr, "no qg_attention in %s\n", argv[1 + i]); return 2; }
    if (argc > 8) {
      int (*set_threads)(int) = (int (*)(int))dlsym(h, "qg_set_threads");
      if (set_threads) set_threads(atoi(argv[8]));
    }
  }
  const int t = atoi(argv[3]), heads = atoi(argv[4]), kvh = atoi(argv[5]), hs = atoi(argv[6]);
  const int rounds = argc > 7 ? atoi(argv[7]) : 30;
  if (t < 1 || heads < 1 || kvh < 1 || heads % kvh || hs < 1 || rounds < 1) { fprintf(stderr, "bad sizes\n"); return 2; }
  const int64_t ld = t, stride = (int64_t)hs * ld, ldq = (int64_t)heads * hs;
  float *q = malloc(sizeof(float) * t * ldq), *kt = malloc(sizeof(float) * kvh * stride);
  float *vt = malloc(sizeof(float) * kvh * stride), *o = malloc(sizeof(float) * t * ldq);
  srand(1);
  for (int64_t i = 0; i < (int64_t)t * ldq; i++) q[i] = (float)rand() / RAND_MAX - 0.5f;
  for (int64_t i = 0; i < (int64_t)kvh * stride; i++) { kt[i] = (float)rand() / RAND_MAX - 0.5f; vt[i] = (float)rand() / RAND_MAX; }
  double *ta = malloc(sizeof(double) * rounds), *tb = malloc(sizeof(double) * rounds), *ratio = malloc(sizeof(double) * rounds);
  for (int r = -2; r < rounds; r++) {
    double dt[2];
    for (int j = 0; j < 2; j++) {
      const int lib = (r & 1) ? 1 - j : j;
      const double s = now();
      if (f[lib](t, heads, kvh, hs, 0, q, ldq, kt, vt, stride, ld, 1.0f / (float)hs, o, ldq) != 0) { fprintf(stderr, "rc\n"); return 1; }
      dt[lib] = now() - s;
      usleep(2000);
    }
    if (r >= 0) { ta[r] = dt[0]; tb[r] = dt[1]; ratio[r] = dt[1] / dt[0]; }
  }
  const double ma = median(ta, rounds), mb = median(tb, rounds);
  qsort(ratio, rounds, sizeof *ratio, cmp);
  printf("attention T=%d heads=%d/%d hs=%d: A %.3f ms, B %.3f ms, B/A median %.3f [%.3f .. %.3f]\n", t, heads, kvh, hs,
         ma * 1e3, mb * 1e3, median(ratio, rounds), ratio[0], ratio[rounds - 1]);
  return 0;
}
