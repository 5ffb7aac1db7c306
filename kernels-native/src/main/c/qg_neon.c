/*
 * aarch64 with the dot-product extension (FEAT_DotProd, `sdot`: Apple M1 and later, Graviton 2 and later, Cortex-A76
 * and later): the int8-activation GEMM/GEMV. Everything else of the neon_dotprod tier is the portable loops of
 * qg_generic.c built for this target (the Makefile compiles both with -march=armv8.2-a+dotprod and hands this
 * kernel to qg_generic.c's table through QG_Q8_KERNEL).
 *
 * Four weight rows at a time are decoded once into signed int8 values (the 4-bit codes through one 16-entry `tbl`
 * lookup per half, which serves int4s, fp4 and nf4 alike; int4 subtracts its group's zero point), then every
 * activation row streams over them: per 32-block two `sdot` per row give four partial sums, three pairwise adds
 * turn the four rows' partials into one vector of their block sums, and the scale step runs on the four rows at
 * once. The float operations and their order per row are the portable q8 kernel's (acc += bs[b] * (sx[b] * d)),
 * so the outputs are its bits.
 */
#include "qg_internal.h"
#include <arm_neon.h>

#define NQ_ROWS 4

/* The signed value of each 4-bit code: what the portable kernel computes as u4(q) - off (int4: q; its zero point is
 * subtracted per group) */
static int8x16_t value_table(int fmt) {
  int8_t t[16];
  for (int q = 0; q < 16; q++) t[q] = (int8_t)(fmt == QG_FMT_INT4 ? q : qg_u4(fmt, q) - qg_off(fmt));
  return vld1q_s8(t);
}

/* Row r's K values as signed int8 into w[0 .. kpad) (zeros past K; r < 0: all zeros) and its block scales into
 * bs[b * NQ_ROWS] (the lane of this row), as the portable kernel's ws and bs. */
static void decode_row(const qg_call *c, int r, int8_t *w, float *bs, int8x16_t tbl, float mul) {
  const int K = c->k, kpad = c->kpad, nb = c->nblocks, fmt = c->fmt;
  if (r < 0) {
    memset(w, 0, (size_t)kpad);
    for (int b = 0; b < nb; b++) bs[(int64_t)b * NQ_ROWS] = 0.0f;
    return;
  }
  const uint8_t *row = c->codes + (int64_t)r * c->row_bytes;
  const uint16_t *sc = c->scales + (int64_t)r * c->ngroups;
  for (int b = 0; b < nb; b++) {
    const int gi = (b * QG_ABLOCK) / c->group;
    bs[(int64_t)b * NQ_ROWS] = qg_h2f(sc[gi]) * mul;
    const int64_t at = (int64_t)b * (fmt == QG_FMT_INT8 ? 32 : 16); /* the block's first byte */
    const int64_t have = c->row_bytes - at, want = fmt == QG_FMT_INT8 ? 32 : 16;
    uint8_t tail[32];
    const uint8_t *src = row + at;
    if (have < want) { /* the row's last bytes: the rest of the block reads as code 0, zeroed below past K */
      memset(tail, 0, sizeof tail);
      memcpy(tail, src, (size_t)have);
      src = tail;
    }
    int8x16_t w0, w1;
    if (fmt == QG_FMT_INT8) {
      w0 = vld1q_s8((const int8_t *)src);
      w1 = vld1q_s8((const int8_t *)src + 16);
    } else {
      const uint8x16_t bytes = vld1q_u8(src);
      /* byte i holds K 2i (low nibble) and 2i + 1 (high): zip restores K order */
      int8x16_t lo = vqtbl1q_s8(tbl, vandq_u8(bytes, vdupq_n_u8(0x0f)));
      int8x16_t hi = vqtbl1q_s8(tbl, vshrq_n_u8(bytes, 4));
      if (fmt == QG_FMT_INT4) {
        const int8x16_t z = vdupq_n_s8((int8_t)c->zeros[(int64_t)r * c->ngroups + gi]);
        lo = vsubq_s8(lo, z);
        hi = vsubq_s8(hi, z);
      }
      w0 = vzip1q_s8(lo, hi);
      w1 = vzip2q_s8(lo, hi);
    }
    vst1q_s8(w + (int64_t)b * 32, w0);
    vst1q_s8(w + (int64_t)b * 32 + 16, w1);
  }
  memset(w + K, 0, (size_t)(kpad - K)); /* padding codes are not zero in every format (nf4's 0 is -127) */
}

void qg_q8_neon_dotprod(const qg_call *c, int n0, int n1, int thread) {
  const int nb = c->nblocks, kpad = c->kpad, M = c->m;
  int8_t *ws = qg_scratch(thread, 0, (size_t)NQ_ROWS * kpad);
  float *bs = qg_scratch(thread, 1, (size_t)nb * NQ_ROWS * sizeof(float)); /* [block][row] */
  if (!ws || !bs) return;
  const int8x16_t tbl = value_table(c->fmt);
  const float mul = qg_seff_mul(c->fmt);
  for (int r0 = n0; r0 < n1; r0 += NQ_ROWS) {
    const int rn = n1 - r0 < NQ_ROWS ? n1 - r0 : NQ_ROWS;
    for (int i = 0; i < NQ_ROWS; i++) decode_row(c, i < rn ? r0 + i : -1, ws + (int64_t)i * kpad, bs + i, tbl, mul);
    const int8_t *w0 = ws, *w1 = ws + kpad, *w2 = ws + 2 * (int64_t)kpad, *w3 = ws + 3 * (int64_t)kpad;
    for (int mm = 0; mm < M; mm++) {
      const int8_t *xq = c->xq + (int64_t)mm * kpad;
      const float *sx = c->sx + (int64_t)mm * nb;
      float32x4_t acc = vdupq_n_f32(0.0f);
      for (int b = 0; b < nb; b++) {
        const int64_t o = (int64_t)b * 32;
        const int8x16_t x0 = vld1q_s8(xq + o), x1 = vld1q_s8(xq + o + 16);
        const int32x4_t zero = vdupq_n_s32(0);
        const int32x4_t d0 = vdotq_s32(vdotq_s32(zero, vld1q_s8(w0 + o), x0), vld1q_s8(w0 + o + 16), x1);
        const int32x4_t d1 = vdotq_s32(vdotq_s32(zero, vld1q_s8(w1 + o), x0), vld1q_s8(w1 + o + 16), x1);
        const int32x4_t d2 = vdotq_s32(vdotq_s32(zero, vld1q_s8(w2 + o), x0), vld1q_s8(w2 + o + 16), x1);
        const int32x4_t d3 = vdotq_s32(vdotq_s32(zero, vld1q_s8(w3 + o), x0), vld1q_s8(w3 + o + 16), x1);
        /* lane i = row i's block sum d (exact in int32) */
        const int32x4_t d = vpaddq_s32(vpaddq_s32(d0, d1), vpaddq_s32(d2, d3));
        /* bs * (sx * d), then the add: the portable kernel's two roundings and its order */
        acc = vaddq_f32(acc, vmulq_f32(vld1q_f32(bs + (int64_t)b * NQ_ROWS), vmulq_n_f32(vcvtq_f32_s32(d), sx[b])));
      }
      float out[NQ_ROWS];
      vst1q_f32(out, acc);
      for (int i = 0; i < rn; i++) c->y[(int64_t)mm * c->ldy + r0 + i] = out[i];
    }
  }
}
