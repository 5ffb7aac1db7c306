/*
 * Portable kernels, written as plain loops. This file is compiled once per ISA tier
 * (QG_TIER = scalar | avx2 | avx512g on x86-64, scalar | neon | neon_dotprod on aarch64) with that tier's flags, so the
 * AVX2 and NEON tiers get the compiler's vectorization of these same loops. The AVX-512 tier replaces the hot paths with the
 * intrinsics of qg_avx512.c and uses the avx512g build of this file for the rest.
 */
#include "qg_internal.h"
#include <stdlib.h>

#define CAT_(a, b) a##_##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(name, QG_TIER)

/* Dequantizes row `r`, columns [k0, k1), into out[0 .. k1-k0). Exactly (q - z) * s etc., as the
 * Java oracle's dequantizeRow. */
static void FN(dequant_exact)(const qg_call *c, int r, int k0, int k1, float *restrict out) {
  const uint8_t *row = c->codes + (int64_t)r * c->row_bytes;
  const int fmt = c->fmt, g = c->group;
  switch (fmt) {
    case QG_FMT_FP32: memcpy(out, (const float *)row + k0, (size_t)(k1 - k0) * 4); return;
    case QG_FMT_FP16: {
      const uint16_t *h = (const uint16_t *)row;
      for (int kk = k0; kk < k1; kk++) out[kk - k0] = qg_h2f(h[kk]);
      return;
    }
    case QG_FMT_BF16: {
      const uint16_t *h = (const uint16_t *)row;
      for (int kk = k0; kk < k1; kk++) out[kk - k0] = qg_bf2f(h[kk]);
      return;
    }
    default: break;
  }
  const uint16_t *sc = c->scales + (int64_t)r * c->ngroups;
  for (int g0 = (k0 / g) * g; g0 < k1; g0 += g) {
    const int gi = g0 / g;
    const float s = qg_h2f(sc[gi]);
    const int a = g0 > k0 ? g0 : k0, b = g0 + g < k1 ? g0 + g : k1;
    if (fmt == QG_FMT_INT8) {
      const int8_t *q = (const int8_t *)row;
      for (int kk = a; kk < b; kk++) out[kk - k0] = (float)q[kk] * s;
    } else if (fmt == QG_FMT_INT4) {
      const int z = c->zeros[(int64_t)r * c->ngroups + gi];
      for (int kk = a; kk < b; kk++) out[kk - k0] = (float)(qg_code4(row, kk) - z) * s;
    } else {
      for (int kk = a; kk < b; kk++) out[kk - k0] = qg_level4(fmt, qg_code4(row, kk)) * s;
    }
  }
}

/* ... and rounded to bf16 when the call's activations are bf16 (the weights of a bf16 product are bf16 too) */
void FN(qg_dequant_range)(const qg_call *c, int r, int k0, int k1, float *restrict out) {
  FN(dequant_exact)(c, r, k0, k1, out);
  if (c->act == QG_ACT_BF16)
    for (int kk = 0; kk < k1 - k0; kk++) out[kk] = qg_bf16_round(out[kk]);
}

static float dot_f32(const float *restrict a, const float *restrict b, int k) {
  /* 16 partial sums: vectorizable without -ffast-math */
  float acc[16] = {0};
  int kk = 0;
  for (; kk + 16 <= k; kk += 16)
    for (int j = 0; j < 16; j++) acc[j] += a[kk + j] * b[kk + j];
  float s = 0;
  for (; kk < k; kk++) s += a[kk] * b[kk];
  for (int j = 0; j < 16; j++) s += acc[j];
  return s;
}

/* M small: dequantize each row once, dot it with every activation row. */
static void FN(direct_f32)(const qg_call *c, int n0, int n1, int thread) {
  float *w = qg_scratch(thread, 0, (size_t)c->k * sizeof(float));
  if (!w) return;
  for (int r = n0; r < n1; r++) {
    FN(qg_dequant_range)(c, r, 0, c->k, w);
    for (int mm = 0; mm < c->m; mm++) c->y[mm * c->ldy + r] = dot_f32(w, c->x + mm * c->ldx, c->k);
  }
}

#define PNB 48  /* rows of W dequantized at once */
#define PKB 256 /* K block */

