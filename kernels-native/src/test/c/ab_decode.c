/*
 * Paired A/B of two builds of libquantgate.so on a decode-shaped stream: every weight matrix of a Llama model's
 * decode step (per layer q|k|v, o, gate|up, down; then the classifier), each its own allocation, run one after
 * another as GEMVs with int8 activations, as a model's decode streams them from DRAM. A round decodes TOKENS
 * "tokens" on one library, then on the other (order flipped every round, a pause between so the idle library's
 * pool workers sleep); prints each library's median time per token, its weight GB/s, and the median and range of
 * the per-round ratios B/A. Machine drift between rounds hits both alike, which separate runs of a model benchmark
 * cannot give on a VM whose bandwidth swings by a third within the hour. Run it in both orders (A B, then B A): in one
 * fast-memory hour (2026-12-05) whichever library was B read ≈ 3 % faster in both orders, though the order flips.
 *
 *   gcc -O2 ab_decode.c -o ab_decode -ldl -lm
 *   ./ab_decode A.so B.so FMT GROUP [ROUNDS [TOKENS [THREADS [DIM HIDDEN KVDIM LAYERS VOCAB]]]]
 *   QG_AB_GAP_US=10 ./ab_decode ...   (the caller busy that long between calls, as a model is)
 *
 * FMT: quantgate.h numbers (3 int8, 4 int4, 5 int4s, 6 fp4, 7 nf4). The default shape is the synthetic 1B
 * (synthetic:llama-1b: 2048, 5632, 512, 16, 32000). Weights are random codes and small positive scales, in library A's
 * huge-page-advised memory (qg_pages_alloc) as the model keeps them; each round also times library A's bandwidth
 * probe (qg_stream_read) over as many bytes as a token reads. QG_AB_PANELS=1: library B decodes through
 * qg_gemm_panels on panels it prepacked (qg_pack_panels, same memory), A through qg_gemm on the codes; QG_AB_PANELS=2:
 * A through the same panels too (two builds of one panel layout: not across the fifteenth session, whose int4s panels
 * store u = code ^ 8); 3: A through panels it packed itself (two builds whose panel layouts differ), each library's
 * panels in its own qg_pages_alloc mappings.
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

typedef int (*gemmp_fn)(int, int, int, int, int, const void *, const uint16_t *, const uint8_t *, const void *, int64_t,
                        int, const float *, int64_t, float *, int64_t);

typedef struct {
  int n, k;
  uint8_t *codes, *zeros;
  uint16_t *scales;
  void *panels; /* QG_AB_PANELS: library B's prepacked panels of this matrix */
  void *panels_a; /* QG_AB_PANELS=3: library A's own (a different panel layout) */
  int64_t panel_bytes_a;
  int64_t panel_bytes;
} matrix;

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }
static double median(double *v, int n) { qsort(v, n, sizeof *v, cmp); return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]); }

static int64_t row_bytes(int fmt, int k) { return fmt == 3 ? k : 4LL * ((k + 7) / 8); }

/* busy for `s` seconds; 0, so it can sit in a condition */
static int spin(double s) { const double end = now() + s; while (now() < end) {} return 0; }

typedef void *(*pages_fn)(int64_t);
static pages_fn pages; /* qg_pages_alloc of library A: the weights in huge-page-advised memory, as the model keeps them */

static void *alloc(int64_t bytes) { return pages ? pages(bytes) : malloc((size_t)bytes); }
/* library B's qg_pages_alloc (QG_AB_PANELS=3: each library's panels in its own mappings, which its read-ahead knows
 * as live: qg_set_read_ahead) */
static pages_fn pages_b;
static void *alloc_b(int64_t bytes) { return pages_b ? pages_b(bytes) : alloc(bytes); }

