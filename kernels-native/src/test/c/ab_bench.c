/*
 * Paired A/B timing of two builds of libquantgate.so in one process: the same qg_gemm call on the same
 * inputs alternates between library A and library B (order flipped every round), so machine drift hits
 * both alike; prints the median time of each and the median and range of the per-round ratios B/A.
 * Each library has its own thread pool: a pause after every call lets the other's workers go to sleep.
 *
 *   gcc -O2 ab_bench.c -o ab_bench -ldl -lm
 *   ./ab_bench OLD.so NEW.so FMT ACT N K GROUP M [ROUNDS [CALLS [THREADS]]]   (FMT/ACT: quantgate.h numbers)
 *
 * A round times CALLS back-to-back calls (default 1) of one library, so short calls (GEMV) are timed as a
 * model runs them: pool workers awake, weights in cache when they fit. THREADS (default: the libraries' default,
 * all cores) sets both pools; 1 times the kernels' instruction efficiency without any pool effects.
 * QG_AB_COPIES=C cycles the calls of a round over C copies of the weights (from DRAM once C x their size passes the
 * last-level cache; with panels, C copies of the panels as well). The copies are 64-byte aligned on 4 KiB pages, unlike a
 * model's weights (huge-page-advised, qg_pages_alloc): from DRAM that changes what a prefetch change gains (see
 * ab_decode.c, which allocates as the model does); QG_AB_HUGE=1 puts every copy on huge pages as the model does (the
 * 4-bit 4096x14336 GEMV read ~15 GB/s on two threads from 4 KiB pages). QG_AB_PANELS=1 in the environment runs B through qg_gemm_panels on weights it prepacked once; 2 runs A through the
 * same panels too; 3 has A read panels it packed itself (two builds whose panel layouts differ).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef int (*gemm_fn)(int, int, int, int, int, const void *, const uint16_t *, const uint8_t *, int, const float *,
                       int64_t, float *, int64_t);

/* 64-byte aligned, as the model's memory is: a large malloc returns a page + 16 bytes, so every 64-byte load of a row
 * crossed two cache lines. In-cache figures taken before 2026-12-04 (fifth to seventh sessions) had that handicap: Q4_0
 * GEMV 256x2048 on one thread, weights in L2, 10.3 us misaligned against 8.6 aligned (28 -> 34 GB/s per core); from
 * L3 (1024x2048) no difference */
static void *amalloc(size_t bytes) { return aligned_alloc(64, (bytes + 63) / 64 * 64); }
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }
static double median(double *v, int n) { qsort(v, n, sizeof *v, cmp); return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]); }