/* M large: dequantize a [PNB][PKB] block of W once, multiply it with the transposed activations
 * (xt, packed per M tile, see qg_xt_index) for every M; accumulate in a [PNB][mpad] buffer, write y at the end. */
static void FN(panel_f32)(const qg_call *c, int n0, int n1, int thread) {
  const int mpad = c->mpad, M = c->m;
  float *wb = qg_scratch(thread, 0, (size_t)PNB * PKB * sizeof(float));
  float *cb = qg_scratch(thread, 1, (size_t)PNB * mpad * sizeof(float));
  if (!wb || !cb) return;
  for (int nb = n0; nb < n1; nb += PNB) {
    const int nr = n1 - nb < PNB ? n1 - nb : PNB;
    memset(cb, 0, (size_t)nr * mpad * sizeof(float));
    for (int k0 = 0; k0 < c->k; k0 += PKB) {
      const int kb = c->k - k0 < PKB ? c->k - k0 : PKB;
      for (int r = 0; r < nr; r++) FN(qg_dequant_range)(c, nb + r, k0, k0 + kb, wb + r * PKB);
      for (int r = 0; r < nr; r++) {
        const float *wr = wb + r * PKB;
        float *cr = cb + (int64_t)r * mpad;
        for (int m0 = 0; m0 < mpad; m0 += 16) {
          float acc[16];
          for (int j = 0; j < 16; j++) acc[j] = cr[m0 + j];
          for (int kk = 0; kk < kb; kk++) {
            const float wv = wr[kk];
            const float *xr = c->xt + qg_xt_index(c->kpad, mpad, k0 + kk, m0);
            for (int j = 0; j < 16; j++) acc[j] += wv * xr[j];
          }
          for (int j = 0; j < 16; j++) cr[m0 + j] = acc[j];
        }
      }
    }
    for (int r = 0; r < nr; r++)
      for (int mm = 0; mm < M; mm++) c->y[mm * c->ldy + nb + r] = cb[(int64_t)r * mpad + mm];
  }
}

/* int8 activations: expand each row to signed codes (u - off), exact int32 dot per 32-block. */
static void FN(q8)(const qg_call *c, int n0, int n1, int thread) {
  const int K = c->k, g = c->group, fmt = c->fmt, nb = c->nblocks;
  int8_t *ws = qg_scratch(thread, 0, (size_t)c->kpad);
  float *bs = qg_scratch(thread, 1, (size_t)nb * sizeof(float));
  if (!ws || !bs) return;
  const float mul = qg_seff_mul(fmt);
  for (int r = n0; r < n1; r++) {
    const uint8_t *row = c->codes + (int64_t)r * c->row_bytes;
    const uint16_t *sc = c->scales + (int64_t)r * c->ngroups;
    for (int kk = 0; kk < K; kk++) {
      const int gi = kk / g;
      int v;
      if (fmt == QG_FMT_INT8) v = ((const int8_t *)row)[kk];
      else if (fmt == QG_FMT_INT4) v = qg_code4(row, kk) - c->zeros[(int64_t)r * c->ngroups + gi];
      else v = qg_u4(fmt, qg_code4(row, kk)) - qg_off(fmt);
      ws[kk] = (int8_t)v;
    }
    for (int b = 0; b < nb; b++) bs[b] = qg_h2f(sc[(b * QG_ABLOCK) / g]) * mul;
    for (int mm = 0; mm < c->m; mm++) {
      const int8_t *xq = c->xq + (int64_t)mm * c->kpad;
      const float *sx = c->sx + (int64_t)mm * nb;
      float acc = 0;
      for (int b = 0; b < nb; b++) {
        const int a0 = b * QG_ABLOCK, a1 = a0 + QG_ABLOCK < K ? a0 + QG_ABLOCK : K;
        int32_t d = 0;
        for (int kk = a0; kk < a1; kk++) d += (int32_t)ws[kk] * (int32_t)xq[kk];
        acc += bs[b] * (sx[b] * (float)d);
      }
      c->y[mm * c->ldy + r] = acc;
    }
  }
}

/* Activation row m -> int8 per 32-block (docs/formats.md). Written as branch-free fixed-length loops
 * so the compiler vectorizes them: |x| bits compare like the floats they encode (non-NaN), which
 * turns the absmax into an integer max reduction. */