static matrix make(int fmt, int n, int k, int g) {
  matrix m = {n, k, NULL, NULL, NULL, NULL, 0};
  const int64_t rb = row_bytes(fmt, k), G = (k + g - 1) / g;
  m.codes = alloc(n * rb);
  m.scales = alloc(n * G * 2);
  m.zeros = alloc(n * G);
  if (!m.codes || !m.scales || !m.zeros) { fprintf(stderr, "out of memory\n"); exit(2); }
  for (int64_t i = 0; i < n * rb; i++) m.codes[i] = (uint8_t)rand();
  for (int64_t i = 0; i < n * G; i++) { m.scales[i] = 0x2000 + (rand() & 0x3ff); m.zeros[i] = rand() & 15; }
  return m;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s A.so B.so FMT GROUP [ROUNDS [TOKENS [THREADS [DIM HIDDEN KVDIM LAYERS VOCAB]]]]\n", argv[0]);
    return 2;
  }
  const int fmt = atoi(argv[3]), g = atoi(argv[4]);
  const int rounds = argc > 5 ? (atoi(argv[5]) < 256 ? atoi(argv[5]) : 256) : 21;
  const int tokens = argc > 6 ? atoi(argv[6]) : 4, threads = argc > 7 ? atoi(argv[7]) : 0;
  int dim = 2048, hidden = 5632, kvdim = 512, layers = 16, vocab = 32000;
  if (argc > 12) { dim = atoi(argv[8]); hidden = atoi(argv[9]); kvdim = atoi(argv[10]); layers = atoi(argv[11]); vocab = atoi(argv[12]); }
  if (fmt < 3 || fmt > 7 || rounds < 1 || tokens < 1 || layers < 1) { fprintf(stderr, "bad arguments\n"); return 2; }
  gemm_fn f[2];
  int64_t (*probe)(const void *, int64_t) = NULL;
  for (int i = 0; i < 2; i++) {
    void *h = dlopen(argv[1 + i], RTLD_NOW | RTLD_LOCAL);
    if (!h) { fprintf(stderr, "%s\n", dlerror()); return 2; }
    f[i] = (gemm_fn)dlsym(h, "qg_gemm");
    if (!f[i]) { fprintf(stderr, "no qg_gemm in %s\n", argv[1 + i]); return 2; }
    if (i == 0) {
      pages = (pages_fn)dlsym(h, "qg_pages_alloc");
      probe = (int64_t (*)(const void *, int64_t))dlsym(h, "qg_stream_read");
    }
    int (*set_threads)(int) = (int (*)(int))dlsym(h, "qg_set_threads");
    if (threads > 0 && set_threads) set_threads(threads);
  }
  srand(7);
  const int nm = 4 * layers + 1;
  matrix *w = malloc(sizeof(matrix) * nm);
  double bytes = 0;
  for (int l = 0; l < layers; l++) {
    w[4 * l] = make(fmt, dim + 2 * kvdim, dim, g);
    w[4 * l + 1] = make(fmt, dim, dim, g);
    w[4 * l + 2] = make(fmt, 2 * hidden, dim, g);
    w[4 * l + 3] = make(fmt, dim, hidden, g);
  }
  w[nm - 1] = make(fmt, vocab, dim, g);
  for (int i = 0; i < nm; i++) bytes += (double)w[i].n * row_bytes(fmt, w[i].k) + 2.0 * w[i].n * ((w[i].k + g - 1) / g);
  /* QG_AB_PANELS=1: library B decodes through qg_gemm_panels on every matrix's prepacked panels (in huge-page-advised
   * memory too); A through qg_gemm on the codes, as before */
  gemmp_fn gp = NULL, gpa = NULL;
  double pbytes_total = 0;
  if (getenv("QG_AB_PANELS") && atoi(getenv("QG_AB_PANELS"))) {
    void *hb = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);
    int64_t (*pb)(int, int, int, int) = (int64_t (*)(int, int, int, int))dlsym(hb, "qg_panels_bytes");
    int (*pk)(int, int, int, int, const void *, const uint16_t *, const uint8_t *, void *, int64_t) =
        (int (*)(int, int, int, int, const void *, const uint16_t *, const uint8_t *, void *, int64_t))dlsym(hb, "qg_pack_panels");
    gp = (gemmp_fn)dlsym(hb, "qg_gemm_panels");
    if (!pb || !pk || !gp) { fprintf(stderr, "B has no qg_gemm_panels\n"); return 2; }
    const int mode = atoi(getenv("QG_AB_PANELS"));
    if (mode == 3) pages_b = (pages_fn)dlsym(hb, "qg_pages_alloc");
    void *ha = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (mode >= 2) { /* A decodes through B's panels too (two builds of one panel layout), or (3) through its own */
      gpa = (gemmp_fn)dlsym(ha, "qg_gemm_panels");
      if (!gpa) { fprintf(stderr, "A has no qg_gemm_panels\n"); return 2; }
    }
    int (*pka)(int, int, int, int, const void *, const uint16_t *, const uint8_t *, void *, int64_t) =
        (int (*)(int, int, int, int, const void *, const uint16_t *, const uint8_t *, void *, int64_t))dlsym(ha, "qg_pack_panels");
    for (int i = 0; i < nm; i++) {
      w[i].panel_bytes = pb(fmt, w[i].n, w[i].k, g);
      w[i].panels = alloc_b(w[i].panel_bytes);
      if (!w[i].panels || pk(fmt, w[i].n, w[i].k, g, w[i].codes, w[i].scales, w[i].zeros, w[i].panels, w[i].panel_bytes) != 0) {
        fprintf(stderr, "qg_pack_panels failed\n");
        return 1;
      }
      w[i].panels_a = w[i].panels;
      w[i].panel_bytes_a = w[i].panel_bytes;
      if (mode == 3) { /* A's own layout, sized by A */
        int64_t (*pba)(int, int, int, int) = (int64_t (*)(int, int, int, int))dlsym(ha, "qg_panels_bytes");
        const int64_t abytes = pba ? pba(fmt, w[i].n, w[i].k, g) : -1;
        w[i].panels_a = abytes > 0 ? alloc(abytes) : NULL;
        if (!pka || !w[i].panels_a || pka(fmt, w[i].n, w[i].k, g, w[i].codes, w[i].scales, w[i].zeros, w[i].panels_a, abytes) != 0) {
          fprintf(stderr, "A's qg_pack_panels failed\n");
          return 1;
        }
        w[i].panel_bytes_a = abytes;
      }
      pbytes_total += (double)w[i].panel_bytes;
    }
  }
  const int maxk = hidden > dim ? hidden : dim, maxn = vocab > 2 * hidden ? vocab : 2 * hidden;
  float *x = malloc(sizeof(float) * maxk), *y[2] = {malloc(sizeof(float) * maxn), malloc(sizeof(float) * maxn)};
  for (int i = 0; i < maxk; i++) x[i] = (float)rand() / RAND_MAX - 0.5f;
  /* the bandwidth probe (library A's qg_stream_read) over a buffer the size of a token's weights, once per round */
  const int64_t probe_bytes = ((int64_t)bytes + 63) / 64 * 64;
  void *pbuf = probe ? alloc(probe_bytes) : NULL;
  if (pbuf) memset(pbuf, 1, (size_t)probe_bytes);
  double t[2][256], ratio[256], bw[256];
  int64_t sink = 0;
  /* QG_AB_GAP_US: the caller spins this long between calls, as a model's own work between its GEMVs (norms, RoPE,
   * attention, the JVM's side: ~10 us per GEMV in the 1B decode) leaves the memory idle */
  const double gap = getenv("QG_AB_GAP_US") ? atof(getenv("QG_AB_GAP_US")) * 1e-6 : 0;
  for (int r = -2; r < rounds; r++) {
    double s[2];
    if (pbuf) {
      const double t0 = now();
      sink += probe(pbuf, probe_bytes);
      if (r >= 0) bw[r] = probe_bytes / (now() - t0) / 1e9;
      usleep(20000);
    }
    for (int j = 0; j < 2; j++) {
      const int i = (r & 1) ? 1 - j : j;
      const double t0 = now();
      for (int tok = 0; tok < tokens; tok++)
        for (int c = 0; c < nm; c++)
          if ((gap > 0 && spin(gap)) || (gp && (i == 1 || gpa) ? (i == 1 ? gp : gpa)(fmt, 1, w[c].n, w[c].k, g, w[c].codes, w[c].scales, w[c].zeros,
                                                          i == 1 ? w[c].panels : w[c].panels_a,
                                                          i == 1 ? w[c].panel_bytes : w[c].panel_bytes_a, 1, x, w[c].k, y[i], w[c].n)
                            : f[i](fmt, 1, w[c].n, w[c].k, g, w[c].codes, w[c].scales, w[c].zeros, 1, x, w[c].k, y[i], w[c].n)) != 0) {
            fprintf(stderr, "qg_gemm failed\n");
            return 1;
          }
      s[i] = (now() - t0) / tokens;
      usleep(20000);
    }
    if (r >= 0) { t[0][r] = s[0]; t[1][r] = s[1]; ratio[r] = s[1] / s[0]; }
  }
  const double ma = median(t[0], rounds), mb = median(t[1], rounds);
  qsort(ratio, rounds, sizeof *ratio, cmp);
  printf("fmt %d g%d %d layers (%.1f MB/token): A %.2f ms/token (%.1f GB/s), B %.2f ms/token (%.1f GB/s), B/A median %.3f "
         "[min %.3f, max %.3f] (%d rounds of %d tokens)", fmt, g, layers, bytes / 1e6, ma * 1e3, bytes / ma / 1e9,
         mb * 1e3, bytes / mb / 1e9, median(ratio, rounds), ratio[0], ratio[rounds - 1], rounds, tokens);
  if (pbuf) printf("; probe %.1f GB/s (median of the rounds; checksum %lld)", median(bw, rounds), (long long)(sink & 1));
  if (gp) printf("; B read the panels, %.1f MB/token (%.1f GB/s)", pbytes_total / 1e6, pbytes_total / mb / 1e9);
  printf("\n");
  return 0;
}