int main(int argc, char **argv) {
  if (argc < 9) { fprintf(stderr, "usage: %s A.so B.so FMT ACT N K GROUP M [ROUNDS]\n", argv[0]); return 2; }
  gemm_fn f[2];
  for (int i = 0; i < 2; i++) {
    void *h = dlopen(argv[1 + i], RTLD_NOW | RTLD_LOCAL);
    if (!h) { fprintf(stderr, "%s\n", dlerror()); return 2; }
    f[i] = (gemm_fn)dlsym(h, "qg_gemm");
    if (!f[i]) { fprintf(stderr, "no qg_gemm in %s\n", argv[1 + i]); return 2; }
    if (argc > 11) {
      int (*set_threads)(int) = (int (*)(int))dlsym(h, "qg_set_threads");
      if (set_threads) set_threads(atoi(argv[11]));
    }
  }
  const int fmt = atoi(argv[3]), act = atoi(argv[4]), n = atoi(argv[5]), k = atoi(argv[6]), g = atoi(argv[7]), m = atoi(argv[8]);
  const int rounds = argc > 9 ? (atoi(argv[9]) < 256 ? atoi(argv[9]) : 256) : 15, calls = argc > 10 ? atoi(argv[10]) : 1;
  const int64_t rb = fmt == 0 ? 4LL * k : fmt <= 2 ? 2LL * k : fmt == 3 ? k : 4LL * ((k + 7) / 8);
  const int G = (k + g - 1) / g;
  uint8_t *codes = amalloc((size_t)n * rb), *zeros = amalloc((size_t)n * G);
  uint16_t *scales = amalloc((size_t)n * G * 2);
  float *x = amalloc((size_t)m * k * 4), *y[2] = {amalloc((size_t)m * n * 4), amalloc((size_t)m * n * 4)};
  srand(7);
  for (int64_t i = 0; i < (int64_t)n * rb; i++) codes[i] = (uint8_t)rand();
  if (fmt == 1) for (int64_t i = 0; i < (int64_t)n * k; i++) ((uint16_t *)codes)[i] = 0x3c00 ^ (uint16_t)(rand() & 0x83ff);
  for (int64_t i = 0; i < (int64_t)n * G; i++) { scales[i] = 0x2000 + (rand() & 0x3ff); zeros[i] = rand() & 15; }
  for (int64_t i = 0; i < (int64_t)m * k; i++) x[i] = (float)rand() / RAND_MAX - 0.5f;
  /* QG_AB_PANELS=1: library B runs through qg_gemm_panels on panels it packed once (qg_pack_panels), A as given */
  typedef int64_t (*pbytes_fn)(int, int, int, int);
  typedef int (*pack_fn)(int, int, int, int, const void *, const uint16_t *, const uint8_t *, void *, int64_t);
  typedef int (*gemmp_fn)(int, int, int, int, int, const void *, const uint16_t *, const uint8_t *, const void *, int64_t,
                          int, const float *, int64_t, float *, int64_t);
  gemmp_fn gp = NULL, gpa = NULL;
  void *panels = NULL, *panels_a = NULL;
  int64_t pbytes = 0, pbytes_a = 0;
  if (getenv("QG_AB_PANELS") && atoi(getenv("QG_AB_PANELS"))) {
    void *hb = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);
    pbytes_fn pb = (pbytes_fn)dlsym(hb, "qg_panels_bytes");
    pack_fn pk = (pack_fn)dlsym(hb, "qg_pack_panels");
    gp = (gemmp_fn)dlsym(hb, "qg_gemm_panels");
    if (!pb || !pk || !gp) { fprintf(stderr, "B has no qg_gemm_panels\n"); return 2; }
    pbytes = pb(fmt, n, k, g);
    panels = aligned_alloc(64, (size_t)(pbytes + 63) / 64 * 64);
    if (pk(fmt, n, k, g, codes, scales, zeros, panels, pbytes) != 0) { fprintf(stderr, "qg_pack_panels failed\n"); return 1; }
    if (atoi(getenv("QG_AB_PANELS")) >= 2) { /* A reads panels too: B's (2), or its own (3: libraries whose layouts differ) */
      void *ha = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
      gpa = (gemmp_fn)dlsym(ha, "qg_gemm_panels");
      if (!gpa) { fprintf(stderr, "A has no qg_gemm_panels\n"); return 2; }
      if (atoi(getenv("QG_AB_PANELS")) == 3) {
        pbytes_fn pba = (pbytes_fn)dlsym(ha, "qg_panels_bytes");
        pack_fn pka = (pack_fn)dlsym(ha, "qg_pack_panels");
        if (!pba || !pka) { fprintf(stderr, "A has no qg_pack_panels\n"); return 2; }
        pbytes_a = pba(fmt, n, k, g);
        panels_a = aligned_alloc(64, (size_t)(pbytes_a + 63) / 64 * 64);
        if (pka(fmt, n, k, g, codes, scales, zeros, panels_a, pbytes_a) != 0) { fprintf(stderr, "A's qg_pack_panels failed\n"); return 1; }
      }
    }
  }
  /* QG_AB_COPIES=C: the calls of a round cycle over C copies of the weights, so that with C x their size beyond the
   * last-level cache every call streams them from DRAM, as a model's decode does */
  const int copies = getenv("QG_AB_COPIES") ? atoi(getenv("QG_AB_COPIES")) : 1;
  if (copies < 1 || copies > 4096) { fprintf(stderr, "QG_AB_COPIES: 1..4096\n"); return 2; }
  void **panels_c = malloc(sizeof(void *) * copies), **panels_ac = malloc(sizeof(void *) * copies); /* cycled too */
  panels_c[0] = panels;
  panels_ac[0] = panels_a ? panels_a : panels;
  /* QG_AB_HUGE=1: every copy (the first too) in library A's huge-page-advised memory (qg_pages_alloc), as a model
   * keeps its weights and panels; otherwise 64-byte aligned on 4 KiB pages */
  void *(*pages_alloc)(int64_t) = NULL;
  if (getenv("QG_AB_HUGE") && atoi(getenv("QG_AB_HUGE"))) {
    pages_alloc = (void *(*)(int64_t))dlsym(dlopen(argv[1], RTLD_NOW | RTLD_LOCAL), "qg_pages_alloc");
    if (!pages_alloc) { fprintf(stderr, "A has no qg_pages_alloc\n"); return 2; }
    if (panels) {
      panels_c[0] = pages_alloc(pbytes);
      if (!panels_c[0]) { fprintf(stderr, "out of memory for the panels\n"); return 2; }
      memcpy(panels_c[0], panels, (size_t)pbytes);
      if (panels_a) {
        panels_ac[0] = pages_alloc(pbytes_a);
        if (!panels_ac[0]) { fprintf(stderr, "out of memory for the panels\n"); return 2; }
        memcpy(panels_ac[0], panels_a, (size_t)pbytes_a);
      } else {
        panels_ac[0] = panels_c[0];
      }
    }
  }
  for (int i = 1; i < copies && panels; i++) {
    panels_c[i] = pages_alloc ? pages_alloc(pbytes) : aligned_alloc(64, (size_t)(pbytes + 63) / 64 * 64);
    if (!panels_c[i]) { fprintf(stderr, "out of memory for %d panel copies\n", copies); return 2; }
    memcpy(panels_c[i], panels, (size_t)pbytes);
    panels_ac[i] = panels_c[i];
    if (panels_a) {
      panels_ac[i] = pages_alloc ? pages_alloc(pbytes_a) : aligned_alloc(64, (size_t)(pbytes_a + 63) / 64 * 64);
      if (!panels_ac[i]) { fprintf(stderr, "out of memory for %d panel copies\n", copies); return 2; }
      memcpy(panels_ac[i], panels_a, (size_t)pbytes_a);
    }
  }
  uint8_t **codes_c = malloc(sizeof(void *) * copies);
  uint16_t **scales_c = malloc(sizeof(void *) * copies);
  codes_c[0] = codes;
  scales_c[0] = scales;
  for (int i = pages_alloc ? 0 : 1; i < copies; i++) {
    codes_c[i] = pages_alloc ? pages_alloc((int64_t)n * rb) : amalloc((size_t)n * rb);
    scales_c[i] = pages_alloc ? pages_alloc((int64_t)n * G * 2) : amalloc((size_t)n * G * 2);
    if (!codes_c[i] || !scales_c[i]) { fprintf(stderr, "out of memory for %d weight copies\n", copies); return 2; }
    memcpy(codes_c[i], codes, (size_t)n * rb);
    memcpy(scales_c[i], scales, (size_t)n * G * 2);
  }
  double t[2][256], ratio[256];
  for (int r = -2; r < rounds && r < 256; r++) {
    double s[2];
    for (int j = 0; j < 2; j++) {
      const int i = (r & 1) ? 1 - j : j;
      const gemmp_fn use = i == 1 ? gp : gpa;
      const double t0 = now();
      for (int c = 0; c < calls; c++)
        if ((use ? use(fmt, act, n, k, g, codes_c[c % copies], scales_c[c % copies], zeros,
                       i == 1 ? panels_c[c % copies] : panels_ac[c % copies], i == 1 || !panels_a ? pbytes : pbytes_a,
                       m, x, k, y[i], n)
                 : f[i](fmt, act, n, k, g, codes_c[c % copies], scales_c[c % copies], zeros, m, x, k, y[i], n)) != 0) {
          fprintf(stderr, "qg_gemm failed\n");
          return 1;
        }
      s[i] = (now() - t0) / calls;
      usleep(20000);
    }
    if (r >= 0) { t[0][r] = s[0]; t[1][r] = s[1]; ratio[r] = s[1] / s[0]; }
  }
  double maxdiff = 0;
  for (int64_t i = 0; i < (int64_t)m * n; i++) { double d = y[0][i] - y[1][i]; if (d < 0) d = -d; if (d > maxdiff) maxdiff = d; }
  const double ma = median(t[0], rounds), mb = median(t[1], rounds);
  qsort(ratio, rounds, sizeof *ratio, cmp);
  printf("fmt %d act %d %dx%d g%d M=%d: A %.1f us, B %.1f us, B/A median %.3f [min %.3f, max %.3f] (%d rounds); max |yA-yB| %.3g\n",
         fmt, act, n, k, g, m, ma * 1e6, mb * 1e6, median(ratio, rounds), ratio[0], ratio[rounds - 1], rounds, maxdiff);
  return 0;
}