void FN(qg_prep_q8_row)(const qg_call *c, int mm, int thread) {
  (void)thread;
  const int K = c->k, kpad = c->kpad, nb = c->nblocks;
  const float *x = c->x + (int64_t)mm * c->ldx;
  int8_t *xq = (int8_t *)c->xq + (int64_t)mm * kpad;
  float *sx = (float *)c->sx + (int64_t)mm * nb;
  int32_t *xs = (int32_t *)c->xsum + (int64_t)mm * nb;
  for (int b = 0; b < nb; b++) {
    const int a0 = b * QG_ABLOCK, len = K - a0 < QG_ABLOCK ? K - a0 : QG_ABLOCK;
    float buf[QG_ABLOCK];
    uint32_t bits[QG_ABLOCK];
    memset(buf, 0, sizeof buf);
    memcpy(buf, x + a0, (size_t)len * sizeof(float));
    memcpy(bits, buf, sizeof bits);
    uint32_t amax_bits = 0, nonfinite = 0;
    for (int j = 0; j < QG_ABLOCK; j++) {
      const uint32_t a = bits[j] & 0x7fffffffu;
      nonfinite |= (a >= 0x7f800000u);
      amax_bits = a > amax_bits ? a : amax_bits;
    }
    float amax;
    memcpy(&amax, &amax_bits, 4);
    int8_t q8[QG_ABLOCK];
    int32_t sum = 0;
    if (nonfinite) {
      sx[b] = NAN;
      memset(q8, 0, sizeof q8);
    } else {
      const float d = amax / 127.0f;
      sx[b] = d;
      const float dd = d != 0.0f ? d : 1.0f;
      for (int j = 0; j < QG_ABLOCK; j++) {
        const float v = buf[j] / dd;
        int q = (int)(fabsf(v) + 0.5f);
        q = q > 127 ? 127 : q;
        q = v < 0 ? -q : q;
        q = d != 0.0f ? q : 0;
        q8[j] = (int8_t)q;
        sum += q;
      }
    }
    memcpy(xq + a0, q8, (size_t)len);
    xs[b] = sum;
  }
  memset(xq + K, 0, (size_t)(kpad - K));
  if (c->xq_il) {
    int8_t *il = (int8_t *)c->xq_il + (int64_t)mm * kpad;
    for (int ch = 0; ch < kpad; ch += 128)
      for (int j = 0; j < 64; j++) {
        il[ch + j] = xq[ch + 2 * j];
        il[ch + 64 + j] = xq[ch + 2 * j + 1];
      }
  }
  if (c->lane_sx) {
    const int lw = c->lanew, nl = kpad / lw;
    float *lsx = (float *)c->lane_sx + (int64_t)mm * nl;
    for (int l = 0; l < nl; l++) {
      const int b = (l * lw) / QG_ABLOCK;
      lsx[l] = b < nb ? sx[b] : 0.0f;
    }
  }
  if (c->lane_oxs) {
    const int lw = c->lanew, nl = kpad / lw, off = qg_off(c->fmt);
    int32_t *ox = (int32_t *)c->lane_oxs + (int64_t)mm * nl;
    for (int l = 0; l < nl; l++) {
      int32_t s = 0;
      for (int j = 0; j < lw; j++) s += xq[l * lw + j];
      ox[l] = -off * s;
    }
  }
  qg_prep_lane_xs16(c, mm);
  qg_prep_xq_u(c, mm);
  qg_prep_block_terms(c, mm);
}

/* exp for softmax: Cody-Waite range reduction and Cephes' degree-6 polynomial (relative error
 * ~1e-7), branch-free so the compiler vectorizes it; inputs below -87.3 clamp (the result, ~1e-38,
 * is negligible next to the row's maximum term, which is exp(0) = 1). */
static inline float qg_expf(float x) {
  x = x < -87.3f ? -87.3f : (x > 88.7f ? 88.7f : x);
  const float n = floorf(x * 1.44269504088896341f + 0.5f);
  const float r = x - n * 0.693359375f - n * -2.12194440e-4f;
  float p = 1.9875691500E-4f;
  p = p * r + 1.3981999507E-3f;
  p = p * r + 8.3334519073E-3f;
  p = p * r + 4.1665795894E-2f;
  p = p * r + 1.6666665459E-1f;
  p = p * r + 5.0000001201E-1f;
  p = p * r * r + r + 1.0f;
  const int32_t e = ((int32_t)n + 127) << 23;
  float s;
  memcpy(&s, &e, 4);
  return p * s;
}

