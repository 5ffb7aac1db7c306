/*
 * Native self-test: every ISA tier against a plain double-precision reference written from
 * docs/formats.md, on random shapes (odd N, K not a multiple of the group, M 1..64), plus bad
 * arguments. Built and run under AddressSanitizer + UBSan by .ci/run. Exit code 0 = all passed.
 */
#include "../../main/c/quantgate.h"
#include "../../main/c/qg_internal.h"
#include "../../main/c/qg_pool.h"
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static uint64_t rng = 88172645463325252ULL;
static uint64_t next(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }
static float unif(void) { return (float)((next() >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f; }

static const float FP4[16] = {0, .5f, 1, 1.5f, 2, 3, 4, 6, -0.f, -.5f, -1, -1.5f, -2, -3, -4, -6};
static const float NF4[16] = {-1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
  -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f, 0.07958029955625534f,
  0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f, 0.44070982933044434f,
  0.5626170039176941f, 0.7229568362236023f, 1.0f};
static const int NF4Q8[16] = {-127, -88, -67, -50, -36, -23, -12, 0, 10, 20, 31, 43, 56, 71, 92, 127};

static float h2f(uint16_t h) {
  int e = (h >> 10) & 31, mnt = h & 1023; float v;
  if (e == 0) v = ldexpf((float)mnt, -24); else if (e == 31) v = mnt ? NAN : INFINITY;
  else v = ldexpf((float)(mnt | 1024), e - 25);
  return (h & 0x8000) ? -v : v;
}
static uint16_t f2h_small(float f) { /* positive normal values only, round to nearest */
  int e; float m = frexpf(f, &e); /* f = m * 2^e, m in [0.5,1) */
  int he = e - 1 + 15; int mant = (int)lrintf((m * 2 - 1) * 1024);
  if (mant == 1024) { mant = 0; he++; }
  return (uint16_t)((he << 10) | mant);
}

static float bf16r(float f) { /* nearest bf16, ties to even (finite values) */
  uint32_t b; memcpy(&b, &f, 4); b += 0x7fffu + ((b >> 16) & 1u); b &= 0xffff0000u; memcpy(&f, &b, 4); return f;
}

typedef struct { int fmt, n, k, g, G; int64_t rb; uint8_t *codes; uint16_t *sc; uint8_t *z; } mat;

static int code(const mat *w, int r, int kk) {
  const uint8_t *row = w->codes + r * w->rb;
  switch (w->fmt) {
    case QG_FMT_INT8: return ((const int8_t *)row)[kk];
    case QG_FMT_FP16: case QG_FMT_BF16: return ((const uint16_t *)row)[kk];
    default: return (row[kk / 2] >> (4 * (kk & 1))) & 15;
  }
}
static double deq(const mat *w, int r, int kk) {
  const uint8_t *row = w->codes + r * w->rb;
  int gi = kk / w->g; double s = w->sc ? h2f(w->sc[r * w->G + gi]) : 1; int q = code(w, r, kk);
  switch (w->fmt) {
    case QG_FMT_FP32: return ((const float *)row)[kk];
    case QG_FMT_FP16: return h2f((uint16_t)q);
    case QG_FMT_BF16: { uint32_t b = (uint32_t)q << 16; float f; memcpy(&f, &b, 4); return f; }
    case QG_FMT_INT8: return (float)(q * (float)s);
    case QG_FMT_INT4: return (float)((q - w->z[r * w->G + gi]) * (float)s);
    case QG_FMT_INT4S: return (float)(((q ^ 8) - 8) * (float)s);
    case QG_FMT_FP4: return (float)(FP4[q] * (float)s);
    default: return (float)(NF4[q] * (float)s);
  }
}
static int wsigned(const mat *w, int r, int kk) { /* u - off of the int8 path */
  int q = code(w, r, kk);
  switch (w->fmt) {
    case QG_FMT_INT8: return q;
    case QG_FMT_INT4: return q - w->z[r * w->G + kk / w->g];
    case QG_FMT_INT4S: return (q ^ 8) - 8;
    case QG_FMT_FP4: return (int)(2 * FP4[q]);
    default: return NF4Q8[q];
  }
}
static double seff(const mat *w, int r, int gi) {
  double s = h2f(w->sc[r * w->G + gi]);
  return w->fmt == QG_FMT_FP4 ? s * 0.5f : w->fmt == QG_FMT_NF4 ? (float)s * (1.0f / 127.0f) : s;
}

static mat make(int fmt, int n, int k, int g) {
  mat w = {fmt, n, k, fmt >= QG_FMT_INT8 ? g : k, 0, 0, 0, 0, 0};
  w.G = (k + w.g - 1) / w.g;
  w.rb = fmt == QG_FMT_FP32 ? 4 * k : fmt <= QG_FMT_BF16 ? 2 * k : fmt == QG_FMT_INT8 ? k : 4 * ((k + 7) / 8);
  w.codes = malloc(n * w.rb);
  for (int64_t i = 0; i < n * w.rb; i++) w.codes[i] = (uint8_t)next();
  if (fmt == QG_FMT_FP32) for (int64_t i = 0; i < (int64_t)n * k; i++) ((float *)w.codes)[i] = unif();
  if (fmt == QG_FMT_FP16) for (int64_t i = 0; i < (int64_t)n * k; i++) ((uint16_t *)w.codes)[i] = f2h_small(0.01f + (unif() + 1)) | ((next() & 1) << 15);
  if (fmt == QG_FMT_BF16) for (int64_t i = 0; i < (int64_t)n * k; i++) { float f = unif(); uint32_t b; memcpy(&b, &f, 4); ((uint16_t *)w.codes)[i] = b >> 16; }
  if (fmt == QG_FMT_INT8) for (int64_t i = 0; i < n * w.rb; i++) if ((int8_t)w.codes[i] == -128) w.codes[i] = 0;
  if (fmt >= QG_FMT_INT4 && (k % 8)) /* unused nibbles of the last word are 0 */
    for (int r = 0; r < n; r++) for (int kk = k; kk < ((k + 7) / 8) * 8; kk++) w.codes[r * w.rb + kk / 2] &= (kk & 1) ? 0x0f : 0xf0;
  if (fmt >= QG_FMT_INT8) {
    w.sc = malloc(sizeof(uint16_t) * n * w.G);
    for (int i = 0; i < n * w.G; i++) w.sc[i] = (next() % 10 == 0) ? 0 : f2h_small(0.001f + 0.02f * (unif() + 1));
  }
  if (fmt == QG_FMT_INT4) { w.z = malloc(n * w.G); for (int i = 0; i < n * w.G; i++) w.z[i] = next() & 15; }
  return w;
}
static void drop(mat *w) { free(w->codes); free(w->sc); free(w->z); }

static int failures = 0, checks = 0;

/* int8 activations as docs/formats.md: per 32-block the scale amax / 127 (sx, (k + 31) / 32 of them) and each value
 * divided by it, rounded half away from zero, capped at 127 (xq, k of them) */
static void quantize_x8(const float *x, int k, float *sx, int *xq) {
  for (int b = 0; b < (k + 31) / 32; b++) {
    float amax = 0; for (int kk = b * 32; kk < k && kk < b * 32 + 32; kk++) if (fabsf(x[kk]) > amax) amax = fabsf(x[kk]);
    float d = amax / 127.0f; sx[b] = d;
    for (int kk = b * 32; kk < k && kk < b * 32 + 32; kk++) {
      int q = 0; if (d != 0) { float v = x[kk] / d; q = (int)(fabsf(v) + 0.5f); if (q > 127) q = 127; if (v < 0) q = -q; }
      xq[kk] = q;
    }
  }
}

/* y (m rows of stride ldy) against the reference in double: fp32 and bf16 activations the exact sum, int8 activations
 * the exact integer block sums (docs/formats.md) scaled; and nothing written past N */
static void check_ref(const mat *w, int fmt, int act, int n, int k, int m, const float *x, int ldx, const float *y,
                      int ldy, int isa, const char *what) {
  for (int mm = 0; mm < m; mm++) {
    int nb = (k + 31) / 32; float *sx = calloc(nb, 4); int *xq = calloc(k, 4);
    quantize_x8(x + mm * ldx, k, sx, xq);
    for (int r = 0; r < n; r++) {
      double ref = 0, mag = 0;
      if (act == QG_ACT_F32) {
        for (int kk = 0; kk < k; kk++) { double wv = deq(w, r, kk); ref += wv * x[mm * ldx + kk]; mag += fabs(wv * x[mm * ldx + kk]); }
      } else if (act == QG_ACT_BF16) { /* the exact sum of the bf16-rounded weights times the bf16-rounded activations */
        for (int kk = 0; kk < k; kk++) {
          double wv = bf16r((float)deq(w, r, kk)), xv = bf16r(x[mm * ldx + kk]);
          ref += wv * xv; mag += fabs(wv * xv);
        }
      } else {
        for (int b = 0; b < nb; b++) {
          long d = 0; for (int kk = b * 32; kk < k && kk < b * 32 + 32; kk++) d += (long)wsigned(w, r, kk) * xq[kk];
          double t = seff(w, r, (b * 32) / w->g) * sx[b];
          ref += t * d; mag += fabs(t) * 127.0 * 127.0 * 32;
        }
        mag *= 1e-3; /* terms are bounded by this; tolerance below stays relative */
      }
      double got = y[mm * ldy + r], tol = 2e-5 * mag + 1e-6;
      checks++;
      if (!(fabs(got - ref) <= tol)) {
        if (failures < 20) printf("MISMATCH (%s) fmt=%d act=%d isa=%d n=%d k=%d g=%d m=%d at m=%d r=%d: got %.9g ref %.9g tol %.3g\n", what, fmt, act, isa, n, k, w->g, m, mm, r, got, ref, tol);
        failures++;
      }
    }
    for (int r = n; r < ldy; r++) if (y[mm * ldy + r] != -12345.0f) { printf("WROTE PAST N (%s) fmt=%d\n", what, fmt); failures++; }
    free(sx); free(xq);
  }
}

static void check_case(int fmt, int act, int n, int k, int g, int m, int isa) {
  mat w = make(fmt, n, k, g);
  const int ldx = k + (int)(next() % 3), ldy = n + (int)(next() % 3);
  float *x = malloc(sizeof(float) * m * ldx), *y = malloc(sizeof(float) * m * ldy);
  for (int i = 0; i < m * ldx; i++) x[i] = unif() * (i % 7 == 0 ? 4.0f : 1.0f);
  for (int i = 0; i < m * ldy; i++) y[i] = -12345.0f;
  int rc = qg_gemm(fmt, act, n, k, w.g, w.codes, w.sc, w.z, m, x, ldx, y, ldy);
  if (rc != QG_OK) { printf("FAIL rc=%d fmt=%d act=%d n=%d k=%d g=%d m=%d isa=%d\n", rc, fmt, act, n, k, g, m, isa); failures++; goto out; }
  check_ref(&w, fmt, act, n, k, m, x, ldx, y, ldy, isa, "qg_gemm");
  if (act == QG_ACT_F32) { /* prepacked small-K panels: qg_gemm's bits, whichever path the call takes */
    const int64_t nb = qg_nt_bytes(fmt, n, k, w.g);
    if (nb > 0) {
      float *nt = aligned_alloc(64, (size_t)((nb + 63) / 64 * 64)), *y4 = malloc(sizeof(float) * m * ldy);
      for (int i = 0; i < m * ldy; i++) y4[i] = -12345.0f;
      checks++;
      if (qg_pack_nt(fmt, n, k, w.g, w.codes, w.sc, w.z, nt, nb) != QG_OK ||
          qg_gemm_nt(fmt, act, n, k, w.g, w.codes, w.sc, w.z, nt, nb, m, x, ldx, y4, ldy) != QG_OK ||
          memcmp(y, y4, sizeof(float) * m * ldy) != 0) {
        if (failures < 20) printf("PREPACKED SMALL-K DIFFERS fmt=%d isa=%d n=%d k=%d g=%d m=%d\n", fmt, isa, n, k, w.g, m);
        failures++;
      }
      free(nt); free(y4);
    } else if (k <= 512 && qg_isa_supported(QG_ISA_AVX512)) {
      printf("FAIL qg_nt_bytes 0 for fmt=%d n=%d k=%d g=%d\n", fmt, n, k, w.g); failures++;
    }
  }
  if (act == QG_ACT_Q8 && isa == QG_ISA_NEON_DOTPROD) { /* the sdot kernel keeps the portable kernel's float steps */
    float *y3 = malloc(sizeof(float) * m * ldy);
    for (int i = 0; i < m * ldy; i++) y3[i] = -12345.0f;
    qg_set_isa(QG_ISA_NEON);
    const int rc3 = qg_gemm(fmt, act, n, k, w.g, w.codes, w.sc, w.z, m, x, ldx, y3, ldy);
    qg_set_isa(isa);
    checks++;
    if (rc3 != QG_OK || memcmp(y, y3, sizeof(float) * m * ldy) != 0) {
      if (failures < 20) printf("NEON_DOTPROD DIFFERS FROM NEON fmt=%d n=%d k=%d g=%d m=%d\n", fmt, n, k, w.g, m);
      failures++;
    }
    free(y3);
  }
  if (act == QG_ACT_Q8) { /* the prepacked panels: for M > 4 the same bits as the per-call transposition */
    const int64_t pb = qg_panels_bytes(fmt, n, k, w.g);
    void *panels = aligned_alloc(64, (size_t)((pb + 63) / 64 * 64));
    float *y2 = malloc(sizeof(float) * m * ldy);
    for (int i = 0; i < m * ldy; i++) y2[i] = -12345.0f;
    if (pb <= 0 || qg_pack_panels(fmt, n, k, w.g, w.codes, w.sc, w.z, panels, pb) != QG_OK ||
        qg_gemm_panels(fmt, act, n, k, w.g, w.codes, w.sc, w.z, panels, pb, m, x, ldx, y2, ldy) != QG_OK) {
      printf("FAIL panels rc fmt=%d n=%d k=%d g=%d m=%d\n", fmt, n, k, w.g, m); failures++;
    } else {
      checks++;
      /* M > 4: the same panel kernel as qg_gemm's, the same bits; M <= 4: the panel kernel where qg_gemm runs the row
       * kernels (AVX-512), checked against the reference like y, below */
      if (m <= QG_DIRECT_MAX_M) check_ref(&w, fmt, act, n, k, m, x, ldx, y2, ldy, isa, "panels");
      else if (memcmp(y, y2, sizeof(float) * m * ldy) != 0) {
        if (failures < 20) printf("PANELS DIFFER fmt=%d isa=%d n=%d k=%d g=%d m=%d\n", fmt, isa, n, k, w.g, m);
        failures++;
      }
      /* on one thread the row tasks are longer (up to 64 rows), so the two-panel pass of the 4-bit kernel runs too */
      const int threads = qg_get_threads();
      qg_set_threads(1);
      for (int i = 0; i < m * ldy; i++) y2[i] = -12345.0f;
      const int rc1 = qg_gemm_panels(fmt, act, n, k, w.g, w.codes, w.sc, w.z, panels, pb, m, x, ldx, y2, ldy);
      qg_set_threads(threads);
      checks++;
      if (rc1 == QG_OK && m <= QG_DIRECT_MAX_M) check_ref(&w, fmt, act, n, k, m, x, ldx, y2, ldy, isa, "panels, 1 thread");
      else if (rc1 != QG_OK || memcmp(y, y2, sizeof(float) * m * ldy) != 0) {
        if (failures < 20) printf("PANELS DIFFER (1 thread) fmt=%d isa=%d n=%d k=%d g=%d m=%d\n", fmt, isa, n, k, w.g, m);
        failures++;
      }
    }
    free(panels); free(y2);
  }
out:
  free(x); free(y); drop(&w);
}

/* Every tier's int8 activation prep (quantized row, block scales and sums, even/odd split, lane scales and offset
 * sums, int16 lane sums, int8's unsigned activations, group sums) gives the generic scalar prep's bytes, on rows with ragged ends, zero, tiny, huge and non-finite
 * blocks: the kernels and the tests' reference both assume those exact values. */
static void check_prep(const qg_kernels *kern, const char *name) {
  const int fmts[] = {QG_FMT_INT8, QG_FMT_INT4, QG_FMT_INT4S, QG_FMT_FP4, QG_FMT_NF4};
  for (int t = 0; t < 60; t++) {
    const int fmt = fmts[t % 5], k = 1 + (int)(next() % 900), gs = 5 + (int)(next() % 3), is4 = fmt >= QG_FMT_INT4;
    const int kpad = (k + QG_KPAD - 1) / QG_KPAD * QG_KPAD, nb = (k + 31) / 32, lw = is4 ? 8 : 4;
    const int G = (k + (1 << gs) - 1) >> gs;
    float *x = malloc(sizeof(float) * k);
    for (int i = 0; i < k; i++) {
      const int blk = i / 32, kind = (blk * 7 + t) % 9;
      x[i] = kind == 0 ? 0.0f : kind == 1 ? unif() * 1e-40f : kind == 2 ? unif() * 3e38f
           : kind == 3 && i % 32 == 5 ? (i % 2 ? INFINITY : NAN) : unif() * (i % 7 == 0 ? 40.0f : 1.0f);
    }
    uint8_t *out[2];
    const size_t sz = (size_t)kpad * 2 + (size_t)(nb + 16) * 8 + (size_t)G * 4 + (size_t)(kpad / lw) * 10;
    for (int v = 0; v < 2; v++) {
      out[v] = calloc(1, sz);
      memset(out[v], 0x5a, sz);
      uint8_t *b = out[v];
      qg_call c;
      memset(&c, 0, sizeof c);
      c.fmt = fmt; c.k = k; c.kpad = kpad; c.nblocks = nb; c.ngroups = G; c.gshift = gs; c.m = 1; c.x = x; c.ldx = k;
      c.lanew = lw;
      c.xq = (int8_t *)b; b += kpad;
      c.xq_il = is4 ? (int8_t *)b : NULL;
      c.xq_u = is4 ? NULL : (uint8_t *)b; b += kpad; /* int8 weights: the GEMV's unsigned activations there */
      c.sx = (float *)b; b += (size_t)(nb + 16) * 4;
      c.xsum = (int32_t *)b; b += (size_t)(nb + 16) * 4;
      c.gxs = (float *)b; b += (size_t)G * 4;
      c.lane_sx = (float *)b; b += (size_t)(kpad / lw) * 4;
      c.lane_oxs = fmt != QG_FMT_INT4 ? (int32_t *)b : NULL; b += (size_t)(kpad / lw) * 4;
      c.lane_xs16 = is4 && fmt != QG_FMT_INT4 ? (int16_t *)b : NULL; b += (size_t)(kpad / lw) * 2;
      (v ? kern : &qg_kernels_scalar)->prep_q8_row(&c, 0, 0);
    }
    checks++;
    /* NaN scales compare by bytes too: both preps write the same quiet NaN */
    if (memcmp(out[0], out[1], sz) != 0) {
      size_t i = 0;
      while (out[0][i] == out[1][i]) i++;
      printf("PREP DIFFERS tier %s fmt=%d k=%d g=%d at byte %zu\n", name, fmt, k, 1 << gs, i);
      failures++;
    }
    free(out[0]); free(out[1]); free(x);
  }
}

/* Rows of mostly zero weights, int8 activations, M = 1, short and long K (the long-K GEMV keeps its activation side
 * compact): each output within the stated bound (docs/kernels.md) (K/8 + 8) u 4 (2A + 1e-3), A = sum |w~ x|, of the
 * exact int8-path product. A zero row must give (nearly) 0: a kernel that started a block's first lane at the whole
 * block's offset and its other lanes at 0 rounded lane sums of the size off x sum|q| (1e-5 where the bound is 4e-7). */
/* A task that gets no scratch memory skips its rows: the call must say so (QG_ENOMEM), not return QG_OK over outputs it
 * did not write — from the pool and in a lane. qg_scratch_limit makes qg_scratch refuse, as a failed allocation would;
 * the M = 8 GEMM takes scratch on every tier (16-row panels on AVX-512, the activation-row kernels elsewhere). */
static void check_scratch_failure(int isa) {
  const int n = 64, k = 2048, m = 8;
  mat w = make(QG_FMT_INT4S, n, k, 32);
  float *x = malloc(sizeof(float) * m * k), *y0 = malloc(sizeof(float) * m * n), *y1 = malloc(sizeof(float) * m * n);
  for (int i = 0; i < m * k; i++) x[i] = unif();
  const int rc0 = qg_gemm(QG_FMT_INT4S, QG_ACT_Q8, n, k, 32, w.codes, w.sc, w.z, m, x, k, y0, n);
  qg_scratch_limit = 1024;
  const int rc1 = qg_gemm(QG_FMT_INT4S, QG_ACT_Q8, n, k, 32, w.codes, w.sc, w.z, m, x, k, y1, n);
  int rc2 = QG_EINVAL;
  if (qg_lane_begin() == QG_OK) {
    rc2 = qg_gemm(QG_FMT_INT4S, QG_ACT_Q8, n, k, 32, w.codes, w.sc, w.z, m, x, k, y1, n);
    qg_lane_end();
  }
  qg_scratch_limit = 0;
  memset(y1, 0, sizeof(float) * m * n);
  const int rc3 = qg_gemm(QG_FMT_INT4S, QG_ACT_Q8, n, k, 32, w.codes, w.sc, w.z, m, x, k, y1, n);
  checks += 4;
  if (rc0 != QG_OK || rc1 != QG_ENOMEM || rc2 != QG_ENOMEM || rc3 != QG_OK || memcmp(y0, y1, sizeof(float) * m * n) != 0) {
    printf("FAIL scratch refused (isa %s): rc %d, %d (lane %d), then %d; want 0, %d, %d, 0 and the first result\n",
           qg_isa_name(isa), rc0, rc1, rc2, rc3, QG_ENOMEM, QG_ENOMEM);
    failures++;
  }
  free(x); free(y0); free(y1); drop(&w);
}

static void check_sparse_rows(int isa) {
  const int fmts[] = {QG_FMT_INT8, QG_FMT_INT4S, QG_FMT_FP4, QG_FMT_NF4}, ks[] = {2100, 8200, 14336};
  /* g 32, 64, 128 each: the GEMV's chunk loop differs by groups per chunk */
  for (int fi = 0; fi < 4; fi++)
    for (int ki = 0; ki < 3; ki++)
      for (int gi = 0; gi < 3; gi++) { /* g32 and g64 fold group and activation scales (int8 has no g64 case) */
      const int fmt = fmts[fi], k = ks[ki], n = 6, g = 32 << gi;
      if (fmt == QG_FMT_INT8 && g == 64) continue;
      mat w = make(fmt, n, k, g);
      /* the code of a zero weight: int8 0, int4s 0 (two's complement), fp4 level 0 (code 0), nf4 level 0 (code 7) */
      const int zc = fmt == QG_FMT_NF4 ? 7 : 0;
      for (int r = 0; r < n; r++)
        for (int kk = 0; kk < k; kk++) {
          const int keep = r == 1 ? kk == k / 3 : r >= 2 ? next() % (r == 2 ? 10 : r == 3 ? 50 : 500) == 0 : 0;
          if (keep) continue;
          if (fmt == QG_FMT_INT8) w.codes[r * w.rb + kk] = 0;
          else w.codes[r * w.rb + kk / 2] = (uint8_t)((w.codes[r * w.rb + kk / 2] & ((kk & 1) ? 0x0f : 0xf0)) | (zc << (4 * (kk & 1))));
        }
      float *x = malloc(sizeof(float) * k), y[6];
      for (int i = 0; i < k; i++) x[i] = 2 * unif();
      if (qg_gemm(fmt, QG_ACT_Q8, n, k, g, w.codes, w.sc, NULL, 1, x, k, y, n) != QG_OK) { printf("FAIL rc sparse rows\n"); failures++; }
      else {
        const int nb = (k + 31) / 32;
        float *sx = malloc(sizeof(float) * nb);
        int *xq = malloc(sizeof(int) * k);
        quantize_x8(x, k, sx, xq);
        for (int r = 0; r < n; r++) {
          double ref = 0, a = 0;
          for (int b = 0; b < nb; b++) {
            long dot = 0;
            for (int kk = b * 32; kk < k && kk < b * 32 + 32; kk++) {
              dot += (long)wsigned(&w, r, kk) * xq[kk];
              a += fabs(deq(&w, r, kk) * x[kk]);
            }
            ref += seff(&w, r, (b * 32) / w.g) * sx[b] * dot;
          }
          const double bound = (k / 8.0 + 8) * 5.9604644775390625e-8 * 4 * (2 * a + 1e-3);
          checks++;
          if (!(fabs(y[r] - ref) <= bound)) {
            if (failures < 20) printf("SPARSE ROW fmt=%d isa=%d k=%d g=%d row %d: got %.9g ref %.9g bound %.3g\n", fmt, isa, k, g, r, y[r], ref, bound);
            failures++;
          }
        }
        free(sx); free(xq);
      }
      free(x); drop(&w);
    }
}

/* The pool runs every task of a call exactly once, whatever the thread and task counts: calls that the per-thread
 * ranges number (each thread takes its own from the front, the others' from the back) and calls of more tasks than
 * they can number (one shared ticket); back to back, so a worker still finishing one call meets the next. */
typedef struct {
  _Atomic int *runs;
  _Atomic int bad_thread;
  int threads;
} pool_probe;

static void pool_probe_task(void *vp, int task, int thread) {
  pool_probe *p = vp;
  if (thread < 0 || thread >= p->threads) atomic_store(&p->bad_thread, 1);
  atomic_fetch_add_explicit(&p->runs[task], 1, memory_order_relaxed);
}

static void check_pool(void) {
  const int before = qg_get_threads();
  const int thread_counts[] = {1, 2, 3, 4, 7};
  const int task_counts[] = {1, 2, 3, 5, 17, 100, 1000, 65535, 65536, 70001};
  _Atomic int *runs = malloc(sizeof(_Atomic int) * 70001);
  for (size_t ti = 0; ti < sizeof thread_counts / sizeof *thread_counts; ti++) {
    qg_set_threads(thread_counts[ti]);
    for (size_t ni = 0; ni < sizeof task_counts / sizeof *task_counts; ni++)
      for (int rep = 0; rep < 3; rep++) {
        const int n = task_counts[ni];
        for (int i = 0; i < n; i++) atomic_init(&runs[i], 0);
        pool_probe p = {runs, 0, qg_pool_threads()};
        qg_pool_run(n, pool_probe_task, &p);
        int wrong = 0;
        for (int i = 0; i < n; i++) wrong += atomic_load(&runs[i]) != 1;
        checks++;
        if (wrong || atomic_load(&p.bad_thread)) {
          if (failures < 20) printf("POOL threads=%d tasks=%d: %d tasks not run exactly once%s\n", thread_counts[ti], n, wrong,
                                    atomic_load(&p.bad_thread) ? ", a thread id out of range" : "");
          failures++;
        }
      }
  }
  free(runs);
  qg_set_threads(before);
}

/* Lanes (qg_lane_begin): two threads, each a lane, run GEMMs (every format and activation mode, GEMV to panel
 * sizes, prepacked panels where the tier reads them) and attention at the same time as the main thread runs the same
 * calls on the pool; every output is the bits the pool gave before any lane opened. */
typedef struct {
  int fmt, act, n, k, m, ldx, ldy;
  mat w;
  float *x, *want;
  void *panels;
  int64_t panel_bytes;
} lane_case;
typedef struct {
  const lane_case *cases;
  int ncases, reps;
  const float *aq, *akt, *avt, *awant; /* one attention call: t 40 queries, 4 heads over 2 kv heads of 24 */
  int wrong, rc_begin, rc_again, rc_end;
} lane_run;

static int lane_gemm(const lane_case *c, float *y) {
  if (c->panels)
    return qg_gemm_panels(c->fmt, c->act, c->n, c->k, c->w.g, c->w.codes, c->w.sc, c->w.z, c->panels, c->panel_bytes,
                          c->m, c->x, c->ldx, y, c->ldy);
  return qg_gemm(c->fmt, c->act, c->n, c->k, c->w.g, c->w.codes, c->w.sc, c->w.z, c->m, c->x, c->ldx, y, c->ldy);
}
#define LANE_T 40
#define LANE_LD 48
static int lane_attention(const lane_run *r, float *out) {
  return qg_attention(LANE_T, 4, 2, 24, 3, r->aq, 4 * 24, r->akt, r->avt, 24 * LANE_LD, LANE_LD, 0.2f, out, 4 * 24);
}

static int lane_pass(lane_run *r) {
  int wrong = 0;
  for (int rep = 0; rep < r->reps; rep++) {
    for (int i = 0; i < r->ncases; i++) {
      const lane_case *c = &r->cases[i];
      const size_t bytes = sizeof(float) * (size_t)c->m * c->ldy;
      float *y = malloc(bytes);
      memcpy(y, c->want, bytes); /* the padding between rows stays as the pool's call left it */
      for (int row = 0; row < c->m; row++) for (int j = 0; j < c->n; j++) y[(size_t)row * c->ldy + j] = -1.0f;
      if (lane_gemm(c, y) != QG_OK || memcmp(y, c->want, bytes) != 0) wrong++;
      free(y);
    }
    float out[LANE_T * 4 * 24];
    if (lane_attention(r, out) != QG_OK || memcmp(out, r->awant, sizeof out) != 0) wrong++;
  }
  return wrong;
}

static void *lane_main(void *vp) {
  lane_run *r = vp;
  r->rc_begin = qg_lane_begin();
  r->rc_again = qg_lane_begin();
  r->wrong = lane_pass(r);
  r->rc_end = qg_lane_end();
  return NULL;
}

static void check_lanes(void) {
  enum { NC = 24 };
  lane_case cases[NC];
  const int ms[] = {1, 3, 37, 130};
  int nc = 0;
  for (int fmt = 0; fmt < QG_FMT_COUNT && nc < NC; fmt++)
    for (int mi = 0; mi < 4 && nc < NC; mi++) {
      if (fmt < QG_FMT_INT8 && mi % 2) continue;
      lane_case *c = &cases[nc++];
      memset(c, 0, sizeof *c);
      c->fmt = fmt; c->m = ms[mi];
      c->act = fmt >= QG_FMT_INT8 ? (mi < 2 ? QG_ACT_Q8 : mi == 2 ? QG_ACT_F32 : QG_ACT_Q8) : mi == 2 ? QG_ACT_BF16 : QG_ACT_F32;
      c->n = 33 + (int)(next() % 90); c->k = 40 + (int)(next() % 600);
      c->w = make(fmt, c->n, c->k, fmt >= QG_FMT_INT8 ? (c->k >= 64 ? 64 : c->k) : c->k);
      c->ldx = c->k + 1; c->ldy = c->n + 2;
      c->x = malloc(sizeof(float) * c->m * c->ldx);
      for (int i = 0; i < c->m * c->ldx; i++) c->x[i] = unif();
      c->want = malloc(sizeof(float) * c->m * c->ldy);
      for (int i = 0; i < c->m * c->ldy; i++) c->want[i] = -3.0f;
      if (c->act == QG_ACT_Q8 && c->m > 4 && (c->panel_bytes = qg_panels_bytes(fmt, c->n, c->k, c->w.g)) > 0) {
        c->panels = aligned_alloc(64, (size_t)(c->panel_bytes + 63) / 64 * 64);
        if (qg_pack_panels(fmt, c->n, c->k, c->w.g, c->w.codes, c->w.sc, c->w.z, c->panels, c->panel_bytes) != QG_OK) {
          printf("FAIL lanes: pack_panels\n"); failures++;
        }
      }
      if (lane_gemm(c, c->want) != QG_OK) { printf("FAIL lanes: pool gemm fmt=%d\n", fmt); failures++; }
    }
  float *aq = malloc(sizeof(float) * LANE_T * 4 * 24), *akt = malloc(sizeof(float) * 2 * 24 * LANE_LD);
  float *avt = malloc(sizeof(float) * 2 * 24 * LANE_LD), *awant = malloc(sizeof(float) * LANE_T * 4 * 24);
  for (int i = 0; i < LANE_T * 4 * 24; i++) aq[i] = unif();
  for (int i = 0; i < 2 * 24 * LANE_LD; i++) { akt[i] = unif(); avt[i] = unif(); }
  lane_run base = {cases, nc, 3, aq, akt, avt, awant, 0, 0, 0, 0};
  if (lane_attention(&base, awant) != QG_OK) { printf("FAIL lanes: pool attention\n"); failures++; }
  lane_run runs[2] = {base, base};
  pthread_t th[2];
  for (int i = 0; i < 2; i++) pthread_create(&th[i], NULL, lane_main, &runs[i]);
  const int pool_wrong = lane_pass(&base); /* the pool's calls meanwhile, from this thread */
  for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
  for (int i = 0; i < 2; i++) {
    checks += 4;
    if (runs[i].wrong || runs[i].rc_begin != QG_OK || runs[i].rc_again != QG_EINVAL || runs[i].rc_end != QG_OK) {
      printf("FAIL lane %d: %d outputs differ from the pool's; begin %d, begin again %d, end %d\n", i, runs[i].wrong,
             runs[i].rc_begin, runs[i].rc_again, runs[i].rc_end);
      failures++;
    }
  }
  checks += 2;
  if (pool_wrong) { printf("FAIL lanes: %d pool outputs changed while lanes ran\n", pool_wrong); failures++; }
  if (qg_lane_end() != QG_EINVAL) { printf("FAIL lanes: qg_lane_end outside a lane\n"); failures++; }
  for (int i = 0; i < nc; i++) { drop(&cases[i].w); free(cases[i].x); free(cases[i].want); free(cases[i].panels); }
  free(aq); free(akt); free(avt); free(awant);
}

/* qg_sum_exp on the current tier: every term within 2 ulp of expl's (long double), subnormal terms within 2 units of the
 * smallest subnormal, the sum within n ulp of the long double sum of the exact terms; the same sum without the terms
 * array; NaN in, NaN out; bad arguments NaN. */
#if defined(__x86_64__)
/* attention's softmax exp on the AVX-512 tiers (argument d = (s - max) 32/ln2 <= 0, exp(d ln2/32)): within 2 ulp of
 * expl over every 97th float of [-4000, 0] and at 0 and -0; a masked-out score (-inf) and anything below -4030 give
 * at most exp(-87.3), so a row's sum (>= 1, its max gives 1) is unaffected */
static void check_attention_exp(void) {
  if (!qg_isa_supported(QG_ISA_AVX512)) { printf("attention exp: no AVX-512 here, skipped\n"); return; }
  enum { B = 4096 };
  static float d[B], y[B];
  union { float f; uint32_t u; } lo = {-4000.0f}, cv;
  double worst = 0;
  long checked = 0;
  for (uint32_t u = 0x80000000u; u <= lo.u;) {
    int n = 0;
    for (; n < B && u <= lo.u; n++, u += 97) { cv.u = u; d[n] = cv.f; }
    qg_attention_exp_avx512(d, y, n);
    for (int i = 0; i < n; i++) {
      const long double ref = expl((long double)d[i] * (0.693147180559945309417232121458L / 32));
      const float rf = (float)ref;
      const double err = (double)(fabsl((long double)y[i] - ref) / (nextafterf(rf, INFINITY) - rf));
      if (err > worst) worst = err;
      if (!(err <= 2.0)) { printf("FAIL attention exp(%a ln2/32) = %a, want %a (%.2f ulp)\n", d[i], y[i], rf, err); failures++; return; }
    }
    checked += n;
  }
  const float edge[4] = {0.0f, -0.0f, -INFINITY, -1e30f};
  float ey[4];
  qg_attention_exp_avx512(edge, ey, 4);
  if (ey[0] != 1.0f || ey[1] != 1.0f || !(fabsf(ey[2]) <= 1.3e-38f) || !(fabsf(ey[3]) <= 1.3e-38f)) {
    printf("FAIL attention exp at 0, -0, -inf, -1e30: %a %a %a %a\n", ey[0], ey[1], ey[2], ey[3]); failures++;
  }
  printf("attention exp: %ld arguments, worst %.3f ulp\n", checked, worst);
}
#endif

/* the call timeline: every traced call in order, with its kind, sizes and a start <= end; capacity overflow counted,
 * not written; a new trace discards the old one; not tracing records nothing */
static void check_trace(void) {
  enum { N = 40, K = 64 };
  static float x[2 * K], y[2 * N], q[4 * 8], kv[4 * 8 * 8], o[4 * 8];
  static uint8_t codes[N * K];
  static uint16_t sc[N * 2];
  for (int i = 0; i < N * 2; i++) sc[i] = 0x3c00; /* 1.0 */
  qg_trace_record r[8];
  int bad = 0;
  if (qg_trace_start(0) != QG_EINVAL) { bad++; printf("trace check at line %d\n", __LINE__); }
  if (qg_trace_start(8) != QG_OK) { bad++; printf("trace check at line %d\n", __LINE__); }
  if (qg_gemm(QG_FMT_INT8, QG_ACT_F32, N, K, 32, codes, sc, NULL, 2, x, K, y, N) != QG_OK) { bad++; printf("trace check at line %d\n", __LINE__); }
  if (qg_attention(1, 4, 2, 8, 5, q, 32, kv, kv, 8 * 8, 8, 0.3f, o, 32) != QG_OK) { bad++; printf("trace check at line %d\n", __LINE__); }
  if (qg_gemm(QG_FMT_INT8, 99, N, K, 32, codes, sc, NULL, 1, x, K, y, N) != QG_EINVAL) { bad++; printf("trace check at line %d\n", __LINE__); } /* rejected: not traced */
  if (qg_swiglu(y, y, 1, N, N) != QG_OK) { bad++; printf("trace check at line %d\n", __LINE__); }
  int64_t n = qg_trace_stop(r, 8);
  if (n != 3) { bad++; printf("trace check at line %d\n", __LINE__); }
  if (r[0].kind != QG_CALL_GEMM || r[0].m != 2 || r[0].n != N || r[0].k != K) { bad++; printf("trace check at line %d\n", __LINE__); }
  if (r[1].kind != QG_CALL_ATTENTION || r[1].m != 1 || r[1].n != 4 || r[1].k != 5) { bad++; printf("trace check at line %d\n", __LINE__); }
  if (r[2].kind != QG_CALL_SWIGLU || r[2].m != 1 || r[2].n != N) { bad++; printf("trace check at line %d\n", __LINE__); }
  for (int i = 0; i < 3; i++) bad += !(r[i].start_ns <= r[i].end_ns) || (i && r[i].start_ns < r[i - 1].end_ns);
  if (qg_swiglu(y, y, 1, N, N) != QG_OK || qg_trace_stop(r, 8) != 3) { bad++; printf("trace check at line %d\n", __LINE__); } /* stopped: nothing more recorded */
  if (qg_trace_start(2) != QG_OK) { bad++; printf("trace check at line %d\n", __LINE__); }
  for (int i = 0; i < 5; i++) bad += qg_swiglu(y, y, 1, N, N) != QG_OK;
  memset(r, 0, sizeof r);
  if (qg_trace_stop(r, 8) != 5 || r[1].kind != QG_CALL_SWIGLU || r[2].kind != 0) { bad++; printf("trace check at line %d\n", __LINE__); } /* 5 traced, 2 kept */
  if (qg_trace_start(4) != QG_OK || qg_trace_stop(NULL, 0) != 0) { bad++; printf("trace check at line %d\n", __LINE__); } /* a new trace starts empty */
  checks += 20;
  if (bad) { printf("FAIL trace: %d wrong\n", bad); failures++; }
}

static void check_sum_exp(int isa) {
  for (int trial = 0; trial < 40; trial++) {
    const int64_t n = 1 + (int64_t)(next() % (trial % 4 == 0 ? 40 : 2000));
    float *x = malloc(sizeof(float) * n);
    double *e = malloc(sizeof(double) * n);
    float mx = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
      const uint64_t kind = next() % 50;
      x[i] = kind == 0 ? -INFINITY : kind == 1 ? -700.0f - 60.0f * (unif() + 1) : unif() * 30.0f - 10.0f;
      if (x[i] > mx) mx = x[i];
    }
    if (!isfinite(mx)) { x[0] = 1.0f; mx = mx > 1.0f ? mx : 1.0f; }
    for (int64_t i = 0; i < n; i++) if (x[i] > mx) mx = x[i];
    const double sum = qg_sum_exp(x, n, mx, e), sum2 = qg_sum_exp(x, n, mx, NULL);
    long double ref = 0;
    int bad = 0;
    for (int64_t i = 0; i < n; i++) {
      const long double r = expl((long double)x[i] - (long double)mx);
      ref += r;
      const double rd = (double)r, ulp = rd >= 2.2250738585072014e-308 ? nextafter(rd, INFINITY) - rd : 4.9406564584124654e-324;
      if (!(fabsl((long double)e[i] - r) <= 2 * (long double)ulp)) {
        if (bad++ < 3 && failures < 20) printf("SUM_EXP isa=%d x=%.9g shift=%.9g: term %.17g, expl %.17Lg\n", isa, x[i], mx, e[i], r);
      }
    }
    checks += 3;
    if (bad) failures++;
    if (!(fabsl((long double)sum - ref) <= ref * (long double)n * 2.3e-16L)) {
      printf("SUM_EXP isa=%d n=%ld: sum %.17g, long double %.17Lg\n", isa, (long)n, sum, ref); failures++;
    }
    if (memcmp(&sum, &sum2, sizeof sum) != 0) { printf("SUM_EXP isa=%d: the sum without terms differs\n", isa); failures++; }
    x[next() % n] = NAN;
    checks++;
    if (!isnan(qg_sum_exp(x, n, mx, e))) { printf("SUM_EXP isa=%d n=%ld: NaN in, no NaN out\n", isa, (long)n); failures++; }
    free(x); free(e);
  }
  float one = 0.0f;
  checks++;
  if (!isnan(qg_sum_exp(NULL, 1, 0.0, NULL)) || !isnan(qg_sum_exp(&one, 0, 0.0, NULL)) ||
      !isnan(qg_sum_exp(&one, 1, INFINITY, NULL)) || qg_sum_exp(&one, 1, 0.0, NULL) != 1.0) {
    printf("SUM_EXP isa=%d: bad arguments\n", isa); failures++;
  }
}

/* writes the first 4 MiB of a mapping (check_read_ahead's writer thread) */
static void *scribble(void *p) {
  for (int i = 0; i < 20; i++) memset(p, i, 4 << 20);
  return NULL;
}

/* one M = 1 GEMV on panels, int8 activations: 0 if it returned QG_OK */
static int gemv_panels(const mat *w, const void *panels, int64_t pbytes, const float *x, float *y) {
  return qg_gemm_panels(w->fmt, QG_ACT_Q8, w->n, w->k, w->g, w->codes, w->sc, w->z, panels, pbytes, 1, x, w->k, y, w->n);
}

/* Reading ahead between GEMVs (qg_set_read_ahead): the same bits with it on and off; no load from a qg_pages mapping
 * once qg_pages_free has it — freed while a worker reads ahead 9 MiB of it (without qg_pool_pages_retire in
 * qg_pages_free this dies of SIGSEGV); and no fault from the prefetches that stand in for loads where the panels are
 * not a qg_pages mapping, unmapped meanwhile. */
static void check_read_ahead(void) {
  const int before = qg_get_threads(), fmt = QG_FMT_INT4S, k = 2048;
  qg_set_threads(2);
  if (qg_set_read_ahead(-1) != QG_EINVAL || qg_set_read_ahead(((int64_t)1 << 30) + 1) != QG_EINVAL) {
    printf("FAIL read-ahead: qg_set_read_ahead took a size outside 0 .. 2^30\n");
    failures++;
  }
  mat a = make(fmt, 333, k, 32), b = make(fmt, 16384, k, 32);
  const int64_t pa_bytes = qg_panels_bytes(fmt, a.n, k, 32), pb_bytes = qg_panels_bytes(fmt, b.n, k, 32);
  void *pa = qg_pages_alloc(pa_bytes);
  float *x = malloc(sizeof(float) * k), *y = malloc(sizeof(float) * b.n), *ya = malloc(sizeof(float) * a.n),
        *yb = malloc(sizeof(float) * b.n);
  for (int i = 0; i < k; i++) x[i] = unif();
  int bad = !pa || qg_pack_panels(fmt, a.n, k, 32, a.codes, a.sc, a.z, pa, pa_bytes) != QG_OK;
  for (int round = 0; round < 8 && !bad; round++) {
    /* the successor's panels: a qg_pages mapping (loads) in even rounds, a plain mapping (prefetches) in odd ones */
    void *pb = round & 1 ? mmap(NULL, (size_t)pb_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
                         : qg_pages_alloc(pb_bytes);
    if (pb == MAP_FAILED || !pb || qg_pack_panels(fmt, b.n, k, 32, b.codes, b.sc, b.z, pb, pb_bytes) != QG_OK) {
      bad = 1;
      break;
    }
    qg_set_read_ahead(0);
    bad |= gemv_panels(&a, pa, pa_bytes, x, ya) | gemv_panels(&b, pb, pb_bytes, x, yb);
    qg_set_read_ahead((int64_t)64 << 20); /* a worker's whole share of b */
    for (int rep = 0; rep < 3 && !bad; rep++) { /* a then b: each learns its successor, then reads it ahead */
      bad |= gemv_panels(&a, pa, pa_bytes, x, y);
      if (memcmp(y, ya, sizeof(float) * a.n)) { printf("FAIL read-ahead: other bits for a\n"); failures++; break; }
      bad |= gemv_panels(&b, pb, pb_bytes, x, y);
      if (memcmp(y, yb, sizeof(float) * b.n)) { printf("FAIL read-ahead: other bits for b\n"); failures++; break; }
    }
    bad |= gemv_panels(&a, pa, pa_bytes, x, y); /* the worker now reads b ahead, ~9 MiB */
    if (round & 1) munmap(pb, (size_t)pb_bytes);
    else qg_pages_free(pb, pb_bytes);
    bad |= gemv_panels(&a, pa, pa_bytes, x, y); /* expects the freed b next again */
  }
  /* a pool resized while regions are set: 4 threads read b ahead; on 2, b goes and c's regions are set; back on 4,
   * threads 2 and 3 must not take b's old regions (with c's epoch) — helper review, sixteenth session: a single epoch
   * for all threads' regions made this load from the unmapped b every time */
  const int64_t pc_bytes = pb_bytes;
  void *pb = qg_pages_alloc(pb_bytes), *pc = qg_pages_alloc(pc_bytes);
  bad |= !pb || !pc || qg_pack_panels(fmt, b.n, k, 32, b.codes, b.sc, b.z, pb, pb_bytes) != QG_OK ||
         qg_pack_panels(fmt, b.n, k, 32, b.codes, b.sc, b.z, pc, pc_bytes) != QG_OK;
  if (!bad) {
    qg_set_threads(4);
    for (int r = 0; r < 2; r++) bad |= gemv_panels(&a, pa, pa_bytes, x, y) | gemv_panels(&b, pb, pb_bytes, x, y);
    bad |= gemv_panels(&a, pa, pa_bytes, x, y);
    qg_set_threads(2);
    if (qg_pages_free(pb, pb_bytes + 8192) != QG_EINVAL) { /* not its size: refused, nothing unmapped */
      printf("FAIL read-ahead: qg_pages_free took a mapping with another size\n");
      failures++;
    }
    qg_pages_free(pb, pb_bytes);
    for (int r = 0; r < 2; r++) bad |= gemv_panels(&a, pa, pa_bytes, x, y) | gemv_panels(&b, pc, pc_bytes, x, y);
    bad |= gemv_panels(&a, pa, pa_bytes, x, y);
    qg_set_threads(4);
    float *x2 = calloc(2 * (size_t)k, sizeof(float));
    for (int r = 0; r < 20 && x2; r++) /* pool calls that set no regions (M = 2): each worker takes its slot's */
      bad |= qg_gemm_panels(fmt, QG_ACT_Q8, a.n, k, 32, a.codes, a.sc, a.z, pa, pa_bytes, 2, x2, k, y, a.n);
    free(x2);
    struct timespec pause = {0, 50 * 1000 * 1000};
    nanosleep(&pause, NULL); /* the workers read ahead after the last call */
    qg_set_threads(2);
    /* memory mapped where freed panels were, written by another thread: a stale successor must not be read (the table
     * goes with the epoch; ThreadSanitizer reports the race otherwise) */
    for (int r = 0; r < 2; r++) bad |= gemv_panels(&a, pa, pa_bytes, x, y) | gemv_panels(&b, pc, pc_bytes, x, y);
    qg_pages_free(pc, pc_bytes);
    pthread_t writer;
    char *pd = NULL;
    int64_t pd_bytes = 0;
    for (int64_t sz = pc_bytes; sz < pc_bytes + (64 << 20) && !pd; sz += 1 << 20) { /* a mapping over c's place */
      char *q = qg_pages_alloc(sz);
      if (q && q <= (char *)pc && (char *)pc + pc_bytes <= q + sz) pd = q, pd_bytes = sz;
      else if (q) qg_pages_free(q, sz);
    }
    if (pd && pthread_create(&writer, NULL, scribble, pd + ((char *)pc - pd)) == 0) {
      for (int r = 0; r < 20; r++) bad |= gemv_panels(&a, pa, pa_bytes, x, y);
      pthread_join(writer, NULL);
    }
    if (pd) qg_pages_free(pd, pd_bytes);
  }
  if (bad) { printf("FAIL read-ahead: a call or an allocation failed\n"); failures++; }
  qg_set_read_ahead(768 << 10);
  qg_pages_free(pa, pa_bytes);
  free(x); free(y); free(ya); free(yb); drop(&a); drop(&b);
  qg_set_threads(before);
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 60;
  const int groups[] = {32, 64, 128, 256, 0};
  check_pool();
  check_trace();
  check_read_ahead();
#if defined(__x86_64__)
  check_attention_exp();
#endif
  for (int isa = 0; isa < QG_ISA_COUNT; isa++) {
    if (!qg_isa_supported(isa)) { printf("isa %s not supported here: skipped\n", qg_isa_name(isa)); continue; }
    qg_set_isa(isa);
#if defined(__x86_64__)
    const qg_kernels *tiers[QG_ISA_COUNT] = {&qg_kernels_scalar, &qg_kernels_avx2, &qg_kernels_avx512, NULL,
                                             &qg_kernels_avx512bf16, NULL};
#else
    const qg_kernels *tiers[QG_ISA_COUNT] = {&qg_kernels_scalar, NULL, NULL, &qg_kernels_neon, NULL,
                                             &qg_kernels_neon_dotprod};
#endif
    if (tiers[isa]) check_prep(tiers[isa], qg_isa_name(isa));
    check_lanes();
    check_sum_exp(isa);
    for (int t = 0; t < rounds; t++) {
      for (int fmt = 0; fmt < QG_FMT_COUNT; fmt++) {
        int n = 1 + (int)(next() % (t % 5 == 1 ? 200 : 67)), k = 1 + (int)(next() % 700);
        if (t % 3 == 0) n |= 1;
        int g = groups[next() % 5]; if (g == 0 || g > k) g = k;
        /* every seventh round M is 64..300: the small-K panel GEMM (K <= 512) and the large-M paths */
        int m = t % 4 == 0 ? 1 : t % 7 == 3 ? 64 + (int)(next() % 237) : 1 + (int)(next() % 64);
        check_case(fmt, QG_ACT_F32, n, k, g, m, isa);
        check_case(fmt, QG_ACT_BF16, n, k, g, m, isa);
        if (fmt >= QG_FMT_INT8) check_case(fmt, QG_ACT_Q8, n, k, g, m, isa);
      }
    }
    /* the small-K panel GEMM for certain (K 64 and 172 as stories260K's, 2-3 panels with a ragged last one) */
    for (int fmt = 0; fmt < QG_FMT_COUNT; fmt++) {
      check_case(fmt, QG_ACT_F32, 130, 64, fmt >= QG_FMT_INT8 ? 32 : 64, 100, isa);
      check_case(fmt, QG_ACT_BF16, 77, 172, 172, 257, isa);
    }
    /* M = 1..4 for certain with N past two panels: on AVX-512 the prepacked panels then run the panel kernel, two
     * panels per pass, where qg_gemm runs the row kernels */
    for (int fmt = QG_FMT_INT8; fmt < QG_FMT_COUNT; fmt++)
      for (int m = 1; m <= QG_DIRECT_MAX_M; m++) {
        int k = 1 + (int)(next() % 700), g = groups[next() % 5]; if (g == 0 || g > k) g = k;
        check_case(fmt, QG_ACT_Q8, 65 + (int)(next() % 140), k, g, m, isa);
      }
    check_sparse_rows(isa);
    check_scratch_failure(isa);
    /* int4 at M > 32 for certain: the expanded 16-row panels fold the zero points into their u bytes (q - z + 15) */
    for (int t = 0; t < 3; t++) {
      int k = 1 + (int)(next() % 700), g = groups[next() % 5]; if (g == 0 || g > k) g = k;
      check_case(QG_FMT_INT4, QG_ACT_Q8, 17 + (int)(next() % 100), k, g, 33 + (int)(next() % 64), isa);
    }
    /* a zero point past 15 is outside the format (quantgate.h), but the AVX-512 panel kernel keeps a panel holding one
     * on the per-group term instead of folding it into wrapped u bytes: still the exact result at M > 32 */
    if (isa == QG_ISA_AVX512 || isa == QG_ISA_AVX512BF16) {
      const int n = 40, k = 200, m = 40;
      mat w = make(QG_FMT_INT4, n, k, 32);
      w.z[5 * w.G + 2] = 20; /* row 5: the first panel; rows 16..39 fold */
      float *x = malloc(sizeof(float) * m * k), *y = malloc(sizeof(float) * m * n);
      for (int i = 0; i < m * k; i++) x[i] = unif();
      if (qg_gemm(QG_FMT_INT4, QG_ACT_Q8, n, k, 32, w.codes, w.sc, w.z, m, x, k, y, n) != QG_OK) { printf("FAIL rc (z > 15)\n"); failures++; }
      else check_ref(&w, QG_FMT_INT4, QG_ACT_Q8, n, k, m, x, k, y, n, isa, "zero point past 15");
      free(x); free(y); drop(&w);
    }
    /* fp32-activation 4-bit GEMV (M = 1) for certain: every group size — 128, 256 and one per row take the scaled-table
     * row kernel, 32 and 64 (several groups a 128-K chunk) the lane scales — K below, at and past whole chunks */
    for (int fmt = QG_FMT_INT4; fmt < QG_FMT_COUNT; fmt++)
      for (int gi = 0; gi < 5; gi++)
        for (int ki = 0; ki < 3; ki++) {
          const int ks[] = {100, 384, 650}, k = ks[ki], g = groups[gi] == 0 || groups[gi] > k ? k : groups[gi];
          check_case(fmt, QG_ACT_F32, 1 + (int)(next() % 40), k, g, 1, isa);
        }
    /* g32 / g64 past 16 groups: the M = 1 kernel converts the scales of 16 groups at once, so K = 1100 (g32: 35 groups)
     * and 2100 (g64: 33) reach a third block of 16 with a masked tail, and the M = 2..4 tiles' zero-point term too */
    for (int fmt = QG_FMT_INT4; fmt < QG_FMT_COUNT; fmt++)
      for (int m = 1; m <= 4; m += 3) {
        check_case(fmt, QG_ACT_F32, 1 + (int)(next() % 40), 1100, 32, m, isa);
        check_case(fmt, QG_ACT_F32, 1 + (int)(next() % 40), 2100, 64, m, isa);
      }
    /* long-K GEMV (int8 activations, M = 1): past 4096 (int8) or 6144 (4-bit) K the AVX-512 GEMV reads a compact
     * activation side (16-bit lane sums, permuted block scales); K ragged against the chunk and the group */
    for (int t = 0; t < 2 + rounds / 20; t++)
      for (int fmt = QG_FMT_INT8; fmt < QG_FMT_COUNT; fmt++) {
        const int k = 4097 + (int)(next() % 12000), n = 1 + (int)(next() % 40);
        int g = groups[next() % 5]; if (g == 0) g = k;
        check_case(fmt, QG_ACT_Q8, n, k, g, 1, isa);
      }
    /* short-K GEMV of every int8-activation format at g32 with whole blocks of 16 groups (K >= 512): the lane-array
     * GEMV's main loop, which the random cases above (K <= 700) and the long-K ones (compact) rarely reach */
    for (int fmt = QG_FMT_INT8; fmt < QG_FMT_COUNT; fmt++)
      for (int t = 0; t < 3; t++) check_case(fmt, QG_ACT_Q8, 1 + (int)(next() % 90), 512 + (int)(next() % 3000), 32, 1, isa);
    printf("isa %s: done\n", qg_isa_name(isa));
  }
  /* causal softmax, every tier, against a double-precision softmax */
  for (int isa = 0; isa < QG_ISA_COUNT; isa++) {
    if (!qg_isa_supported(isa)) continue;
    qg_set_isa(isa);
    for (int t = 0; t < 20; t++) {
      const int rows = 1 + (int)(next() % 70), first = 1 + (int)(next() % 300), ld = first + rows - 1 + (int)(next() % 40);
      const float scale = 0.05f + (float)(next() % 100) / 50.0f;
      float *a = malloc(sizeof(float) * rows * ld), *orig = malloc(sizeof(float) * rows * ld);
      for (int i = 0; i < rows * ld; i++) orig[i] = a[i] = unif() * 30.0f;
      if (qg_softmax_causal(a, rows, ld, first, scale) != QG_OK) { printf("FAIL softmax rc\n"); failures++; }
      for (int r = 0; r < rows; r++) {
        const int n = first + r;
        double mx = -1e30, sum = 0;
        for (int p = 0; p < n; p++) if (orig[r * ld + p] > mx) mx = orig[r * ld + p];
        for (int p = 0; p < n; p++) sum += exp(((double)orig[r * ld + p] - mx) * scale);
        for (int p = 0; p < ld; p++) {
          const double ref = p < n ? exp(((double)orig[r * ld + p] - mx) * scale) / sum : 0.0;
          checks++;
          /* fp32 argument rounding (|x| * 2^-23), the polynomial (~1e-7), the fp32 sum of n terms (n * 2^-24) */
          const double xarg = p < n ? fabs(((double)orig[r * ld + p] - mx) * scale) : 0.0;
          const double tol = ref * (xarg * 2.5e-7 + (n + 10) * 6e-8 + 1e-6) + 1e-37;
          if (!(fabs(a[r * ld + p] - ref) <= tol)) {
            if (failures < 20) printf("SOFTMAX isa=%d row %d col %d: got %g ref %g\n", isa, r, p, a[r * ld + p], ref);
            failures++;
          }
        }
      }
      free(a); free(orig);
    }
  }
  /* fused causal attention, every tier, against double precision. Bound per output: the score error
   * (hs+8 roundings of terms up to S = max_p sum_i |scale q_i k_ip|, plus the exp argument) moves the
   * probabilities by a relative ~S*(hs+8)*2.5e-7; the sums of n terms add (n+10)*1.2e-7; all times max|v|. */
  for (int isa = 0; isa < QG_ISA_COUNT; isa++) {
    if (!qg_isa_supported(isa)) continue;
    qg_set_isa(isa);
    static const int hss[] = {1, 2, 3, 8, 17, 64, 128};
    /* the last 20 trials are decode steps (t 1: on AVX-512 a task per kv group and block of up to 8 of its heads, up
     * to 12 heads a group) over caches up to 700 positions; each is run again on one thread and must give the same
     * bits (a decode step's path must not depend on the thread count) */
    for (int trial = 0; trial < 50; trial++) {
      const int decode = trial >= 30, hs = hss[next() % 7], kvh = 1 + (int)(next() % 3);
      const int heads = kvh * (1 + (int)(next() % (decode ? 12 : 3)));
      const int t = decode ? 1 : 1 + (int)(next() % 3 == 0 ? next() % 120 : next() % 40);
      const int start = (int)(next() % 3 == 0 ? 0 : next() % (decode ? 700 : 150));
      const int ld = start + t + (int)(next() % 20);
      const int64_t stride = (int64_t)hs * ld + (int64_t)(next() % 5);
      const int64_t ldq = (int64_t)heads * hs + (int64_t)(next() % 3), ldo = (int64_t)heads * hs + (int64_t)(next() % 3);
      const float scale = 1.0f / sqrtf((float)hs);
      float *q = malloc(sizeof(float) * t * ldq), *kt = malloc(sizeof(float) * kvh * stride);
      float *vt = malloc(sizeof(float) * kvh * stride), *o = malloc(sizeof(float) * t * ldo);
      for (int64_t i = 0; i < (int64_t)t * ldq; i++) q[i] = unif() * 2.0f;
      for (int64_t i = 0; i < (int64_t)kvh * stride; i++) { kt[i] = unif() * 2.0f; vt[i] = unif() * 3.0f; }
      if (qg_attention(t, heads, kvh, hs, start, q, ldq, kt, vt, stride, ld, scale, o, ldo) != QG_OK) {
        printf("FAIL attention rc\n"); failures++;
      }
      if (decode) {
        float *o1 = malloc(sizeof(float) * t * ldo);
        memcpy(o1, o, sizeof(float) * t * ldo);
        const int threads = qg_get_threads();
        qg_set_threads(1);
        if (qg_attention(t, heads, kvh, hs, start, q, ldq, kt, vt, stride, ld, scale, o1, ldo) != QG_OK) {
          printf("FAIL attention rc (one thread)\n"); failures++;
        }
        qg_set_threads(threads);
        checks++;
        for (int h = 0; h < heads; h++)
          if (memcmp(o1 + (int64_t)h * hs, o + (int64_t)h * hs, sizeof(float) * hs) != 0) {
            printf("FAIL attention isa=%d: decode step (%d heads over %d, hs %d, position %d) differs on one thread\n", isa,
                   heads, kvh, hs, start);
            failures++;
            break;
          }
        free(o1);
      }
      double *sc = malloc(sizeof(double) * (start + t));
      for (int tt = 0; tt < t; tt++)
        for (int h = 0; h < heads; h++) {
          const int g = h / (heads / kvh), n = start + tt + 1;
          const float *qq = q + (int64_t)tt * ldq + (int64_t)h * hs;
          const float *kk = kt + g * stride, *vv = vt + g * stride;
          double mx = -1e300, sabs = 0, sum = 0, vmax = 0;
          for (int p = 0; p < n; p++) {
            double d = 0, a = 0;
            for (int i = 0; i < hs; i++) {
              d += (double)qq[i] * scale * kk[(int64_t)i * ld + p];
              a += fabs((double)qq[i] * scale * kk[(int64_t)i * ld + p]);
            }
            sc[p] = d;
            if (d > mx) mx = d;
            if (a > sabs) sabs = a;
          }
          for (int p = 0; p < n; p++) { sc[p] = exp(sc[p] - mx); sum += sc[p]; }
          for (int i = 0; i < hs; i++)
            for (int p = 0; p < n; p++) if (fabs(vv[(int64_t)i * ld + p]) > vmax) vmax = fabs(vv[(int64_t)i * ld + p]);
          const double tol = vmax * (sabs * (hs + 8) * 2.5e-7 + (n + 10) * 1.2e-7 + 2e-6);
          for (int i = 0; i < hs; i++) {
            double ref = 0;
            for (int p = 0; p < n; p++) ref += sc[p] * vv[(int64_t)i * ld + p];
            ref /= sum;
            const float got = o[(int64_t)tt * ldo + (int64_t)h * hs + i];
            checks++;
            if (!(fabs(got - ref) <= tol)) {
              if (failures < 20) printf("ATTENTION isa=%d hs=%d t=%d h=%d i=%d: got %g ref %g tol %g\n", isa, hs, tt, h, i, got, ref, tol);
              failures++;
            }
          }
        }
      free(sc); free(q); free(kt); free(vt); free(o);
    }
    /* SwiGLU against double precision: silu(g) * u, relative error of the exp and three fp32 ops. Flat
     * (one long row, as decode calls it) and as rows of a fused [rows][2w] gate|up buffer (prefill). */
    for (int trial = 0; trial < 6; trial++) {
      const int fused = trial % 2;
      const int64_t rows = fused ? 1 + (int64_t)(next() % 600) : 1;
      const int64_t w = 1 + (int64_t)(next() % (fused ? 300 : 40000));
      const int64_t ld = fused ? 2 * w : w, total = rows * ld;
      float *buf = malloc(sizeof(float) * total), *up = malloc(sizeof(float) * total), *orig = malloc(sizeof(float) * total);
      for (int64_t i = 0; i < total; i++) { orig[i] = buf[i] = unif() * 40.0f; up[i] = unif() * 3.0f; }
      const float *u = fused ? buf + w : up;
      const float *uo = fused ? orig + w : up;
      if (qg_swiglu(buf, u, rows, w, ld) != QG_OK) { printf("FAIL swiglu rc\n"); failures++; }
      for (int64_t r = 0; r < rows; r++)
        for (int64_t i = 0; i < w; i++) {
          const double x = orig[r * ld + i], ref = x / (1.0 + exp(-x)) * uo[r * ld + i];
          const float got = buf[r * ld + i];
          checks++;
          if (!(fabs(got - ref) <= fabs(ref) * (fabs(x) * 2.5e-7 + 1e-6) + 1e-30)) {
            if (failures < 20) printf("SWIGLU isa=%d fused=%d r=%ld i=%ld: got %g ref %g\n", isa, fused, (long)r, (long)i, got, ref);
            failures++;
          }
          if (fused && buf[r * ld + w + i] != orig[r * ld + w + i]) {
            if (failures < 20) printf("SWIGLU isa=%d wrote the up half at r=%ld i=%ld\n", isa, (long)r, (long)i);
            failures++;
          }
        }
      free(buf); free(up); free(orig);
    }
    /* residual + RMSNorm against double precision (bound: dim+8 roundings of the sum of squares and the scaling),
     * and the same bits on every tier (the tier-independent lane order); in place (out = x) and into another buffer */
    for (int trial = 0; trial < 8; trial++) {
      const int64_t rows = 1 + (int64_t)(next() % 300), dim = 1 + (int64_t)(next() % 200);
      const int64_t ldx = dim + (int64_t)(next() % 3), ldd = dim + (int64_t)(next() % 3), ldo = dim + (int64_t)(next() % 3);
      const int with_delta = trial % 4 != 3, in_place = trial % 2;
      const float eps = trial % 3 ? 1e-5f : 1e-6f;
      float *xb = malloc(sizeof(float) * rows * ldx), *x0 = malloc(sizeof(float) * rows * ldx);
      float *d = malloc(sizeof(float) * rows * ldd), *ob = malloc(sizeof(float) * rows * ldo), *w = malloc(sizeof(float) * dim);
      float *first = malloc(sizeof(float) * rows * dim);
      for (int64_t i = 0; i < rows * ldx; i++) x0[i] = unif() * 4.0f;
      for (int64_t i = 0; i < rows * ldd; i++) d[i] = unif() * 2.0f;
      for (int64_t i = 0; i < dim; i++) w[i] = 0.5f + unif();
      for (int tier = 0; tier < QG_ISA_COUNT; tier++) {
        if (!qg_isa_supported(tier)) continue;
        qg_set_isa(tier);
        memcpy(xb, x0, sizeof(float) * rows * ldx);
        float *o = in_place ? xb : ob;
        const int64_t ld_out = in_place ? ldx : ldo;
        if (qg_add_rmsnorm(xb, ldx, with_delta ? d : NULL, ldd, o, ld_out, w, rows, dim, eps) != QG_OK) {
          printf("FAIL add_rmsnorm rc\n"); failures++;
        }
        for (int64_t r = 0; r < rows; r++) {
          double ss = 0;
          double xr[200];
          for (int64_t i = 0; i < dim; i++) {
            xr[i] = (double)x0[r * ldx + i] + (with_delta ? (double)d[r * ldd + i] : 0.0);
            ss += xr[i] * xr[i];
          }
          const double inv = 1.0 / sqrt(ss / dim + eps);
          for (int64_t i = 0; i < dim; i++) {
            const double ref = w[i] * xr[i] * inv;
            const float got = o[r * ld_out + i];
            checks++;
            if (!(fabs(got - ref) <= fabs(w[i]) * (fabs(xr[i]) * inv * (dim + 8) * 1.2e-7 + 1e-6))) {
              if (failures < 20) printf("RMSNORM isa=%d r=%ld i=%ld: got %g ref %g\n", tier, (long)r, (long)i, got, ref);
              failures++;
            }
            if (first[r * dim + i] != got && tier != 0 && qg_isa_supported(0)) {
              if (failures < 20) printf("RMSNORM isa=%d r=%ld i=%ld: %a differs from the scalar tier's %a\n", tier, (long)r, (long)i, got, first[r * dim + i]);
              failures++;
            }
            if (tier == 0) first[r * dim + i] = got;
          }
        }
      }
      qg_set_isa(isa);
      free(xb); free(x0); free(d); free(ob); free(w); free(first);
    }
    /* KV store: every position of every head lands transposed where the layout says, nothing else is written; small
     * chunks (a decode step, copied on the calling thread) and large ones (over the pool) */
    for (int trial = 0; trial < 10; trial++) {
      const int64_t rows = trial % 2 ? 1 + (int64_t)(next() % 4) : 100 + (int64_t)(next() % 500);
      const int heads = 1 + (int)(next() % 8), hs = trial >= 6 ? 8 : 1 + (int)(next() % 64), start = (int)(next() % 50);
      const int64_t ld = (int64_t)heads * hs + (int64_t)(next() % 3), ld_dst = start + rows + (int64_t)(next() % 7);
      const int64_t hstride = (int64_t)hs * ld_dst + (int64_t)(next() % 5), total = (int64_t)heads * hstride;
      float *src = malloc(sizeof(float) * rows * ld), *dst = malloc(sizeof(float) * total);
      for (int64_t i = 0; i < rows * ld; i++) src[i] = unif();
      for (int64_t i = 0; i < total; i++) dst[i] = -7.0f;
      if (qg_kv_store(src, rows, ld, heads, hs, dst, hstride, ld_dst, start) != QG_OK) { printf("FAIL kv_store rc\n"); failures++; }
      int64_t written = 0;
      for (int g = 0; g < heads; g++)
        for (int i = 0; i < hs; i++)
          for (int64_t t = 0; t < rows; t++) {
            checks++;
            if (dst[g * hstride + i * ld_dst + start + t] != src[t * ld + (int64_t)g * hs + i]) {
              if (failures < 20) printf("KV_STORE isa=%d g=%d i=%d t=%ld\n", isa, g, i, (long)t);
              failures++;
            }
            written++;
          }
      int64_t untouched = 0;
      for (int64_t i = 0; i < total; i++) untouched += dst[i] == -7.0f;
      if (untouched != total - written) { printf("KV_STORE wrote outside its positions\n"); failures++; }
      free(src); free(dst);
    }
    /* RoPE against double precision (each output is two products and a sum of table values), both styles: random
     * head sizes, then each of the AVX-512 tier's cases (hs dividing 16, 16 or 32 dividing hs) and two it leaves to
     * the portable loop (6, 48 in style 1), with head counts that end rows mid-vector */
    static const int rope_hs[] = {2, 4, 8, 16, 32, 64, 128, 6, 48};
    for (int trial = 0; trial < 6 + 2 * 9; trial++) {
      const int style = trial % 2, hs = trial < 6 ? 2 * (1 + (int)(next() % 64)) : rope_hs[(trial - 6) / 2];
      const int heads = 1 + (int)(next() % 12);
      const int64_t rows = 1 + (int64_t)(next() % 200), ldx = (int64_t)heads * hs + (int64_t)(next() % 5);
      const int start = (int)(next() % 100), positions = start + (int)rows + (int)(next() % 10), half = hs / 2;
      float *cs = malloc(sizeof(float) * positions * half), *sn = malloc(sizeof(float) * positions * half);
      for (int64_t i = 0; i < (int64_t)positions * half; i++) { cs[i] = (float)cos(0.37 * (double)i); sn[i] = (float)sin(0.37 * (double)i); }
      float *xb = malloc(sizeof(float) * rows * ldx), *x0 = malloc(sizeof(float) * rows * ldx);
      for (int64_t i = 0; i < rows * ldx; i++) x0[i] = xb[i] = unif() * 3.0f;
      if (qg_rope(xb, rows, ldx, heads, hs, start, cs, sn, positions, style) != QG_OK) { printf("FAIL rope rc\n"); failures++; }
      for (int64_t r = 0; r < rows; r++)
        for (int h = 0; h < heads; h++)
          for (int i = 0; i < half; i++) {
            const int64_t b = r * ldx + (int64_t)h * hs, ia = style ? i : 2 * i, ib = style ? i + half : 2 * i + 1;
            const double c = cs[(start + r) * half + i], sv = sn[(start + r) * half + i], pa = x0[b + ia], pb = x0[b + ib];
            const double ra = pa * c - pb * sv, rb = pa * sv + pb * c, tol = (fabs(pa) + fabs(pb)) * 3e-7 + 1e-30;
            checks += 2;
            if (!(fabs(xb[b + ia] - ra) <= tol && fabs(xb[b + ib] - rb) <= tol)) {
              if (failures < 20) printf("ROPE isa=%d style=%d r=%ld h=%d i=%d: got %g %g ref %g %g\n", isa, style, (long)r, h, i, xb[b + ia], xb[b + ib], ra, rb);
              failures++;
            }
          }
      for (int64_t r = 0; r < rows; r++)
        for (int64_t i = (int64_t)heads * hs; i < ldx; i++)
          if (xb[r * ldx + i] != x0[r * ldx + i]) { if (failures < 20) printf("ROPE wrote past the heads\n"); failures++; }
      free(cs); free(sn); free(xb); free(x0);
    }
  }
  /* bad arguments are errors, not crashes */
  float x[4] = {0}, y[4];
  uint8_t c[16] = {0};
  uint16_t s[4] = {0};
  int bad = 0;
  bad += qg_gemm(99, 0, 1, 1, 1, c, s, c, 1, x, 1, y, 1) == QG_EINVAL;
  bad += qg_gemm(QG_FMT_INT4, 0, 1, 16, 16, c, NULL, c, 1, x, 16, y, 1) == QG_EINVAL;
  bad += qg_gemm(QG_FMT_INT4, 0, 1, 16, 16, c, s, NULL, 1, x, 16, y, 1) == QG_EINVAL;
  bad += qg_gemm(QG_FMT_FP16, QG_ACT_Q8, 1, 4, 4, c, s, NULL, 1, x, 4, y, 1) == QG_EUNSUPPORTED;
  bad += qg_gemm(QG_FMT_FP32, 0, 1, 4, 4, c, NULL, NULL, 1, x, 3, y, 1) == QG_EINVAL;
  bad += qg_gemm(QG_FMT_INT4S, 0, 1, 96, 48, c, s, NULL, 1, x, 96, y, 1) == QG_EINVAL;
  bad += qg_softmax_causal(NULL, 1, 4, 1, 1.0f) == QG_EINVAL;
  bad += qg_softmax_causal(x, 2, 4, 4, 1.0f) == QG_EINVAL; /* row 1 would hold 5 > ld values */
  bad += qg_attention(1, 3, 2, 4, 0, x, 12, x, x, 4, 1, 1.0f, y, 12) == QG_EINVAL; /* 3 heads over 2 kv heads */
  bad += qg_attention(2, 1, 1, 4, 0, x, 4, x, x, 4, 1, 1.0f, y, 4) == QG_EINVAL;   /* ld 1 < 2 positions */
  bad += qg_attention(1, 1, 1, 4, 0, x, 4, x, x, 4, 1, NAN, y, 4) == QG_EINVAL;
  bad += qg_swiglu(NULL, x, 1, 4, 4) == QG_EINVAL;
  bad += qg_swiglu(x, x, 2, 4, 3) == QG_EINVAL; /* ld < n */
  bad += qg_add_rmsnorm(x, 4, NULL, 0, y, 4, NULL, 1, 4, 1e-5f) == QG_EINVAL; /* no weights */
  bad += qg_add_rmsnorm(x, 3, NULL, 0, y, 4, x, 1, 4, 1e-5f) == QG_EINVAL;   /* ldx < dim */
  bad += qg_add_rmsnorm(x, 4, NULL, 0, y, 4, x, 1, 4, NAN) == QG_EINVAL;
  bad += qg_rope(x, 1, 4, 1, 3, 0, x, x, 1, 0) == QG_EINVAL;  /* odd head size */
  bad += qg_rope(x, 2, 4, 1, 4, 0, x, x, 1, 0) == QG_EINVAL;  /* positions 0..1 past a table of 1 */
  bad += qg_rope(x, 1, 4, 1, 4, 0, x, x, 1, 2) == QG_EINVAL;  /* no style 2 */
  bad += qg_kv_store(x, 2, 4, 1, 4, y, 4, 1, 0) == QG_EINVAL;  /* 2 positions in a cache row of 1 */
  bad += qg_kv_store(x, 1, 3, 1, 4, y, 4, 1, 0) == QG_EINVAL;  /* ld < heads*hs */
  bad += qg_pack_panels(QG_FMT_INT8, 1, 4, 4, c, s, NULL, y, 3) == QG_EINVAL;            /* wrong size */
  bad += qg_gemm_panels(QG_FMT_INT8, QG_ACT_Q8, 1, 4, 4, c, s, NULL, NULL, 0, 1, x, 4, y, 1) == QG_EINVAL; /* no panels */
  { /* an int4 zero point past 15 (the panel kernel folds zero points into 0..30 bytes); 15 is fine */
    const uint8_t z16 = 16, z15 = 15;
    const int64_t pb = qg_panels_bytes(QG_FMT_INT4, 1, 16, 16);
    void *pp = aligned_alloc(64, (size_t)((pb + 63) / 64 * 64));
    bad += qg_pack_panels(QG_FMT_INT4, 1, 16, 16, c, s, &z16, pp, pb) == QG_EINVAL &&
           qg_pack_panels(QG_FMT_INT4, 1, 16, 16, c, s, &z15, pp, pb) == QG_OK;
    free(pp);
  }
  /* a wrong size (with AVX-512), or no tier that reads them (without) */
  bad += qg_pack_nt(QG_FMT_FP32, 1, 4, 4, c, NULL, NULL, (float *)y, 3) ==
         (qg_nt_bytes(QG_FMT_FP32, 1, 4, 4) > 0 ? QG_EINVAL : QG_EUNSUPPORTED);
  bad += qg_gemm_nt(QG_FMT_FP32, QG_ACT_F32, 1, 4, 4, c, NULL, NULL, NULL, 0, 1, x, 4, y, 1) == QG_EINVAL; /* none */
  bad += qg_nt_bytes(QG_FMT_FP32, 64, 513, 513) == 0; /* K past the small-K path */
  if (bad != 27) { printf("FAIL bad-argument checks: %d of 27\n", bad); failures++; }
  printf("%d passed, %d failed\n", checks - failures + (bad == 27), failures);
  return failures ? 1 : 0;
}