void FN(qg_softmax_rows)(float *att, int r0, int r1, int64_t ld, int first_len, float scale) {
  for (int t = r0; t < r1; t++) {
    float *row = att + (int64_t)t * ld;
    const int n = first_len + t;
    float mx = row[0];
    for (int p = 1; p < n; p++) mx = row[p] > mx ? row[p] : mx;
    float sum = 0.0f;
    for (int p = 0; p < n; p++) {
      const float e = qg_expf((row[p] - mx) * scale);
      row[p] = e;
      sum += e;
    }
    const float inv = 1.0f / sum;
    for (int p = 0; p < n; p++) row[p] *= inv;
    for (int64_t p = n; p < ld; p++) row[p] = 0.0f;
  }
}

/* Causal attention of queries t0..t1-1 of one head (see qg_attention in quantgate.h). Keys and values
 * are both stored transposed ([dim][pos]), so every loop runs over positions: scores accumulate dim by
 * dim into a scratch row, and the max, the exp-sum and each output dim's weighted sum are reductions
 * kept in QG_LANES independent partial sums, a shape the compiler vectorizes without reassociating
 * (no -ffast-math). A query's K and V rows (hs x n floats each) stay in L1/L2 for the task's next
 * query. */
#define QG_LANES 16
void FN(qg_attention_rows)(const qg_attention_args *a, int h, int t0, int t1, int thread) {
  const int hs = a->hs, g = h / (a->n_heads / a->n_kv_heads);
  const float *kt = a->kt + (int64_t)g * a->kv_head_stride;
  const float *vt = a->vt + (int64_t)g * a->kv_head_stride;
  const int64_t ld = a->ld_kv;
  float *s = qg_scratch(thread, 2, (size_t)(a->start + a->t_total + QG_LANES) * sizeof(float));
  for (int t = t0; t < t1; t++) {
    const float *q = a->q + (int64_t)t * a->ldq + (int64_t)h * hs;
    float *o = a->out + (int64_t)t * a->ldo + (int64_t)h * hs;
    const int n = a->start + t + 1;
    const int nv = n & ~(QG_LANES - 1);
    for (int p = 0; p < n; p++) s[p] = 0.0f;
    for (int i = 0; i < hs; i++) {
      const float qi = q[i] * a->scale;
      const float *kr = kt + (int64_t)i * ld;
      for (int p = 0; p < n; p++) s[p] += qi * kr[p];
    }
    float lane[QG_LANES];
    for (int j = 0; j < QG_LANES; j++) lane[j] = s[0];
    for (int p = 0; p < nv; p += QG_LANES)
      for (int j = 0; j < QG_LANES; j++) lane[j] = s[p + j] > lane[j] ? s[p + j] : lane[j];
    float mx = lane[0];
    for (int j = 1; j < QG_LANES; j++) mx = lane[j] > mx ? lane[j] : mx;
    for (int p = nv; p < n; p++) mx = s[p] > mx ? s[p] : mx;
    for (int j = 0; j < QG_LANES; j++) lane[j] = 0.0f;
    for (int p = 0; p < nv; p += QG_LANES)
      for (int j = 0; j < QG_LANES; j++) {
        const float e = qg_expf(s[p + j] - mx);
        s[p + j] = e;
        lane[j] += e;
      }
    float sum = 0.0f;
    for (int p = nv; p < n; p++) {
      const float e = qg_expf(s[p] - mx);
      s[p] = e;
      sum += e;
    }
    for (int j = 0; j < QG_LANES; j++) sum += lane[j];
    const float inv = 1.0f / sum;
    for (int i = 0; i < hs; i++) {
      const float *vr = vt + (int64_t)i * ld;
      for (int j = 0; j < QG_LANES; j++) lane[j] = 0.0f;
      for (int p = 0; p < nv; p += QG_LANES)
        for (int j = 0; j < QG_LANES; j++) lane[j] += s[p + j] * vr[p + j];
      float acc = 0.0f;
      for (int p = nv; p < n; p++) acc += s[p] * vr[p];
      for (int j = 0; j < QG_LANES; j++) acc += lane[j];
      o[i] = acc * inv;
    }
  }
}

/* g[i] = silu(g[i]) * u[i] over [i0, i1): the SwiGLU gate. */
void FN(qg_swiglu_range)(float *gate, const float *up, int64_t i0, int64_t i1) {
  for (int64_t i = i0; i < i1; i++) {
    const float x = gate[i];
    gate[i] = x / (1.0f + qg_expf(-x)) * up[i];
  }
}

/* x[r] += delta[r]; out[r] = w * x[r] / sqrt(mean(x[r]^2) + eps), r in [r0, r1) (see qg_add_rmsnorm). The sum of
 * squares keeps QG_LANES partial sums (lane j takes elements j, j + QG_LANES, ...) added in lane order, then the
 * tail: a shape every tier vectorizes to the same bits. */
void FN(qg_add_rmsnorm_rows)(const qg_norm_args *a, int64_t r0, int64_t r1) {
  const int64_t dim = a->dim, dv = dim & ~(int64_t)(QG_LANES - 1);
  for (int64_t r = r0; r < r1; r++) {
    float *x = a->x + r * a->ldx, *o = a->out + r * a->ldo;
    if (a->delta) {
      const float *d = a->delta + r * a->ldd;
      for (int64_t i = 0; i < dim; i++) x[i] += d[i];
    }
    float lane[QG_LANES] = {0};
    for (int64_t i = 0; i < dv; i += QG_LANES)
      for (int j = 0; j < QG_LANES; j++) lane[j] += x[i + j] * x[i + j];
    float ss = 0.0f;
    for (int j = 0; j < QG_LANES; j++) ss += lane[j];
    for (int64_t i = dv; i < dim; i++) ss += x[i] * x[i];
    const float inv = (float)(1.0 / sqrt((double)(ss / (float)dim) + (double)a->eps));
    /* in place and into another row as separate loops: the vectorizer's overlap check fails when o == x */
    if (o == x)
      for (int64_t i = 0; i < dim; i++) x[i] = a->w[i] * (inv * x[i]);
    else
      for (int64_t i = 0; i < dim; i++) o[i] = a->w[i] * (inv * x[i]);
  }
}

/* RoPE of rows [r0, r1) in place (see qg_rope) */
void FN(qg_rope_rows)(const qg_rope_args *a, int64_t r0, int64_t r1) {
  const int half = a->hs / 2;
  for (int64_t r = r0; r < r1; r++) {
    float *x = a->x + r * a->ldx;
    const float *c = a->cos + (a->start + r) * half, *s = a->sin + (a->start + r) * half;
    for (int h = 0; h < a->n_heads; h++) {
      float *v = x + (int64_t)h * a->hs;
      if (a->style == 0) {
        for (int i = 0; i < half; i++) {
          const float p = v[2 * i], q = v[2 * i + 1];
          v[2 * i] = p * c[i] - q * s[i];
          v[2 * i + 1] = p * s[i] + q * c[i];
        }
      } else {
        for (int i = 0; i < half; i++) {
          const float p = v[i], q = v[i + half];
          v[i] = p * c[i] - q * s[i];
          v[i + half] = p * s[i] + q * c[i];
        }
      }
    }
  }
}

/* a tier with its own int8-activation kernel names it (the neon_dotprod tier: qg_neon.c) */
#ifdef QG_Q8_KERNEL
void QG_Q8_KERNEL(const qg_call *c, int n0, int n1, int thread);
#define QG_Q8 QG_Q8_KERNEL
#else
#define QG_Q8 FN(q8)
#endif

const qg_kernels CAT(qg_kernels, QG_TIER) = {FN(qg_prep_q8_row), FN(direct_f32), FN(panel_f32), QG_Q8,
                                             FN(qg_softmax_rows), FN(qg_attention_rows),
                                             FN(qg_swiglu_range), 0, NULL, NULL, NULL,
                                             FN(qg_add_rmsnorm_rows), FN(qg_rope_rows), NULL, NULL, NULL, 0};
