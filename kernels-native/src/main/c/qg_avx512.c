/*
 * AVX-512 (F/BW/VL/VBMI/VNNI) hot paths. Weights stay in the SPEC packing; each 64-byte load of a
 * 4-bit row holds 128 K values: `vpermb` maps the low and the high nibbles (even and odd K) to the
 * integer operand and `vpdpbusd` multiplies them with activations stored even/odd-split per
 * 128-chunk, so one 32-bit lane covers the 8 K values of one packed word. Scales, zero points and
 * activation block scales are applied per lane in fp32 after each chunk.
 */
#include "qg_internal.h"
#include <immintrin.h>

void qg_prep_q8_row_avx512g(const qg_call *c, int mm, int thread);


#define AI static inline __attribute__((always_inline))
#ifndef QG_L1_ACT_BYTES
#define QG_L1_ACT_BYTES 12288 /* activation bytes per row above which weight prefetches go to L2 only */
#endif
#ifndef QG_GEMV_PF_BYTES
/* How far ahead the GEMV (M = 1) prefetches its weight stream into L2, one prefetch per 128 bytes. This VM's memory
 * alternates, minute to minute, between a phase where the bandwidth probe reads ~35 GB/s and one where it reads
 * ~60; in the second the hardware prefetcher alone left the 4-bit GEMV stream at 0.65 of the probe. Paired A/B over
 * every matrix of the 1B decode step on huge pages (ab_decode.c, 2 threads, Zen 4, 2026-12-04), time per token with
 * this prefetch: int4s-g32 0.86-0.88x (probe ~60 GB/s) and 0.93-0.99x (~35), fp4-g128 0.94x and 0.99-1.00x, int8-g32
 * 0.90-0.95x and 0.98-0.99x. One prefetch per 64-byte line instead (tried twice) gained as much at ~60 GB/s for
 * 4-bit but cost 1-4% at ~35 and made int8 1.05-1.26x slower in both phases; T0 instead of T1 gained nothing. */
#define QG_GEMV_PF_BYTES 8192
#endif

enum { KIND_INT4 = 0, KIND_TBL4 = 1, KIND_INT8 = 2, KIND_I4S = 3 /* int4s GEMV: u = q ^ 8 by bit logic */ };

/* Activation row mm to int8, by the generic prep's arithmetic (qg_generic.c, the same bits, tested against it on
 * every shape), in vectors: per 32-block the absmax as an integer max of |x|'s bits, the scale amax / 127, each
 * value divided by it (an IEEE division, as there), rounded half away from zero by truncating |v| + 0.5, capped at
 * 127; the even/odd split of each 128-chunk by two byte permutes; the lane sums by vpdpbusd against ones. The
 * generic loop, compiled for this tier, took 1.8 ns a value: a quarter of a 256 x 4096 GEMV's time, and the M = 1
 * prep runs on one thread while the others wait. */
static void prep_q8_row_avx512(const qg_call *c, int mm, int thread) {
  (void)thread;
  const int K = c->k, kpad = c->kpad, nb = c->nblocks;
  const float *x = c->x + (int64_t)mm * c->ldx;
  int8_t *xq = (int8_t *)c->xq + (int64_t)mm * kpad;
  float *sx = (float *)c->sx + (int64_t)mm * nb;
  int32_t *xs = (int32_t *)c->xsum + (int64_t)mm * nb;
  const __m512i absmask = _mm512_set1_epi32(0x7fffffff);
  for (int b = 0; b < nb; b++) {
    const int a0 = b * QG_ABLOCK, len = K - a0 < QG_ABLOCK ? K - a0 : QG_ABLOCK;
    const __mmask16 m0 = len >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << len) - 1);
    const __mmask16 m1 = len >= 32 ? (__mmask16)0xffff : len <= 16 ? 0 : (__mmask16)((1u << (len - 16)) - 1);
    const __m512 v0 = _mm512_maskz_loadu_ps(m0, x + a0), v1 = _mm512_maskz_loadu_ps(m1, x + a0 + 16);
    const __m512i a = _mm512_max_epu32(_mm512_and_si512(_mm512_castps_si512(v0), absmask),
                                       _mm512_and_si512(_mm512_castps_si512(v1), absmask));
    const uint32_t amax_bits = (uint32_t)_mm512_reduce_max_epu32(a);
    __m512i q0 = _mm512_setzero_si512(), q1 = q0;
    if (amax_bits >= 0x7f800000u) { /* a NaN or an infinity: the block is unusable, as in the generic prep */
      sx[b] = __builtin_nanf("");
    } else {
      float amax;
      __builtin_memcpy(&amax, &amax_bits, 4);
      const float d = amax / 127.0f;
      sx[b] = d;
      if (d != 0.0f) {
        const __m512 dv = _mm512_set1_ps(d), half = _mm512_set1_ps(0.5f);
        const __m512 w0 = _mm512_div_ps(v0, dv), w1 = _mm512_div_ps(v1, dv);
        const __m512i cap = _mm512_set1_epi32(127);
        q0 = _mm512_min_epi32(_mm512_cvttps_epi32(_mm512_add_ps(_mm512_abs_ps(w0), half)), cap);
        q1 = _mm512_min_epi32(_mm512_cvttps_epi32(_mm512_add_ps(_mm512_abs_ps(w1), half)), cap);
        q0 = _mm512_mask_sub_epi32(q0, _mm512_cmp_ps_mask(w0, _mm512_setzero_ps(), _CMP_LT_OQ), _mm512_setzero_si512(), q0);
        q1 = _mm512_mask_sub_epi32(q1, _mm512_cmp_ps_mask(w1, _mm512_setzero_ps(), _CMP_LT_OQ), _mm512_setzero_si512(), q1);
      }
    }
    xs[b] = _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
    /* kpad is a multiple of 128, so the whole 32 bytes lie inside the row; past K they are 0 */
    _mm_storeu_si128((__m128i *)(xq + a0), _mm512_cvtepi32_epi8(q0));
    _mm_storeu_si128((__m128i *)(xq + a0 + 16), _mm512_cvtepi32_epi8(q1));
  }
  for (int k = nb * QG_ABLOCK; k < kpad; k += 16) _mm_storeu_si128((__m128i *)(xq + k), _mm_setzero_si128());
  if (c->xq_u) { /* qg_prep_xq_u's bytes */
    uint8_t *xu = (uint8_t *)c->xq_u + (int64_t)mm * kpad;
    for (int k = 0; k < kpad; k += 64)
      _mm512_storeu_si512(xu + k, _mm512_xor_si512(_mm512_loadu_si512(xq + k), _mm512_set1_epi8((char)0x80)));
  }
  if (c->xq_il) {
    int8_t *il = (int8_t *)c->xq_il + (int64_t)mm * kpad;
    uint8_t ie[64], io[64];
    for (int j = 0; j < 64; j++) { ie[j] = (uint8_t)(2 * j); io[j] = (uint8_t)(2 * j + 1); }
    const __m512i even = _mm512_loadu_si512(ie), odd = _mm512_loadu_si512(io);
    for (int ch = 0; ch < kpad; ch += 128) {
      const __m512i lo = _mm512_loadu_si512(xq + ch), hi = _mm512_loadu_si512(xq + ch + 64);
      _mm512_storeu_si512(il + ch, _mm512_permutex2var_epi8(lo, even, hi));
      _mm512_storeu_si512(il + ch + 64, _mm512_permutex2var_epi8(lo, odd, hi));
    }
  }
  const int lw = c->lanew, nl = kpad / lw;
  if (c->lane_sx) { /* lane l covers K values l*lw ..: its block's scale, 0 past the last block */
    float *lsx = (float *)c->lane_sx + (int64_t)mm * nl;
    const int per = QG_ABLOCK / lw;
    const __m512i sel = _mm512_srli_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0), per == 4 ? 2 : 3);
    for (int l = 0; l < nl; l += 16) { /* 16 lanes = 16 / per blocks from block l / per */
      const int b0 = l / per, nv = nb - b0 < 16 / per ? (nb - b0 > 0 ? nb - b0 : 0) : 16 / per;
      const __m512 s = _mm512_maskz_loadu_ps((__mmask16)((1u << nv) - 1), sx + b0);
      _mm512_storeu_ps(lsx + l, _mm512_permutexvar_ps(sel, s));
    }
  }
  if (c->lane_oxs) { /* -off x the sum of each lane's int8 values (4 or 8 of them), exact in integers */
    int32_t *ox = (int32_t *)c->lane_oxs + (int64_t)mm * nl;
    const __m512i ones = _mm512_set1_epi8(1), noff = _mm512_set1_epi32(-qg_off(c->fmt));
    /* lane_xs16 (qg_prep_lane_xs16's bytes): -off x sum where that fits 16 bits, else -sum */
    int16_t *x16 = c->lane_xs16 ? (int16_t *)c->lane_xs16 + (int64_t)mm * nl : NULL;
    const __m512i n16 = _mm512_set1_epi32(qg_off(c->fmt) <= QG_X16_MAX_OFF ? -qg_off(c->fmt) : -1);
    if (lw == 4) {
      for (int k = 0; k < kpad; k += 64) {
        const __m512i s = _mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, _mm512_loadu_si512(xq + k));
        _mm512_storeu_si512(ox + k / 4, _mm512_mullo_epi32(s, noff));
        if (c->lane_xs16) _mm256_storeu_si256((__m256i *)(x16 + k / 4), _mm512_cvtepi32_epi16(_mm512_mullo_epi32(s, n16)));
      }
    } else {
      uint32_t pe[16], po[16];
      for (int j = 0; j < 16; j++) { pe[j] = (uint32_t)(2 * j); po[j] = (uint32_t)(2 * j + 1); }
      const __m512i e = _mm512_loadu_si512(pe), o = _mm512_loadu_si512(po);
      for (int k = 0; k < kpad; k += 128) {
        const __m512i s0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, _mm512_loadu_si512(xq + k));
        const __m512i s1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, _mm512_loadu_si512(xq + k + 64));
        const __m512i s = _mm512_add_epi32(_mm512_permutex2var_epi32(s0, e, s1), _mm512_permutex2var_epi32(s0, o, s1));
        _mm512_storeu_si512(ox + k / 8, _mm512_mullo_epi32(s, noff));
        if (c->lane_xs16) _mm256_storeu_si256((__m256i *)(x16 + k / 8), _mm512_cvtepi32_epi16(_mm512_mullo_epi32(s, n16)));
      }
    }
  }
  qg_prep_block_terms(c, mm); /* group sums: as the generic prep */
}

/* 64-entry byte table for vpermb: the 16 values of u repeated, so bits 4..5 of an index are ignored */
static __m512i u_table64(int fmt) {
  uint8_t t[64];
  for (int i = 0; i < 64; i++) t[i] = (uint8_t)(fmt == QG_FMT_INT4 ? (i & 15) : qg_u4(fmt, i & 15));
  return _mm512_loadu_si512(t);
}

AI float h2f(uint16_t h) { return _cvtsh_ss(h); }

/* lanes 0 .. left-1 (none when left <= 0: a causal row that ends before the vector) */
AI __mmask16 tail_mask(int left) {
  return left >= 16 ? (__mmask16)0xffff : left <= 0 ? (__mmask16)0 : (__mmask16)((1u << left) - 1);
}

/* Weight scale of each lane of the chunk starting at K index kc; lane i covers K values
 * [kc + lw*i, kc + lw*(i+1)). */
AI __m512 lane_scales(const uint16_t *sc, int ngroups, int gshift, int kc, int lw, float mul) {
  const int span = 16 * lw; /* K values per chunk */
  if (gshift == 31 || (1 << gshift) >= span) return _mm512_set1_ps(h2f(sc[kc >> gshift]) * mul);
  const int gi0 = kc >> gshift, per = span >> gshift; /* groups in this chunk: 2 or 4 */
  const int avail = ngroups - gi0 < per ? ngroups - gi0 : per;
  const __m128i h = _mm_maskz_loadu_epi16((__mmask8)((1u << avail) - 1), sc + gi0);
  const __m512 f = _mm512_castps256_ps512(_mm256_castps128_ps256(_mm_cvtph_ps(h)));
  const int shift = per == 2 ? 3 : 2; /* lane -> group: i/8 or i/4 */
  const __m512i idx = _mm512_srli_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0), shift);
  const __m512 lanes = _mm512_permutexvar_ps(idx, f);
  return mul == 1.0f ? lanes : _mm512_mul_ps(lanes, _mm512_set1_ps(mul)); /* int4, int4s, int8: no multiply */
}


/* Sum over a row's G groups of s·z·sums[g] — s its fp16 scales, z its int4 zero points (NULL: 1) — 16 groups a step:
 * the share of the zero points (or of a constant offset) in a row's dot product, given per-group activation sums.
 * The int8-activation kernels (offset_term) and the fp32-activation int4 ones use it; in the latter it replaced a
 * scalar loop over the row's groups that made the int4-g32 GEMV take 1.55x int4s's time (256x4096, one thread). */
AI float group_term(const uint16_t *sc, const uint8_t *z, const float *sums, int G) {
  __m512 acc = _mm512_setzero_ps();
  for (int gi = 0; gi < G; gi += 16) {
    const __mmask16 mk = tail_mask(G - gi);
    const __m512 s = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mk, sc + gi));
    const __m512 sz = z ? _mm512_mul_ps(s, _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(mk, z + gi)))) : s;
    acc = _mm512_fmadd_ps(sz, _mm512_maskz_loadu_ps(mk, sums + gi), acc);
  }
  return _mm512_reduce_add_ps(acc);
}

/* The offset term of row r: sum over groups of s * off * (sum over the group of sx * q_x), where off
 * is the int4 zero point of the group, or the format's constant offset (times its scale factor).
 * Taking it out of the chunk loop leaves one multiply-add per lane there. */
static float offset_term(const qg_call *c, int r, int mm) {
  const int G = c->ngroups, is_int4 = c->fmt == QG_FMT_INT4;
  const float k = is_int4 ? 1.0f : (float)qg_off(c->fmt) * qg_seff_mul(c->fmt);
  return k * group_term(c->scales + (int64_t)r * G, is_int4 ? c->zeros + (int64_t)r * G : NULL, c->gxs + (int64_t)mm * G, G);
}

/* One tile: RN weight rows x RM activation rows, full K. */
AI void q8_tile(const qg_call *c, int r0, int m0, const int RN, const int RM, const int KIND, __m512i tbl, const int PFD) {
  const int K = c->k, kpad = c->kpad, gs = c->gshift, G = c->ngroups;
  const int64_t rb = c->row_bytes;
  const int lw = KIND == KIND_INT8 ? 4 : 8, span = 16 * lw;
  const float mul = qg_seff_mul(c->fmt);
  const int8_t *xbase = KIND == KIND_INT8 ? c->xq : c->xq_il;
  __m512 acc[4][4];
  for (int r = 0; r < RN; r++)
    for (int mm = 0; mm < RM; mm++) acc[r][mm] = _mm512_setzero_ps();
  const __m512i lo4 = _mm512_set1_epi8(0x0f);
  (void)lo4;
  const int nch = (K + span - 1) / span;
  const int pf_l2 = (kpad + kpad / 2) * RM > QG_L1_ACT_BYTES; /* int8 values + lane scales */
  /* groups smaller than a chunk (2 or 4 per chunk): 16 scales are converted at once, every 16/per chunks, and each
   * chunk picks its lanes' scales from them with one permute (lane_scales would load and convert 2-4 per chunk) */
  const int per = (gs == 31 || (1 << gs) >= span) ? 0 : span >> gs;
  const int cpr = per ? 16 / per : 1, cshift = per == 4 ? 2 : 3; /* chunks per reload; lane i -> group i >> cshift */
  const __m512i lane_group = _mm512_srli_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0), cshift);
  __m512 sv[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  /* Rows are short (2 KiB at K=4096), too short for the hardware prefetcher to ramp up on four
   * interleaved streams: fetch the next tile's rows (adjacent in memory) at the pace we consume. */
  const uint8_t *pf[4];
  for (int r = 0; r < RN; r++) {
    const int pr = r0 + PFD + r < c->n ? r0 + PFD + r : r0 + r;
    pf[r] = c->codes + (int64_t)pr * rb;
  }
  for (int ch = 0; ch < nch; ch++) {
    const int kc = ch * span;
    const int64_t boff = (int64_t)ch * 64;
    const int64_t avail = rb - boff;
    const __mmask64 lmask = avail >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << avail) - 1);
    __m512i wl[4], wh[4] = {0};
    __m512 sw[4];
    for (int r = 0; r < RN; r++) {
      const uint8_t *row = c->codes + (int64_t)(r0 + r) * rb;
      const __m512i raw = _mm512_maskz_loadu_epi8(lmask, row + boff);
      /* with a large activation side in L1 (long K), fetch weights only into L2: they are read
       * once, and in L1 they would evict the activations every row reuses (measured +60% at K=14336) */
      if (pf_l2) _mm_prefetch((const char *)(pf[r] + boff), _MM_HINT_T1);
      else _mm_prefetch((const char *)(pf[r] + boff), _MM_HINT_T0);
      if (KIND == KIND_INT8) {
        wl[r] = _mm512_xor_si512(raw, _mm512_set1_epi8((char)0x80));
      } else {
        wl[r] = _mm512_permutexvar_epi8(raw, tbl);
        wh[r] = _mm512_permutexvar_epi8(_mm512_srli_epi16(raw, 4), tbl);
      }
      const int64_t rg = (int64_t)(r0 + r) * G;
      if (per) {
        const int j = ch & (cpr - 1);
        if (j == 0) {
          const int gi0 = ch * per, avail = G - gi0 < 16 ? G - gi0 : 16;
          const __m512 f = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16((__mmask16)((1u << avail) - 1), c->scales + rg + gi0));
          sv[r] = mul == 1.0f ? f : _mm512_mul_ps(f, _mm512_set1_ps(mul));
        }
        sw[r] = _mm512_permutexvar_ps(_mm512_add_epi32(lane_group, _mm512_set1_epi32(per * j)), sv[r]);
      } else {
        sw[r] = lane_scales(c->scales + rg, G, gs, kc, lw, mul);
      }
    }
    for (int mm = 0; mm < RM; mm++) {
      const int8_t *xr = xbase + (int64_t)(m0 + mm) * kpad;
      const __m512 x1 = _mm512_loadu_ps(c->lane_sx + (int64_t)(m0 + mm) * (kpad / lw) + ch * 16);
      __m512i xl, xh = _mm512_setzero_si512();
      if (KIND == KIND_INT8) {
        xl = _mm512_loadu_si512(xr + kc);
      } else {
        xl = _mm512_loadu_si512(xr + kc);
        xh = _mm512_loadu_si512(xr + kc + 64);
      }
      /* the lane sums start at -off x sum(x): the format's constant offset comes out exactly, in integers */
      const __m512i d0 = c->lane_oxs ? _mm512_loadu_si512(c->lane_oxs + (int64_t)(m0 + mm) * (kpad / lw) + ch * 16)
                                     : _mm512_setzero_si512();
      for (int r = 0; r < RN; r++) {
        __m512i d = _mm512_dpbusd_epi32(d0, wl[r], xl);
        if (KIND != KIND_INT8) d = _mm512_dpbusd_epi32(d, wh[r], xh);
        const __m512 f = _mm512_cvtepi32_ps(d);
        /* int4 zero points: once per row, below (the other formats start the lane sums at -off x sum(x)) */
        acc[r][mm] = _mm512_fmadd_ps(f, _mm512_mul_ps(x1, sw[r]), acc[r][mm]);
      }
    }
  }
  for (int r = 0; r < RN; r++)
    for (int mm = 0; mm < RM; mm++) {
      float y = _mm512_reduce_add_ps(acc[r][mm]);
      if (!c->lane_oxs) y -= offset_term(c, r0 + r, m0 + mm); /* int4: per-group zero points */
      c->y[(int64_t)(m0 + mm) * c->ldy + r0 + r] = y;
    }
}

#define TILE_SWITCH(FN, KIND)                                                      \
  switch (rn * 4 + rm) {                                                           \
    case 4 * 4 + 4: FN(c, r0, m0, 4, 4, KIND, tbl, 4); break;                      \
    case 4 * 4 + 3: FN(c, r0, m0, 4, 3, KIND, tbl, 4); break;                      \
    case 4 * 4 + 2: FN(c, r0, m0, 4, 2, KIND, tbl, 4); break;                      \
    default:                                                                       \
      for (int r = 0; r < rn; r++)                                                 \
        for (int mm = 0; mm < rm; mm++) FN(c, r0 + r, m0 + mm, 1, 1, KIND, tbl, 2); \
  }

/* The integer lane sums of GEMV chunk ch (64 bytes of a row): int8 u = code ^ 0x80 against 64 activations, 4-bit
 * u = table(nibble) against the even- and odd-K halves, starting from d (the offsets -off x sum(x), or 0 for int4) */
AI __m512i gemv_chunk_dot(__m512i d, __m512i raw, int ch, const int8_t *xb, __m512i tbl, const int KIND) {
  if (KIND == KIND_INT8)
    return _mm512_dpbusd_epi32(d, _mm512_xor_si512(raw, _mm512_set1_epi8((char)0x80)), _mm512_loadu_si512(xb + (int64_t)ch * 64));
  if (KIND == KIND_I4S) { /* u = nibble ^ 8 with one vpternlogd ((a & 0x0f) ^ 0x08) each: no shuffle-port vpermb */
    const __m512i lo4 = _mm512_set1_epi8(0x0f), eight = _mm512_set1_epi8(0x08);
    d = _mm512_dpbusd_epi32(d, _mm512_ternarylogic_epi32(raw, lo4, eight, 0x6a), _mm512_loadu_si512(xb + (int64_t)ch * 128));
    return _mm512_dpbusd_epi32(d, _mm512_ternarylogic_epi32(_mm512_srli_epi16(raw, 4), lo4, eight, 0x6a),
                               _mm512_loadu_si512(xb + (int64_t)ch * 128 + 64));
  }
  d = _mm512_dpbusd_epi32(d, _mm512_permutexvar_epi8(raw, tbl), _mm512_loadu_si512(xb + (int64_t)ch * 128));
  return _mm512_dpbusd_epi32(d, _mm512_permutexvar_epi8(_mm512_srli_epi16(raw, 4), tbl),
                             _mm512_loadu_si512(xb + (int64_t)ch * 128 + 64));
}

/* The int8 GEMV chunk ch as signed codes against unsigned activations xu = q + 128 (c->xq_u): the lanes' exact sums of
 * q x code, as (q + 128) x code less 128 x code */
AI __m512i gemv_chunk_dot_xu(__m512i raw, int ch, const uint8_t *xu) {
  const __m512i z = _mm512_setzero_si512();
  return _mm512_sub_epi32(_mm512_dpbusd_epi32(z, _mm512_loadu_si512(xu + (int64_t)ch * 64), raw),
                          _mm512_dpbusd_epi32(z, _mm512_set1_epi8((char)0x80), raw));
}

/* The exact starts (-off x sum of q) of 16 4-bit lanes from lane_xs16: sign-extended as they are (int4s, fp4), or
 * shifted less themselves (nf4: 127 = 128 - 1) — kept off the multiply pipes the dot products use (a vpmaddwd by 127
 * made nf4 1.18x slower in cache). int8 needs none: gemv_chunk_dot_xu. */
AI __m512i lane_offsets(const int16_t *xs16, int fmt, const int KIND) { /* KIND_I4S, KIND_TBL4 only: int8 has no lane_xs16 */
  const __m256i v = _mm256_loadu_si256((const __m256i *)xs16);
  const __m512i w = _mm512_cvtepi16_epi32(v);
  if (KIND == KIND_I4S || fmt != QG_FMT_NF4) return w;
  return _mm512_sub_epi32(_mm512_slli_epi32(w, 7), w);
}

/* GEMV (M == 1) of int8, int4s, fp4, nf4 (constant offsets: lane_oxs is set) and int4 (zero points: offset_term
 * after the row): q8_tile's computation for RN = RM = 1 with everything per chunk that does not depend on the data
 * taken out of the loop — whole 64-byte chunks in blocks of 16 groups' scales (converted once per block, permuted
 * per chunk), no masks, two accumulators — so the loop is the vector work and little else (measured 2x q8_tile's
 * speed with the weights in cache); the short tail takes the masked loads and lane_scales. One software prefetch per
 * 128 bytes, QG_GEMV_PF_BYTES ahead into L2 (see the define; one per 64-byte line cost int8 time, and an earlier
 * row-level T0 prefetch did too: 0.85-0.92x without it). PER: groups per chunk (4, 2, or 0 when a group covers whole
 * chunks). Same arithmetic per lane as q8_tile; for long K (COMPACT) the activation side is compact: a 4-bit lane's
 * exact offset comes from 16-bit lane sums (lane_offsets), int8 needs none (gemv_chunk_dot_xu: unsigned activations
 * xq_u), and the lanes' activation scales are permuted from the block scales, so a chunk reads 128 bytes of x plus 32
 * of lane sums (4-bit) or 64 of xq_u (int8), and 16 of scales, where lane_oxs and lane_sx add 128: at K = 14336 those
 * no longer fitted L1 beside the streaming weights (4096x14336 fp4-g128 took 1.85x the time per weight of 14336x4096
 * on one thread; compact 0.82-0.89x the time, int8-g32 0.76x, int8 2048x5632 0.90x). An earlier compact form put each block's whole offset in its first lane and 0 in the others: the same
 * integer sum per block, but lanes of size off x sum|q| whose rounding broke the error bound on zero rows
 * (docs/kernels.md; check_sparse_rows). */
AI void gemv_rows(const qg_call *c, int r0, int r1, __m512i tbl, const int KIND, const int PER, const int COMPACT) {
  const int K = c->k, G = c->ngroups, gs = c->gshift;
  const int span = KIND == KIND_INT8 ? 64 : 128; /* K values per 64-byte chunk */
  const int64_t rb = c->row_bytes;
  const float mul = qg_seff_mul(c->fmt);
  const int nfull = (int)(rb / 64) < K / span ? (int)(rb / 64) : K / span; /* chunks of span real K values */
  const int cpb = PER ? 16 / PER : 4;                                      /* chunks per block of 16 groups */
  const int FOLD = KIND == KIND_INT8 ? PER == 2 : PER == 4;               /* groups of 32 = activation blocks */
  const int nblk = nfull / cpb;
  const int8_t *xb = KIND == KIND_INT8 ? c->xq : c->xq_il;
  const __m512i lane = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  const __m512i gsel = _mm512_srli_epi32(lane, PER == 4 ? 2 : 3);
  /* the activation blocks of a chunk: 4 (4-bit, lanes 4b..4b+3) or 2 (int8, lanes 8b..8b+7) */
  const int bpc = KIND == KIND_INT8 ? 2 : 4;
  const __m512i bsel = _mm512_srli_epi32(lane, KIND == KIND_INT8 ? 3 : 2);
  for (int r = r0; r < r1; r++) {
    const uint8_t *row = c->codes + (int64_t)r * rb;
    const uint16_t *sc = c->scales + (int64_t)r * G;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    for (int b = 0; b < nblk; b++) {
      __m512 sv = _mm512_setzero_ps();
      /* groups spanning whole chunks: the block's chunk scales into memory first, so each chunk broadcasts its scale
       * from memory (a load) instead of converting and broadcasting it in registers (two vector operations on the
       * pipes the nibble decode needs); 4-bit g128 (a group per chunk) converts the block's four at once */
      float sb[4];
      if (!PER) {
        if (gs == 7 && KIND != KIND_INT8)
          _mm_storeu_ps(sb, _mm_mul_ps(_mm_cvtph_ps(_mm_loadl_epi64((const __m128i *)(sc + b * 4))), _mm_set1_ps(mul)));
        else
          for (int j = 0; j < cpb; j++) sb[j] = h2f(sc[((b * cpb + j) * span) >> gs]) * mul;
      }
      if (PER) {
        sv = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(sc + b * 16)));
        if (mul != 1.0f) sv = _mm512_mul_ps(sv, _mm512_set1_ps(mul));
        /* g32: a group is an activation block, so the 16 products weight scale x activation scale are formed once
         * per block and permuted per chunk (the same products lane_sx x sw gave, one load and one mul fewer a chunk) */
        if (FOLD) sv = _mm512_mul_ps(_mm512_loadu_ps(c->sx + b * 16), sv);
      }
      for (int j = 0; j < cpb; j++) {
        const int ch = b * cpb + j;
        /* a full chunk's blocks are all real (bpc x 32 <= K - ch x span): 16-byte loads stay inside the row */
        /* long 4-bit rows: the weights 4 KiB ahead as non-temporal, so that they pass through L1 without evicting
         * the activations every row reuses (1 thread, 4096x14336 fp4-g128: 0.78-0.84x the time; no gain for int8 or
         * short K, where it cost up to 1.1x). Otherwise one prefetch per 128 bytes (every other chunk: cpb is even),
         * QG_GEMV_PF_BYTES ahead into L2 — see the define. A prefetch past the matrix does not fault. */
        if (COMPACT && KIND != KIND_INT8) _mm_prefetch((const char *)(row + (int64_t)ch * 64 + 4096), _MM_HINT_NTA);
        else if ((j & 1) == 0) _mm_prefetch((const char *)(row + (int64_t)ch * 64 + QG_GEMV_PF_BYTES), _MM_HINT_T1);
        /* the lanes start at their exact offsets: none for int4 (zero points after the row), lane_oxs at short K,
         * 16-bit lane sums for 4-bit at long K; long-K int8 needs none — (q + 128) x code less 128 x code, six vector
         * operations a chunk where the xor, the lane sums' sign-extension and shift took seven */
        const __m512i raw = _mm512_loadu_si512(row + (int64_t)ch * 64);
        const __m512i d = COMPACT && KIND == KIND_INT8 ? gemv_chunk_dot_xu(raw, ch, c->xq_u)
                        : gemv_chunk_dot(KIND == KIND_INT4 ? _mm512_setzero_si512()
                                         : !COMPACT ? _mm512_loadu_si512(c->lane_oxs + ch * 16)
                                         : lane_offsets(c->lane_xs16 + ch * 16, c->fmt, KIND),
                                         raw, ch, xb, tbl, KIND);
        const __m512 sw = PER ? _mm512_permutexvar_ps(_mm512_add_epi32(gsel, _mm512_set1_epi32(PER * j)), sv)
                              : _mm512_set1_ps(sb[j]);
        const __m512 t = FOLD ? sw
                       : _mm512_mul_ps(!COMPACT ? _mm512_loadu_ps(c->lane_sx + ch * 16)
                                                : _mm512_permutexvar_ps(bsel, _mm512_broadcast_f32x4(_mm_loadu_ps(c->sx + (int64_t)ch * bpc))),
                                       sw);
        if (j & 1) acc1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), t, acc1);
        else acc0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), t, acc0);
      }
    }
    /* the remaining chunks (fewer than a block, and a short last one): masked, lane_scales, as q8_tile */
    const int nch = (K + span - 1) / span;
    for (int ch = nblk * cpb; ch < nch; ch++) {
      const int64_t boff = (int64_t)ch * 64, avail = rb - boff;
      const __mmask64 lmask = avail >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << avail) - 1);
      const __m512i d0 = KIND == KIND_INT4 ? _mm512_setzero_si512() : _mm512_loadu_si512(c->lane_oxs + ch * 16);
      const __m512i d = gemv_chunk_dot(d0, _mm512_maskz_loadu_epi8(lmask, row + boff), ch, xb, tbl, KIND);
      const __m512 sw = lane_scales(sc, G, gs, ch * span, KIND == KIND_INT8 ? 4 : 8, mul);
      acc0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), _mm512_mul_ps(_mm512_loadu_ps(c->lane_sx + ch * 16), sw), acc0);
    }
    float y = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
    if (KIND == KIND_INT4) y -= offset_term(c, r, 0); /* per-group zero points */
    c->y[r] = y;
  }
}

/* Long K: the GEMV's activation side compact (gemv_rows); short K: lane_oxs and lane_sx, a load each where the
 * compact form takes a load and a shuffle each (with the activation side in L1 the shuffles cost: 1.08x the time at
 * 1024x4096 fp4-g128). The switch: lane arrays plus x over 12 KiB (int8 K > 4096, 4-bit K > 6144) */
AI int gemv_compact(const qg_call *c, const int KIND) { return (int64_t)c->kpad * (KIND == KIND_INT8 ? 3 : 2) > 12288; }

/* The GEMV instantiated for its groups per 64-byte chunk — 4-bit: 4 (g32), 2 (g64); int8: 2 (g32); 0 where a group
 * spans whole chunks — and for the compact activation side or not */
AI void gemv(const qg_call *c, int n0, int n1, __m512i tbl, const int KIND) {
  const int per = c->gshift == 5 ? (KIND == KIND_INT8 ? 2 : 4) : c->gshift == 6 && KIND != KIND_INT8 ? 2 : 0;
  const int compact = gemv_compact(c, KIND);
  if (per == 4) { if (compact) gemv_rows(c, n0, n1, tbl, KIND, 4, 1); else gemv_rows(c, n0, n1, tbl, KIND, 4, 0); }
  else if (per == 2) { if (compact) gemv_rows(c, n0, n1, tbl, KIND, 2, 1); else gemv_rows(c, n0, n1, tbl, KIND, 2, 0); }
  else if (compact) gemv_rows(c, n0, n1, tbl, KIND, 0, 1);
  else gemv_rows(c, n0, n1, tbl, KIND, 0, 0);
}

static void q8_kind(const qg_call *c, int n0, int n1, const int KIND) {
  const __m512i tbl = KIND == KIND_INT8 ? _mm512_setzero_si512() : u_table64(c->fmt);
  const int M = c->m;
  if (M == 1 && c->fmt == QG_FMT_INT4S && c->lane_oxs) { /* int4s (Q4_0) GEMV: the nibble mapping in bit logic */
    gemv(c, n0, n1, tbl, KIND_I4S);
    return;
  }
  if (M == 1 && KIND == KIND_TBL4 && c->lane_oxs) { /* int4s, fp4, nf4 GEMV: the tight loop */
    gemv(c, n0, n1, tbl, KIND_TBL4);
    return;
  }
  if (M == 1 && KIND == KIND_INT4) {
    gemv(c, n0, n1, tbl, KIND_INT4);
    return;
  }
  if (M == 1 && KIND == KIND_INT8 && c->lane_oxs) { /* int8 GEMV: 64 K values a chunk, g32 = 2 groups per chunk */
    gemv(c, n0, n1, tbl, KIND_INT8);
    return;
  }
  if (M == 1) { /* GEMV: one row at a time is one sequential stream per thread, prefetched 2 rows ahead */
    for (int r = n0; r < n1; r++) q8_tile(c, r, 0, 1, 1, KIND, tbl, 2);
    return;
  }
  for (int nb = n0; nb < n1; nb += 64) { /* 64 rows of weights stay in L2 across the M tiles */
    const int ne = nb + 64 < n1 ? nb + 64 : n1;
    for (int m0 = 0; m0 < M; m0 += 4) {
      const int rm = M - m0 < 4 ? M - m0 : 4;
      for (int r0 = nb; r0 < ne; r0 += 4) {
        const int rn = ne - r0 < 4 ? ne - r0 : 4;
        if (KIND == KIND_INT4) { TILE_SWITCH(q8_tile, KIND_INT4) }
        else if (KIND == KIND_TBL4) { TILE_SWITCH(q8_tile, KIND_TBL4) }
        else { TILE_SWITCH(q8_tile, KIND_INT8) }
      }
    }
  }
}

/* ---------------- int8 activations, M > 4: 16 weight rows per vector ---------------- */

/* Lanes are 16 weight rows. A 16-row panel is transposed once into [word][row] order (one 32-bit
 * word = 8 K values of a 4-bit row, 4 of an int8 row), then every activation row streams over it:
 * each vpdpbusd multiplies one word of 16 rows with the same 4 activation bytes, broadcast. The
 * integer sums of a 32-block are converted once per block, so 8 (4-bit) or 8 (int8) vpdpbusd share
 * one scale step, where the row-major GEMV kernel pays a scale step for every 2. */
#define R16_MT 8 /* activation rows per pass: 8 int32 + 8 fp32 accumulators */
#ifndef QG_R16_MIN_M
#define QG_R16_MIN_M QG_DIRECT_MAX_M /* above this M the 16-row kernel wins (measured at M = 8, 16, 512) */
#endif

/* Where a 16-row pass reads its weights: a prepacked panel (pp, laid out as qg_r16_layout says) or the words and fp32
 * scales the call transposed (or expanded) into its scratch: tw [word][16 rows] (expanded 4-bit: [word][32], the u
 * bytes of even K then odd K), swt [group][16], zsw [group][16] (int4: scale x zero point). folded: an expanded int4
 * panel whose u bytes are q - z + 15 (zero_fold), with no zero-point term left. */
typedef struct {
  const uint8_t *pp;
  const int64_t *boff; /* with pp: per block, the byte offsets in the panel of its first word and of its group's
                        * scales ([2b], [2b + 1]): the passes' addresses from one base, with few registers to spare */
  float *swt_fill;     /* with pp: the first of several passes stores each group's converted scales here */
  qg_r16_layout l;
  const uint32_t *tw;
  const float *swt, *zsw;
  int folded;
} r16_src;

/* the fp32 scales of group gi's 16 rows: as qg_pack_panels' fp16 times the format's factor (the product the scratch
 * path's swt holds, so both give the same bits) */
/* the fp32 scales of 16 rows from their fp16 in a panel header */
AI __m512 r16_block_scales(const qg_call *c, const uint8_t *at) {
  const __m512 sw = _mm512_cvtph_ps(_mm256_load_si256((const __m256i *)at));
  return c->fmt == QG_FMT_FP4 || c->fmt == QG_FMT_NF4 ? _mm512_mul_ps(sw, _mm512_set1_ps(qg_seff_mul(c->fmt))) : sw;
}
/* int4: a group's scale x zero point of 16 rows, from their fp32 scales and the header's 16 zero-point bytes (the
 * product the per-call path's zsw holds: the scale, then times the zero point) */
AI __m512 r16_zero_scales(__m512 sw, const uint8_t *z) {
  return _mm512_mul_ps(sw, _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)z))));
}

AI __m512 r16_scales(const qg_call *c, const r16_src *s, int gi) {
  if (s->swt) return _mm512_load_ps(s->swt + (int64_t)gi * 16);
  return r16_block_scales(c, s->pp + qg_r16_scales_at(&s->l, gi));
}

/* y of a 16-row panel from its fp32 sums: int4's zero-point term subtracted (unless the panel's u bytes have the zero
 * points folded in), lanes past `rows` dropped */
AI void r16_finish(const qg_call *c, const __m512 *accf, const r16_src *s, int n0, int rows, int m0, const int MT) {
  /* the zero-point term of all 16 rows at once: sum over groups of (scale x zero point, per row) x the activation's
   * group sum */
  const int G = c->ngroups;
  const __mmask16 rm = rows >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << rows) - 1);
  if (c->fmt != QG_FMT_INT4 || s->folded) {
    for (int mm = 0; mm < MT; mm++) _mm512_mask_storeu_ps(c->y + (int64_t)(m0 + mm) * c->ldy + n0, rm, accf[mm]);
    return;
  }
  /* groups outer, rows inner: each group's scale x zero point formed once (from a prepacked panel's header, as the
   * scratch path's zsw holds it: the scale, then times the zero point); per row the same two sums in the same order */
  __m512 o[R16_MT][2];
  for (int mm = 0; mm < MT; mm++) o[mm][0] = o[mm][1] = _mm512_setzero_ps();
  for (int g = 0; g < G; g++) {
    __m512 zs;
    if (s->pp) {
      zs = r16_zero_scales(r16_scales(c, s, g), s->pp + qg_r16_zeros_at(&s->l, g));
    } else {
      zs = _mm512_load_ps(s->zsw + (int64_t)g * 16);
    }
    for (int mm = 0; mm < MT; mm++)
      o[mm][g & 1] = _mm512_fmadd_ps(zs, _mm512_set1_ps(c->gxs[(int64_t)(m0 + mm) * G + g]), o[mm][g & 1]);
  }
  for (int mm = 0; mm < MT; mm++)
    _mm512_mask_storeu_ps(c->y + (int64_t)(m0 + mm) * c->ldy + n0, rm, _mm512_sub_ps(accf[mm], _mm512_add_ps(o[mm][0], o[mm][1])));
}

/* IS4: 0 int8 (u bytes), 1 4-bit expanded (scratch only: u bytes of even K, then odd K, per word), 2 4-bit packed
 * nibbles (the lookups run in the pass: for few passes, where the compact panel stays in L1 and the expanded one would
 * not). */
AI void q8_r16_pass(const qg_call *c, const r16_src *s, int n0, int rows, int m0, const int MT, const int IS4,
                    __m512i tbl) {
  const int kpad = c->kpad, nb = c->nblocks;
  const int wpb = IS4 ? 4 : 8, wstep = IS4 == 1 ? 32 : 16; /* words per block; uint32s per word */
  const int8_t *xb = IS4 ? c->xq_il : c->xq;
  __m512 accf[R16_MT];
  for (int mm = 0; mm < MT; mm++) accf[mm] = _mm512_setzero_ps();
  /* formats with a constant offset start each block's integer sums at -off x (the block's sum of q): the offset
   * comes out exactly, in integers. int4's per-group zero points are either folded into the expanded u bytes (then
   * the offset is zero_fold's 15) or subtracted after the loop (r16_finish) */
  const int fixed_off = c->fmt != QG_FMT_INT4 ? qg_off(c->fmt) : s->folded ? 15 : 0;
  const int zline = s->pp && c->fmt == QG_FMT_INT4 && m0 == 0, upb = s->l.gpu * s->l.gb;
  for (int b = 0; b < nb; b++) {
    /* one flat loop over the blocks, as many live pointers as the 8 activation rows leave registers for */
    const uint32_t *bw = s->pp ? (const uint32_t *)(s->pp + s->boff[2 * b]) : s->tw + (int64_t)b * wpb * wstep;
    if (zline && b % upb == 0) /* a unit's int4 zero points, the header line before its words: wanted by
                                * r16_finish, which would miss on each unit's in turn */
      _mm_prefetch((const char *)bw - 64, _MM_HINT_T0);
    const int gi = (b * QG_ABLOCK) >> c->gshift;
    const __m512 sw = s->pp && !s->swt ? r16_block_scales(c, s->pp + s->boff[2 * b + 1]) : r16_scales(c, s, gi);
    if (s->swt_fill) _mm512_store_ps(s->swt_fill + (int64_t)gi * 16, sw);
    __m512i acc[R16_MT], acc2 = _mm512_setzero_si512();
    for (int mm = 0; mm < MT; mm++) acc[mm] = _mm512_set1_epi32(-fixed_off * c->xsum[(int64_t)(m0 + mm) * nb + b]);
#pragma GCC unroll 8
    for (int wi = 0; wi < wpb; wi++) { /* unrolled: a block is one straight run (rolled, gcc copied the acc registers) */
      const int w = b * wpb + wi;
      if (IS4) {
        __m512i lo, hi;
        if (IS4 == 1) {
          lo = _mm512_load_si512(bw + wi * 32);
          hi = _mm512_load_si512(bw + wi * 32 + 16);
        } else {
          const __m512i t = _mm512_load_si512(bw + wi * 16);
          lo = _mm512_permutexvar_epi8(t, tbl);
          hi = _mm512_permutexvar_epi8(_mm512_srli_epi16(t, 4), tbl);
        }
        /* word w covers K 8w..8w+7: even K at il[ch*128 + 4*(w%16) ..], odd K 64 bytes later */
        const int64_t xo = (int64_t)(w >> 4) * 128 + 4 * (w & 15);
        if (MT == 1) { /* one activation row: two chains of integer sums instead of one, added after the block (exact,
                        * so the same bits), or the block's 8 dependent vpdpbusd set the pace */
          const int8_t *xr = xb + (int64_t)m0 * kpad + xo;
          acc[0] = _mm512_dpbusd_epi32(acc[0], lo, _mm512_broadcastd_epi32(_mm_loadu_si32(xr)));
          acc2 = _mm512_dpbusd_epi32(acc2, hi, _mm512_broadcastd_epi32(_mm_loadu_si32(xr + 64)));
          continue;
        }
        for (int mm = 0; mm < MT; mm++) {
          const int8_t *xr = xb + (int64_t)(m0 + mm) * kpad + xo;
          /* vpbroadcastd from memory: a load, not a shuffle competing with vpdpbusd */
          acc[mm] = _mm512_dpbusd_epi32(acc[mm], lo, _mm512_broadcastd_epi32(_mm_loadu_si32(xr)));
          acc[mm] = _mm512_dpbusd_epi32(acc[mm], hi, _mm512_broadcastd_epi32(_mm_loadu_si32(xr + 64)));
        }
      } else {
        const __m512i u = _mm512_load_si512(bw + wi * 16); /* u = code ^ 0x80, stored so */
        if (MT == 1 && (wi & 1)) { /* one activation row: odd words on a second chain, as above */
          acc2 = _mm512_dpbusd_epi32(acc2, u, _mm512_broadcastd_epi32(_mm_loadu_si32(xb + (int64_t)m0 * kpad + 4 * w)));
          continue;
        }
        for (int mm = 0; mm < MT; mm++) {
          acc[mm] = _mm512_dpbusd_epi32(acc[mm], u, _mm512_broadcastd_epi32(_mm_loadu_si32(xb + (int64_t)(m0 + mm) * kpad + 4 * w)));
        }
      }
    }
    if (MT == 1) acc[0] = _mm512_add_epi32(acc[0], acc2);
    for (int mm = 0; mm < MT; mm++) {
      const __m512 sc = _mm512_mul_ps(sw, _mm512_set1_ps(c->sx[(int64_t)(m0 + mm) * nb + b]));
      accf[mm] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[mm]), sc, accf[mm]);
    }
  }
  r16_finish(c, accf, s, n0, rows, m0, MT);
}


/* One activation row (decode) against one prepacked panel: q8_r16_pass's arithmetic and order (so the same bits),
 * walked front to back with running pointers — unit header, then the unit's blocks, the group's scales taken where a
 * group starts — instead of an address computed per block and per word, and with two chains of integer sums per block
 * (added before the conversion; exact) instead of one chain of 8 dependent vpdpbusd. IS4: 0 int8, 2 packed 4-bit
 * through the level table, 3 int4/int4s (panel nibbles are u already: int4s is stored as code ^ 8), split by masks.
 * Why 3: on Zen 4 a 512-bit vpermb and a vpdpbusd share a pipe (1.6 cycles a pair, measured), while vpandd issues
 * beside vpdpbusd (1.0): the high nibbles are taken in place (u x 16, vpandd 0xf0) and their block sum shifted right
 * by 4 once (exact), so a block costs 8 vpandd where it cost 8 vpermb and 4 shifts. */
AI void q8_r16_gemv(const qg_call *c, const r16_src *s, int n0, int rows, int m0, const int IS4, __m512i tbl) {
  const qg_r16_layout *l = &s->l;
  const int nb = l->nb, gb = l->gb, upb = l->gpu * l->gb;
  const int8_t *x = (IS4 ? c->xq_il : c->xq) + (int64_t)m0 * c->kpad;
  const float *sx = c->sx + (int64_t)m0 * nb;
  const int32_t *xsum = c->xsum + (int64_t)m0 * nb;
  const int off = c->fmt != QG_FMT_INT4 ? qg_off(c->fmt) : 0;
  __m512 accf = _mm512_setzero_ps();
  /* int4: the zero-point term as r16_finish forms it (scale x zero point times the group's activation sum, even and
   * odd groups apart, in group order: the same bits), here while the header is at hand */
  const int int4 = c->fmt == QG_FMT_INT4;
  const float *gx = int4 ? c->gxs + (int64_t)m0 * c->ngroups : NULL;
  __m512 o0 = _mm512_setzero_ps(), o1 = _mm512_setzero_ps();
  const __m512i lo4 = _mm512_set1_epi8(0x0f), hi4 = _mm512_set1_epi8((char)0xf0);
  const uint8_t *p = s->pp;
  int b = 0, g = 0;
  while (b < nb) {
    const uint8_t *head = p;
    p += l->hb;
    const int ub = nb - b < upb ? nb - b : upb; /* the unit's blocks */
    __m512 sw = _mm512_setzero_ps();
    for (int e = 0, left = 0, j = 0; e < ub; e++, b++, p += l->wbb) {
      if (left == 0) { /* a group starts */
        sw = r16_block_scales(c, head + 32 * j);
        if (int4) { /* two named sums, not o[g & 1]: an indexed pair lived on the stack */
          const __m512 zs = r16_zero_scales(sw, head + 32 * l->gpu + 16 * j);
          if (g & 1) o1 = _mm512_fmadd_ps(zs, _mm512_set1_ps(gx[g]), o1);
          else o0 = _mm512_fmadd_ps(zs, _mm512_set1_ps(gx[g]), o0);
        }
        left = gb;
        j++;
        g++;
      }
      left--;
      __m512i a0 = _mm512_set1_epi32(-off * xsum[b]), a1 = _mm512_setzero_si512();
      if (IS4) {
        const int8_t *xr = x + (int64_t)(b >> 2) * 128 + 16 * (b & 3); /* word 4b's even K; odd K 64 bytes on */
#pragma GCC unroll 4
        for (int wi = 0; wi < 4; wi++) {
          const __m512i t = _mm512_load_si512(p + 64 * wi);
          const __m512i ulo = IS4 == 3 ? _mm512_and_si512(t, lo4) : _mm512_permutexvar_epi8(t, tbl);
          const __m512i uhi = IS4 == 3 ? _mm512_and_si512(t, hi4) : _mm512_permutexvar_epi8(_mm512_srli_epi16(t, 4), tbl);
          a0 = _mm512_dpbusd_epi32(a0, ulo, _mm512_broadcastd_epi32(_mm_loadu_si32(xr + 4 * wi)));
          a1 = _mm512_dpbusd_epi32(a1, uhi, _mm512_broadcastd_epi32(_mm_loadu_si32(xr + 64 + 4 * wi)));
        }
        if (IS4 == 3) a1 = _mm512_srai_epi32(a1, 4); /* sum of (16 u) x: exact, and a multiple of 16 */
      } else {
        const int8_t *xr = x + (int64_t)b * 32;
#pragma GCC unroll 4
        for (int wi = 0; wi < 8; wi += 2) {
          a0 = _mm512_dpbusd_epi32(a0, _mm512_load_si512(p + 64 * wi), _mm512_broadcastd_epi32(_mm_loadu_si32(xr + 4 * wi)));
          a1 = _mm512_dpbusd_epi32(a1, _mm512_load_si512(p + 64 * wi + 64), _mm512_broadcastd_epi32(_mm_loadu_si32(xr + 4 * wi + 4)));
        }
      }
      const __m512 sc = _mm512_mul_ps(sw, _mm512_set1_ps(sx[b]));
      accf = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(a0, a1)), sc, accf);
    }
  }
  const __mmask16 rm = rows >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << rows) - 1);
  _mm512_mask_storeu_ps(c->y + (int64_t)m0 * c->ldy + n0, rm, int4 ? _mm512_sub_ps(accf, _mm512_add_ps(o0, o1)) : accf);
}

/* Two adjacent prepacked 4-bit panels (32 weight rows, packed nibbles) against MT <= 6 activation rows in one pass:
 * each broadcast activation word feeds four vpdpbusd instead of two, and each panel word's lookups serve the same rows.
 * Per panel the integer sums, the scale steps and their order are q8_r16_pass's (IS4 = 2), so the outputs are its
 * bits. */
#define R16_MT2 6
AI void q8_r16_pass2(const qg_call *c, const r16_src *s0, const r16_src *s1, int n0, int rows1, int m0, const int MT,
                     __m512i tbl) {
  const int kpad = c->kpad, nb = c->nblocks;
  const int64_t d1 = s1->pp - s0->pp; /* the second panel's words: the same offsets in the next panel */
  const int8_t *xb = c->xq_il;
  __m512 accf0[R16_MT2], accf1[R16_MT2];
  for (int mm = 0; mm < MT; mm++) accf0[mm] = accf1[mm] = _mm512_setzero_ps();
  const int fixed_off = c->fmt != QG_FMT_INT4 ? qg_off(c->fmt) : 0;
  const int zline = c->fmt == QG_FMT_INT4 && m0 == 0, upb = s0->l.gpu * s0->l.gb;
  for (int b = 0; b < nb; b++) {
    const uint32_t *bw0 = (const uint32_t *)(s0->pp + s0->boff[2 * b]), *bw1 = (const uint32_t *)((const uint8_t *)bw0 + d1);
    if (zline && b % upb == 0) { /* the units' int4 zero points for r16_finish (q8_r16_pass) */
      _mm_prefetch((const char *)bw0 - 64, _MM_HINT_T0);
      _mm_prefetch((const char *)bw1 - 64, _MM_HINT_T0);
    }
    __m512i acc0[R16_MT2], acc1[R16_MT2];
    for (int mm = 0; mm < MT; mm++) acc0[mm] = acc1[mm] = _mm512_set1_epi32(-fixed_off * c->xsum[(int64_t)(m0 + mm) * nb + b]);
#pragma GCC unroll 4
    for (int wi = 0; wi < 4; wi++) { /* unrolled: the block is one straight run (rolled, gcc copied all 24 acc registers a word) */
      const int w = b * 4 + wi;
      const __m512i t0 = _mm512_load_si512(bw0 + wi * 16), t1 = _mm512_load_si512(bw1 + wi * 16);
      const __m512i lo0 = _mm512_permutexvar_epi8(t0, tbl), hi0 = _mm512_permutexvar_epi8(_mm512_srli_epi16(t0, 4), tbl);
      const __m512i lo1 = _mm512_permutexvar_epi8(t1, tbl), hi1 = _mm512_permutexvar_epi8(_mm512_srli_epi16(t1, 4), tbl);
      const int64_t xo = (int64_t)(w >> 4) * 128 + 4 * (w & 15);
      for (int mm = 0; mm < MT; mm++) {
        const int8_t *xr = xb + (int64_t)(m0 + mm) * kpad + xo;
        const __m512i xe = _mm512_broadcastd_epi32(_mm_loadu_si32(xr)), xd = _mm512_broadcastd_epi32(_mm_loadu_si32(xr + 64));
        acc0[mm] = _mm512_dpbusd_epi32(acc0[mm], lo0, xe);
        acc1[mm] = _mm512_dpbusd_epi32(acc1[mm], lo1, xe);
        acc0[mm] = _mm512_dpbusd_epi32(acc0[mm], hi0, xd);
        acc1[mm] = _mm512_dpbusd_epi32(acc1[mm], hi1, xd);
      }
    }
    const uint8_t *sh0 = s0->pp + s0->boff[2 * b + 1];
    const __m512 sw0 = r16_block_scales(c, sh0), sw1 = r16_block_scales(c, sh0 + d1);
    for (int mm = 0; mm < MT; mm++) {
      const __m512 sx = _mm512_set1_ps(c->sx[(int64_t)(m0 + mm) * nb + b]);
      accf0[mm] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc0[mm]), _mm512_mul_ps(sw0, sx), accf0[mm]);
      accf1[mm] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc1[mm]), _mm512_mul_ps(sw1, sx), accf1[mm]);
    }
  }
  r16_finish(c, accf0, s0, n0, 16, m0, MT);
  r16_finish(c, accf1, s1, n0 + 16, rows1, m0, MT);
}

/* 16x16 transpose of 32-bit elements: r[i] lane j  ->  r[j] lane i */
static inline void transpose16(__m512i r[16]) {
  __m512i t[16], u[16], v[16];
  for (int i = 0; i < 8; i++) {
    t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; i++) {
    u[4 * i + 0] = _mm512_unpacklo_epi64(t[4 * i + 0], t[4 * i + 2]);
    u[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i + 0], t[4 * i + 2]);
    u[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
    u[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
  }
  for (int h = 0; h < 2; h++)
    for (int i = 0; i < 4; i++) {
      v[8 * h + i] = _mm512_shuffle_i32x4(u[8 * h + i], u[8 * h + 4 + i], 0x88);
      v[8 * h + 4 + i] = _mm512_shuffle_i32x4(u[8 * h + i], u[8 * h + 4 + i], 0xdd);
    }
  for (int i = 0; i < 8; i++) {
    r[i] = _mm512_shuffle_i32x4(v[i], v[8 + i], 0x88);
    r[8 + i] = _mm512_shuffle_i32x4(v[i], v[8 + i], 0xdd);
  }
}

/* whether every zero point of the panel's rows is 0..15 (the format's range: any other byte would wrap the u bytes); a
 * panel holding one keeps the per-group term, as before the fold, so results do not depend on M */
AI int zero_fold_ok(const qg_call *c, int nt, int rows) {
  const uint8_t *z = c->zeros + (int64_t)nt * c->ngroups;
  uint8_t any = 0;
  for (int64_t i = 0; i < (int64_t)rows * c->ngroups; i++) any |= z[i];
  return any < 16;
}

/* int4 zero points folded into an expanded panel: u = q - z + 15 (0..30) for each row's zero point z, so the pass
 * treats int4 as a format with the constant offset 15 and no per-group term remains after its loop — the integer
 * sums carry q - z exactly (the unfolded path subtracts s·z·Σx in fp32 per group and activation row, ~3 % of the
 * pass's vector operations at g128). Returns the byte to add to each row's u bytes for group gi, in all 4 bytes of
 * its lane; 0 for rows past `rows`, whose code-0 padding stays u = 0. Only for panels zero_fold_ok accepts. */
AI __m512i zero_fold(const qg_call *c, int nt, int rows, int gi) {
  uint32_t v[16];
  for (int r = 0; r < 16; r++) v[r] = r < rows ? 0x01010101u * (uint32_t)(15 - c->zeros[(int64_t)(nt + r) * c->ngroups + gi]) : 0;
  return _mm512_loadu_si512(v);
}

/* Word w of an expanded 4-bit panel (its 16 rows' packed nibbles t) stored as u bytes: even K, then odd K, 64 bytes
 * each. With fold (int4 panels zero_fold_ok accepts) each row's bytes get its zero point's 15 - z for the word's group;
 * *zg / *zadd carry the current group's vector from word to word. */
AI void expand_word(const qg_call *c, uint32_t *dst, __m512i t, __m512i tbl, int w, int nt, int rows, int fold, int *zg,
                    __m512i *zadd) {
  const int gi = (int)(((int64_t)w * 8) >> c->gshift); /* a word's 8 K values lie in one group */
  if (fold && gi != *zg && gi < c->ngroups) { *zadd = zero_fold(c, nt, rows, gi); *zg = gi; }
  _mm512_store_si512(dst, _mm512_add_epi8(_mm512_permutexvar_epi8(t, tbl), *zadd));
  _mm512_store_si512(dst + 16, _mm512_add_epi8(_mm512_permutexvar_epi8(_mm512_srli_epi16(t, 4), tbl), *zadd));
}

static void q8_rows16(const qg_call *c, int n0, int n1, int thread) {
  const int G = c->ngroups, M = c->m, is4 = qg_is4(c->fmt);
  const int lin4 = c->fmt == QG_FMT_INT4 || c->fmt == QG_FMT_INT4S; /* nibbles that are u in a panel (int4s: code ^ 8) */
  const int nch = (int)(qg_r16_words(c->fmt, c->k) / 16);
  /* with many activation tiles (M > 32), 4-bit panels are used expanded (two 64-byte u vectors per word): the
   * nibble lookups run once per panel instead of once per tile; with few, the packed panel (half the bytes) stays
   * in L1 across the passes and the lookups are cheaper than the misses */
  const int expand = is4 && M > 32;
  /* the dispatcher's row tasks are multiples of 16 rows, so a task starts on a panel; were one not, it would
   * transpose its rows itself rather than read the wrong panel */
  const int use_panels = c->panels && n0 % 16 == 0;
  uint32_t *tw_s = qg_scratch(thread, 0, (size_t)nch * 16 * 64 * (expand ? 2 : 1));
  float *swt_s = qg_scratch(thread, 1, (size_t)G * 64 * 2);
  if (!tw_s || !swt_s) return;
  const __m512i tbl = is4 ? u_table64(use_panels && c->fmt == QG_FMT_INT4S ? QG_FMT_INT4 : c->fmt) : _mm512_setzero_si512();
  const float mul = qg_seff_mul(c->fmt);
  const qg_r16_layout lay = qg_r16_layout_of(c->fmt, c->k, c->group);
  int64_t *boff = NULL; /* each block's words and scales in a prepacked panel, for the passes' flat loops over blocks
                          * (M = 1 walks the panel in q8_r16_gemv instead) */
  if (use_panels && M > 1) { /* kept in the thread's scratch after the table's key (format, K, group): tasks of a
                              * few rows, as M <= 4 makes them, would otherwise rebuild it each time */
    int64_t *t = qg_scratch(thread, 4, (2 * (size_t)lay.nb + 1) * 8);
    if (!t) return;
    const int64_t key = ((int64_t)c->k << 32) | ((int64_t)c->group << 4) | c->fmt;
    boff = t + 1;
    if (t[0] != key) {
      for (int gi = 0; gi < lay.ngroups; gi++)
        for (int b = gi * lay.gb; b < (gi + 1) * lay.gb && b < lay.nb; b++) {
          boff[2 * b] = qg_r16_group_words_at(&lay, gi) + (int64_t)(b - gi * lay.gb) * lay.wbb;
          boff[2 * b + 1] = qg_r16_scales_at(&lay, gi);
        }
      t[0] = key;
    }
  }
  for (int nt = n0; nt < n1; nt += 16) {
    const int rows = n1 - nt < 16 ? n1 - nt : 16;
    r16_src src = {0};
    src.l = lay;
    src.boff = boff;
    /* two panels per pass share each activation broadcast; not at M = 1, where one panel at a time keeps decode's
     * read a single forward stream */
    if (use_panels && is4 && !expand && M > 1 && rows == 16 && nt + 16 < n1) {
      r16_src src1 = src;
      src.pp = c->panels + (int64_t)(nt / 16) * c->panel_stride;
      src1.pp = src.pp + c->panel_stride;
      const int rows1 = n1 - nt - 16 < 16 ? n1 - nt - 16 : 16;
      for (int m0 = 0; m0 < M; m0 += R16_MT2) {
        const int mt = M - m0 < R16_MT2 ? M - m0 : R16_MT2;
#define R16_2(MT_) \
  case MT_: q8_r16_pass2(c, &src, &src1, nt, rows1, m0, MT_, tbl); break;
        switch (mt) { R16_2(6) R16_2(5) R16_2(4) R16_2(3) R16_2(2) R16_2(1) }
#undef R16_2
      }
      nt += 16;
      continue;
    }
    if (use_panels) { /* prepacked (qg_pack_panels): nt starts a panel */
      const uint8_t *pp = c->panels + (int64_t)(nt / 16) * c->panel_stride;
      if (!expand) {
        src.pp = pp;
        if (M > R16_MT) src.swt_fill = swt_s; /* several passes: the first converts each group's scales once and
                                                * leaves them for the others (converting them all ahead of the pass, a
                                                * strided walk over the headers, cost 10-15 % at M = 16) */
      } else { /* the u bytes into scratch, word after word as the per-call path writes them, and the fp32 scales */
        const int fold = c->fmt == QG_FMT_INT4 && zero_fold_ok(c, nt, rows);
        int zg = -1;
        __m512i zadd = _mm512_setzero_si512();
        float *zs = swt_s + (size_t)G * 16;
        src.pp = pp; /* read its headers */
        for (int gi = 0; gi < G; gi++) {
          const int b0 = gi * lay.gb, b1 = b0 + lay.gb < lay.nb ? b0 + lay.gb : lay.nb;
          const uint32_t *gw = (const uint32_t *)(pp + qg_r16_group_words_at(&lay, gi));
          for (int w = b0 * 4; w < b1 * 4; w++)
            expand_word(c, tw_s + (int64_t)w * 32, _mm512_load_si512(gw + (int64_t)(w - b0 * 4) * 16), tbl, w, nt, rows,
                        fold, &zg, &zadd);
          const __m512 sw = r16_scales(c, &src, gi);
          _mm512_store_ps(swt_s + (int64_t)gi * 16, sw);
          if (c->fmt == QG_FMT_INT4 && !fold)
            _mm512_store_ps(zs + (int64_t)gi * 16, r16_zero_scales(sw, pp + qg_r16_zeros_at(&lay, gi)));
        }
        src.pp = NULL;
        src.tw = tw_s;
        src.swt = swt_s;
        src.zsw = zs;
        src.folded = fold;
      }
    } else {
      /* transpose: tw[w][r] = word w of row nt + r, 16 words x 16 rows per step in registers; missing rows and
       * bytes past a row's end are 0 (code 0 then meets activation 0 in the padding; the int8 path's u = 0x80
       * likewise meets x = 0). The words qg_pack_panels writes, in one array instead of per unit. */
      const int fold = expand && c->fmt == QG_FMT_INT4 && zero_fold_ok(c, nt, rows);
      int zg = -1;
      __m512i zadd = _mm512_setzero_si512();
      for (int ch = 0; ch < nch; ch++) {
        const int64_t boff = (int64_t)ch * 64, avail = c->row_bytes - boff;
        const __mmask64 lm = avail >= 64 ? ~(__mmask64)0 : avail <= 0 ? 0 : (((__mmask64)1 << avail) - 1);
        __m512i rr[16];
        for (int r = 0; r < 16; r++)
          rr[r] = r < rows ? _mm512_maskz_loadu_epi8(lm, c->codes + (int64_t)(nt + r) * c->row_bytes + boff) : _mm512_setzero_si512();
        transpose16(rr);
        if (is4 && !expand) {
          for (int w = 0; w < 16; w++) _mm512_store_si512(tw_s + ((int64_t)ch * 16 + w) * 16, rr[w]);
        } else if (is4) {
          for (int w = 0; w < 16; w++)
            expand_word(c, tw_s + ((int64_t)ch * 16 + w) * 32, rr[w], tbl, ch * 16 + w, nt, rows, fold, &zg, &zadd);
        } else {
          const __m512i flip = _mm512_set1_epi8((char)0x80);
          for (int w = 0; w < 16; w++) _mm512_store_si512(tw_s + ((int64_t)ch * 16 + w) * 16, _mm512_xor_si512(rr[w], flip));
        }
      }
      float *zs = swt_s + (size_t)G * 16; /* [group][row]: the weight scale times the int4 zero point */
      for (int gi = 0; gi < G; gi++)
        for (int r = 0; r < 16; r++) {
          swt_s[gi * 16 + r] = r < rows ? h2f(c->scales[(int64_t)(nt + r) * G + gi]) * mul : 0.0f;
          if (c->fmt == QG_FMT_INT4) zs[gi * 16 + r] = r < rows ? swt_s[gi * 16 + r] * (float)c->zeros[(int64_t)(nt + r) * G + gi] : 0.0f;
        }
      src.tw = tw_s;
      src.swt = swt_s;
      src.zsw = zs;
      src.folded = fold;
    }
    for (int m0 = 0; m0 < M; m0 += R16_MT) {
      const int mt = M - m0 < R16_MT ? M - m0 : R16_MT;
      if (m0 > 0 && src.swt_fill) { src.swt = src.swt_fill; src.swt_fill = NULL; }
#define R16(MT_)                                                                        \
  case MT_:                                                                             \
    if (expand) q8_r16_pass(c, &src, nt, rows, m0, MT_, 1, tbl);                        \
    else if (MT_ == 1 && src.pp && !src.swt && lin4) q8_r16_gemv(c, &src, nt, rows, m0, 3, tbl);   \
    else if (MT_ == 1 && src.pp && !src.swt) q8_r16_gemv(c, &src, nt, rows, m0, is4 ? 2 : 0, tbl); \
    else if (is4) q8_r16_pass(c, &src, nt, rows, m0, MT_, 2, tbl);                      \
    else q8_r16_pass(c, &src, nt, rows, m0, MT_, 0, tbl);                               \
    break;
      switch (mt) { R16(8) R16(7) R16(6) R16(5) R16(4) R16(3) R16(2) R16(1) }
#undef R16
    }
  }
}

static void q8_avx512(const qg_call *c, int n0, int n1, int thread) {
  /* the panel transpose (a 16x16 register transpose per 64 bytes of 16 rows) is shared by all M. Prepacked panels,
   * when the caller passes them (Java does for every M), serve every M: with no transpose to pay, 16 rows per vector
   * beat the row-major GEMV and tiles at M = 1..4 too — a scale step per 32-block and 16 rows instead of a permute,
   * convert and FMA per 64-byte chunk of each row, no horizontal sum per row, and (since their scales sit inline) one
   * forward stream from DRAM, which one core reads at ~0.96 of its probe where the row GEMV reads ~0.8 (docs/kernels.md,
   * "Decode on the panels, as one stream"). Different summation order from q8_kind: within the same error bound, not
   * the same bits. */
  if (c->m > QG_R16_MIN_M || c->panels) { q8_rows16(c, n0, n1, thread); return; }
  (void)thread;
  if (c->fmt == QG_FMT_INT8) q8_kind(c, n0, n1, KIND_INT8);
  else if (c->fmt == QG_FMT_INT4) q8_kind(c, n0, n1, KIND_INT4);
  else q8_kind(c, n0, n1, KIND_TBL4);
}

/* ---------------- fp32 activations, M <= 4 ---------------- */

static __m512 level_table(int fmt) {
  float t[16];
  for (int i = 0; i < 16; i++) t[i] = fmt == QG_FMT_INT4 ? (float)i : qg_level4(fmt, i);
  return _mm512_loadu_ps(t);
}

/* 4-bit, fp32 activations. One 64-byte load = 16 packed words = 128 K values; lane i holds word i.
 * vpermps only reads the low 4 bits of each index lane, so word >> 4j indexes the level table with
 * nibble j directly: 8 shifts + 8 permutes decode 128 weights, with activations stored so that
 * vector j holds x[8i + j]. Group scales are per lane (a lane never straddles a group). */
AI void f32_4bit_tile(const qg_call *c, int r0, const int RN, const int RM, __m512 tab, const int PFD) {
  const int K = c->k, kpad = c->kpad, gs = c->gshift, G = c->ngroups;
  const int64_t rb = c->row_bytes, words = rb / 4;
  __m512 acc[4][4];
  for (int r = 0; r < RN; r++)
    for (int mm = 0; mm < RM; mm++) acc[r][mm] = _mm512_setzero_ps();
  const uint8_t *pf[4];
  for (int r = 0; r < RN; r++) {
    const int pr = r0 + PFD + r < c->n ? r0 + PFD + r : r0 + r;
    pf[r] = c->codes + (int64_t)pr * rb;
  }
  const int nch = (K + 127) / 128;
  const int pf_l2 = 4 * kpad * RM > QG_L1_ACT_BYTES; /* fp32 activations */
  for (int ch = 0; ch < nch; ch++) {
    const int kc = ch * 128;
    const int64_t wavail = words - (int64_t)ch * 16;
    const __mmask16 wmask = wavail >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << wavail) - 1);
    __m512i raw[4];
    __m512 sw[4];
    for (int r = 0; r < RN; r++) {
      const uint8_t *row = c->codes + (int64_t)(r0 + r) * rb;
      raw[r] = _mm512_maskz_loadu_epi32(wmask, row + (int64_t)ch * 64);
      if (pf_l2) _mm_prefetch((const char *)(pf[r] + (int64_t)ch * 64), _MM_HINT_T1);
      else _mm_prefetch((const char *)(pf[r] + (int64_t)ch * 64), _MM_HINT_T0);
      sw[r] = lane_scales(c->scales + (int64_t)(r0 + r) * G, G, gs, kc, 8, 1.0f);
    }
    if (RN * RM <= 8) { /* unscaled partial sums, one scale FMA per chunk (M = 1 is f32_4bit_row's) */
      __m512 part[4][4];
      for (int r = 0; r < RN; r++)
        for (int mm = 0; mm < RM; mm++) part[r][mm] = _mm512_setzero_ps();
      for (int j = 0; j < 8; j++) {
        __m512 xj[4];
        for (int mm = 0; mm < RM; mm++) xj[mm] = _mm512_loadu_ps(c->x_w8 + (int64_t)mm * kpad + kc + 16 * j);
        for (int r = 0; r < RN; r++) {
          const __m512 w = _mm512_permutexvar_ps(_mm512_srli_epi32(raw[r], 4 * j), tab);
          for (int mm = 0; mm < RM; mm++) part[r][mm] = _mm512_fmadd_ps(w, xj[mm], part[r][mm]);
        }
      }
      for (int r = 0; r < RN; r++)
        for (int mm = 0; mm < RM; mm++) acc[r][mm] = _mm512_fmadd_ps(part[r][mm], sw[r], acc[r][mm]);
    } else { /* many accumulators: scale the weights instead */
      for (int j = 0; j < 8; j++) {
        __m512 xj[4];
        for (int mm = 0; mm < RM; mm++) xj[mm] = _mm512_loadu_ps(c->x_w8 + (int64_t)mm * kpad + kc + 16 * j);
        for (int r = 0; r < RN; r++) {
          const __m512 w = _mm512_mul_ps(_mm512_permutexvar_ps(_mm512_srli_epi32(raw[r], 4 * j), tab), sw[r]);
          for (int mm = 0; mm < RM; mm++) acc[r][mm] = _mm512_fmadd_ps(w, xj[mm], acc[r][mm]);
        }
      }
    }
  }
  for (int r = 0; r < RN; r++) {
    const int64_t rg = (int64_t)(r0 + r) * G;
    for (int mm = 0; mm < RM; mm++) {
      float y = _mm512_reduce_add_ps(acc[r][mm]);
      if (c->fmt == QG_FMT_INT4) { /* (q - z) * s = q*s - z*s: subtract z*s*sum(x) per group */
        y -= group_term(c->scales + rg, c->zeros + rg, c->gsum + (int64_t)mm * G, G);
      }
      c->y[(int64_t)mm * c->ldy + r0 + r] = y;
    }
  }
}

/* 4-bit GEMV with fp32 activations (M = 1), one row: f32_4bit_tile's decode (lane i of a 64-byte chunk is word i,
 * word >> 4j indexes the level table with nibble j). WHOLE (groups of >= 128 K, or one group per row: a chunk lies in
 * one group): the table itself is scaled per chunk — (level - z)·s for int4 — so the products are summed straight into
 * four chains with no per-chunk scale step and int4 needs no zero-point term after the row (group_term). Otherwise
 * (g32 / g64) the lanes' scales, 16 groups converted at once, multiply the sum of the chunk's two partial chains, and
 * int4's zero points come after the row (group_term). One thread, weights in L2 (256x4096, ab_bench, 41 rounds): the
 * scaled table 0.91x the time (int4-g128), 0.95x (fp4-g128); converting g128's scales 16 chunks at a time (below)
 * then 0.95-0.99x more, same bits; g32 / g64 with two chains instead of four 0.95-0.96x. Loading the chunk at byte offsets 1..3 instead of three of the
 * shifts was slower (0.97x of this: the loads straddle cache lines), and two rows per pass sharing the activation
 * loads made no difference. */
AI void f32_4bit_row(const qg_call *c, int r, __m512 tab, const int WHOLE) {
  const int K = c->k, kpad = c->kpad, gs = c->gshift, G = c->ngroups;
  const int64_t rb = c->row_bytes, words = rb / 4;
  const uint8_t *row = c->codes + (int64_t)r * rb;
  const uint8_t *pf = c->codes + (int64_t)(r + 2 < c->n ? r + 2 : r) * rb; /* two rows ahead, as f32_4bit_tile */
  const int pf_l2 = 4 * kpad > QG_L1_ACT_BYTES;
  const uint16_t *sc = c->scales + (int64_t)r * G;
  const int is_int4 = c->fmt == QG_FMT_INT4;
  const int nch = (K + 127) / 128;
  __m512 p[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  __m512 acc = _mm512_setzero_ps(), t = tab;
  /* WHOLE: the scaled table is rebuilt only when the group changes; at g128 (a group per chunk) the scales and zero
   * points of 16 chunks are converted at once and each chunk's broadcast from memory (a load, where a scalar
   * conversion and a register broadcast took two of the vector pipes the decode needs) */
  float sbuf[16], zbuf[16];
  int tg = -1;
  __m512 s16 = _mm512_setzero_ps(); /* not WHOLE: the converted scales of groups [16·b, 16·b + 16) */
  /* lane i covers K values 8i..8i+7 of its chunk: group (8i) >> gs within the chunk (gs is 5 or 6 here) */
  const __m512i lane_group = _mm512_srlv_epi32(_mm512_slli_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0), 3), _mm512_set1_epi32(WHOLE ? 0 : gs));
  for (int ch = 0; ch < nch; ch++) {
    const __m512i raw = _mm512_maskz_loadu_epi32(tail_mask((int)(words - (int64_t)ch * 16)), row + (int64_t)ch * 64);
    if (pf_l2) _mm_prefetch((const char *)(pf + (int64_t)ch * 64), _MM_HINT_T1);
    else _mm_prefetch((const char *)(pf + (int64_t)ch * 64), _MM_HINT_T0);
    const float *xc = c->x_w8 + ch * 128; /* vector j holds x[8i + j] */
    if (WHOLE) {
      const int gi = (int)(((int64_t)ch * 128) >> gs);
      if (gi != tg) {
        float s1, z1;
        if (gs == 7) { /* gi == ch */
          if ((ch & 15) == 0) {
            const __mmask16 gm = tail_mask(G - ch);
            _mm512_storeu_ps(sbuf, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(gm, sc + ch)));
            if (is_int4) _mm512_storeu_ps(zbuf, _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(gm, c->zeros + (int64_t)r * G + ch))));
          }
          s1 = sbuf[ch & 15];
          z1 = is_int4 ? zbuf[ch & 15] : 0.0f;
        } else {
          s1 = h2f(sc[gi]);
          z1 = is_int4 ? (float)c->zeros[(int64_t)r * G + gi] : 0.0f;
        }
        t = is_int4 ? _mm512_mul_ps(_mm512_sub_ps(tab, _mm512_set1_ps(z1)), _mm512_set1_ps(s1)) : _mm512_mul_ps(tab, _mm512_set1_ps(s1));
        tg = gi;
      }
      for (int j = 0; j < 8; j++)
        p[j & 3] = _mm512_fmadd_ps(_mm512_permutexvar_ps(_mm512_srli_epi32(raw, 4 * j), t), _mm512_loadu_ps(xc + 16 * j), p[j & 3]);
    } else {
      __m512 q[2];
      for (int j = 0; j < 8; j++) {
        const __m512 w = _mm512_permutexvar_ps(_mm512_srli_epi32(raw, 4 * j), tab), xv = _mm512_loadu_ps(xc + 16 * j);
        q[j & 1] = j < 2 ? _mm512_mul_ps(w, xv) : _mm512_fmadd_ps(w, xv, q[j & 1]);
      }
      const __m512 part = _mm512_add_ps(q[0], q[1]);
      /* g32 / g64: the scales of 16 groups (4 or 8 chunks) converted at once; each chunk's lanes pick theirs with one
       * permute (lane_scales loaded and converted 2-4 per chunk) */
      const int gi0 = (ch * 128) >> gs;
      if ((gi0 & 15) == 0) {
        const __mmask16 gm = tail_mask(G - gi0);
        s16 = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(gm, sc + gi0));
      }
      const __m512i li = _mm512_add_epi32(lane_group, _mm512_set1_epi32(gi0 & 15));
      acc = _mm512_fmadd_ps(part, _mm512_permutexvar_ps(li, s16), acc);
    }
  }
  float y;
  if (WHOLE) {
    y = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(p[0], p[1]), _mm512_add_ps(p[2], p[3])));
  } else {
    y = _mm512_reduce_add_ps(acc);
    if (is_int4) { /* (q - z) * s = q*s - z*s: subtract z*s*sum(x) per group */
      y -= group_term(sc, c->zeros + (int64_t)r * G, c->gsum, G);
    }
  }
  c->y[r] = y;
}

/* dense and int8: 16 K values per step, converted to fp32 */
AI __m512 load_w16(const qg_call *c, const uint8_t *row, int kk, __mmask16 mk, const int FMT) {
  switch (FMT) {
    case QG_FMT_FP32: return _mm512_maskz_loadu_ps(mk, (const float *)row + kk);
    case QG_FMT_FP16: return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mk, (const uint16_t *)row + kk));
    case QG_FMT_BF16:
      return _mm512_castsi512_ps(_mm512_slli_epi32(
          _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(mk, (const uint16_t *)row + kk)), 16));
    default: return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mk, (const int8_t *)row + kk)));
  }
  (void)c;
}

AI void f32_dense_tile(const qg_call *c, int r0, const int RN, const int FMT, const int PFD) {
  const int K = c->k, M = c->m, gs = c->gshift, G = c->ngroups;
  const int esz = FMT == QG_FMT_FP32 ? 4 : FMT == QG_FMT_INT8 ? 1 : 2;
  const int per_line = 64 / esz; /* K values per cache line */
  __m512 acc[4][4];
  for (int r = 0; r < RN; r++)
    for (int mm = 0; mm < 4; mm++) acc[r][mm] = _mm512_setzero_ps();
  const uint8_t *pf[4];
  for (int r = 0; r < RN; r++) {
    const int pr = r0 + PFD + r < c->n ? r0 + PFD + r : r0 + r;
    pf[r] = c->codes + (int64_t)pr * c->row_bytes;
  }
  for (int kk = 0; kk < K; kk += 16) {
    const __mmask16 mk = K - kk >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (K - kk)) - 1);
    __m512 w[4];
    for (int r = 0; r < RN; r++) {
      const uint8_t *row = c->codes + (int64_t)(r0 + r) * c->row_bytes;
      w[r] = load_w16(c, row, kk, mk, FMT);
      if ((kk & (per_line - 1)) == 0) _mm_prefetch((const char *)(pf[r] + (int64_t)kk * esz), _MM_HINT_T0);
      if (FMT == QG_FMT_INT8) w[r] = _mm512_mul_ps(w[r], _mm512_set1_ps(h2f(c->scales[(int64_t)(r0 + r) * G + (kk >> gs)])));
    }
    for (int mm = 0; mm < M; mm++) {
      const __m512 xv = _mm512_maskz_loadu_ps(mk, c->x + (int64_t)mm * c->ldx + kk);
      for (int r = 0; r < RN; r++) acc[r][mm] = _mm512_fmadd_ps(w[r], xv, acc[r][mm]);
    }
  }
  for (int r = 0; r < RN; r++)
    for (int mm = 0; mm < M; mm++) c->y[(int64_t)mm * c->ldy + r0 + r] = _mm512_reduce_add_ps(acc[r][mm]);
}

/* Tiles of 4 weight rows, so each activation load serves four rows (the last rows one by one). The 4-bit GEMV (M == 1)
 * does not tile: f32_4bit_row streams one row at a time (one sequential stream per thread). */
#define ROWS4_ALWAYS(CALL4, CALL1)                       \
  for (int r0 = n0; r0 < n1; r0 += 4) {                  \
    if (n1 - r0 >= 4) { CALL4; }                         \
    else for (int rr = r0; rr < n1; rr++) { CALL1; }     \
  }

static void direct_f32_avx512(const qg_call *c, int n0, int n1, int thread) {
  (void)thread;
  switch (c->fmt) {
    case QG_FMT_FP32: ROWS4_ALWAYS(f32_dense_tile(c, r0, 4, QG_FMT_FP32, 4), f32_dense_tile(c, rr, 1, QG_FMT_FP32, 2)); break;
    case QG_FMT_FP16: ROWS4_ALWAYS(f32_dense_tile(c, r0, 4, QG_FMT_FP16, 4), f32_dense_tile(c, rr, 1, QG_FMT_FP16, 2)); break;
    case QG_FMT_BF16: ROWS4_ALWAYS(f32_dense_tile(c, r0, 4, QG_FMT_BF16, 4), f32_dense_tile(c, rr, 1, QG_FMT_BF16, 2)); break;
    case QG_FMT_INT8: ROWS4_ALWAYS(f32_dense_tile(c, r0, 4, QG_FMT_INT8, 4), f32_dense_tile(c, rr, 1, QG_FMT_INT8, 2)); break;
    default: {
      const __m512 tab = level_table(c->fmt);
      switch (c->m) {
        case 1: /* a group covers whole 128-K chunks (or the row is one group): the scaled-table row kernel */
          if (c->gshift >= 7) for (int rr = n0; rr < n1; rr++) f32_4bit_row(c, rr, tab, 1);
          else for (int rr = n0; rr < n1; rr++) f32_4bit_row(c, rr, tab, 0);
          break;
        case 2: ROWS4_ALWAYS(f32_4bit_tile(c, r0, 4, 2, tab, 4), f32_4bit_tile(c, rr, 1, 2, tab, 2)); break;
        case 3: ROWS4_ALWAYS(f32_4bit_tile(c, r0, 4, 3, tab, 4), f32_4bit_tile(c, rr, 1, 3, tab, 2)); break;
        default: ROWS4_ALWAYS(f32_4bit_tile(c, r0, 4, 4, tab, 4), f32_4bit_tile(c, rr, 1, 4, tab, 2)); break;
      }
    }
  }
}

/* ---------------- fp32 activations, M > 4: panel GEMM ---------------- */

#define PR 12 /* weight rows dequantized at once: one 12x16 or two 6x32 micro tiles */

/* dequantize row r, K range [k0, k1) (k0 % 32 == 0) into natural-order floats */
static void dequant_exact(const qg_call *c, int r, int k0, int k1, float *restrict out, __m512 tab) {
  if (!qg_is4(c->fmt)) {
    const uint8_t *row = c->codes + (int64_t)r * c->row_bytes;
    for (int kk = k0; kk < k1; kk += 16) {
      const __mmask16 mk = k1 - kk >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (k1 - kk)) - 1);
      __m512 w;
      switch (c->fmt) {
        case QG_FMT_FP32: w = load_w16(c, row, kk, mk, QG_FMT_FP32); break;
        case QG_FMT_FP16: w = load_w16(c, row, kk, mk, QG_FMT_FP16); break;
        case QG_FMT_BF16: w = load_w16(c, row, kk, mk, QG_FMT_BF16); break;
        default:
          w = _mm512_mul_ps(load_w16(c, row, kk, mk, QG_FMT_INT8),
                            _mm512_set1_ps(h2f(c->scales[(int64_t)r * c->ngroups + (kk >> c->gshift)])));
      }
      /* a masked store costs far more than a plain one on some cores (Zen 4): only at the tail */
      if (mk == 0xffff) _mm512_storeu_ps(out + kk - k0, w);
      else _mm512_mask_storeu_ps(out + kk - k0, mk, w);
    }
    return;
  }
  const uint8_t *row = c->codes + (int64_t)r * c->row_bytes;
  const int64_t rg = (int64_t)r * c->ngroups;
  const __m512i m15 = _mm512_set1_epi32(15);
  const __m512i i0 = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  const __m512i i1 = _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8);
  for (int kk = k0; kk < k1; kk += 32) {
    const int64_t boff = kk / 2, avail = c->row_bytes - boff;
    const __mmask16 lmask = avail >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << avail) - 1);
    const __m512i v = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(lmask, row + boff));
    const int gi = kk >> c->gshift;
    __m512 lo = _mm512_permutexvar_ps(_mm512_and_si512(v, m15), tab);
    __m512 hi = _mm512_permutexvar_ps(_mm512_srli_epi32(v, 4), tab);
    if (c->fmt == QG_FMT_INT4) {
      const __m512 z = _mm512_set1_ps((float)c->zeros[rg + gi]);
      lo = _mm512_sub_ps(lo, z);
      hi = _mm512_sub_ps(hi, z);
    }
    const __m512 s = _mm512_set1_ps(h2f(c->scales[rg + gi]));
    const __m512 a = _mm512_mul_ps(_mm512_permutex2var_ps(lo, i0, hi), s);
    const __m512 b = _mm512_mul_ps(_mm512_permutex2var_ps(lo, i1, hi), s);
    const int rem = k1 - kk;
    if (rem >= 32) {
      _mm512_storeu_ps(out + kk - k0, a);
      _mm512_storeu_ps(out + kk - k0 + 16, b);
    } else {
      _mm512_mask_storeu_ps(out + kk - k0, rem >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << rem) - 1), a);
      if (rem > 16) _mm512_mask_storeu_ps(out + kk - k0 + 16, (__mmask16)((1u << (rem - 16)) - 1), b);
    }
  }
}

/* fp32 -> nearest bf16 (ties to even) as fp32, 16 at a time, without AVX512_BF16 (the tier's fallback); NaNs stay */
static inline __m512 round_bf16_ps(__m512 v) {
  const __m512i b = _mm512_castps_si512(v);
  const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(b, 16), _mm512_set1_epi32(1));
  const __m512i r = _mm512_and_si512(_mm512_add_epi32(b, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff))),
                                     _mm512_set1_epi32((int)0xffff0000u));
  const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
  return _mm512_mask_mov_ps(_mm512_castsi512_ps(r), nan, _mm512_or_ps(v, _mm512_castsi512_ps(_mm512_set1_epi32(0x00400000))));
}

/* ... rounded to bf16 when the call's activations are bf16 (a bf16 product has bf16 weights too) */
static void dequant_range(const qg_call *c, int r, int k0, int k1, float *restrict out, __m512 tab) {
  dequant_exact(c, r, k0, k1, out, tab);
  if (c->act == QG_ACT_BF16)
    for (int kk = 0; kk < k1 - k0; kk += 16) {
      const __mmask16 m = k1 - k0 - kk >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (k1 - k0 - kk)) - 1);
      _mm512_mask_storeu_ps(out + kk, m, round_bf16_ps(_mm512_maskz_loadu_ps(m, out + kk)));
    }
}

/* A finished register tile of the panel GEMMs (lane j of acc[r][v] is y[m0 + 16v + j][nb + r]) into y: rows of y
 * are M-major, so the tile goes out column by column; lanes past M are dropped */
AI void store_tile(const qg_call *c, __m512 acc[12][2], int nb, int m0, const int RN, const int MV) {
  float tmp[16];
  for (int v = 0; v < MV; v++) {
    const int mb = m0 + 16 * v, cnt = c->m - mb < 16 ? c->m - mb : 16;
    for (int r = 0; r < RN; r++) {
      _mm512_storeu_ps(tmp, acc[r][v]);
      for (int j = 0; j < cnt; j++) c->y[(int64_t)(mb + j) * c->ldy + nb + r] = tmp[j];
    }
  }
}

/* y[m0 .. m0+16*MV)[nb .. nb+RN) = W[RN][K] * XT[K][16*MV] over the whole K: accumulators stay in
 * registers (no C round trips); W rows are read as broadcasts, the packed XT tile sequentially. */
AI void micro(const qg_call *c, const float *wb, int ldw, const float *xt, int nb, int m0, int k0, int k1, float *cb,
              const int RN, const int MV) {
  const int ldt = MV * 16, mpad = c->mpad;
  __m512 acc[12][2];
  for (int r = 0; r < RN; r++)
    for (int v = 0; v < MV; v++)
      acc[r][v] = k0 == 0 ? _mm512_setzero_ps() : _mm512_loadu_ps(cb + (int64_t)r * mpad + 16 * v);
  for (int kk = k0; kk < k1; kk++) {
    const float *xr = xt + (int64_t)kk * ldt;
    const __m512 x0 = _mm512_loadu_ps(xr);
    const __m512 x1 = MV > 1 ? _mm512_loadu_ps(xr + 16) : x0;
    for (int r = 0; r < RN; r++) {
      const __m512 w = _mm512_set1_ps(wb[(int64_t)r * ldw + kk]);
      acc[r][0] = _mm512_fmadd_ps(w, x0, acc[r][0]);
      if (MV > 1) acc[r][1] = _mm512_fmadd_ps(w, x1, acc[r][1]);
    }
  }
  if (k1 < c->k) { /* more K blocks follow: park the sums */
    for (int r = 0; r < RN; r++)
      for (int v = 0; v < MV; v++) _mm512_storeu_ps(cb + (int64_t)r * mpad + 16 * v, acc[r][v]);
    return;
  }
  store_tile(c, acc, nb, m0, RN, MV);
}

/* The register tiles both panel micro-kernels (fp32, bf16) are instantiated for: rn rows x mv 16-lane vectors, 6x32
 * and 12x16 and their ragged edges; CASE(RN, MV) is one instantiation */
#define PANEL_TILES(CASE, rn, mv)                                                                              \
  if (mv == 2) {                                                                                               \
    switch (rn) { CASE(6, 2) CASE(5, 2) CASE(4, 2) CASE(3, 2) CASE(2, 2) CASE(1, 2) }                          \
  } else {                                                                                                     \
    switch (rn) {                                                                                              \
      CASE(12, 1) CASE(11, 1) CASE(10, 1) CASE(9, 1) CASE(8, 1) CASE(7, 1)                                     \
      CASE(6, 1) CASE(5, 1) CASE(4, 1) CASE(3, 1) CASE(2, 1) CASE(1, 1)                                        \
    }                                                                                                          \
  }

#define MICRO_CASE(RN_, MV_) \
  case RN_: micro(c, wb, ldw, xt, nb, m0, k0, k1, cb, RN_, MV_); break;

static void micro_any(const qg_call *c, const float *wb, int ldw, const float *xt, int nb, int m0, int k0, int k1,
                      float *cb, int rn, int mv) {
  PANEL_TILES(MICRO_CASE, rn, mv)
}
#undef MICRO_CASE

#define PKB 256 /* K block of the micro-kernel: its slice of W and of the activation tile stay in L1 */

/* M > 4: dequantize PR whole rows (adjacent in memory: one sequential stream the hardware prefetches
 * well, where short row pieces each paid a DRAM latency) to fp32, then run the register-blocked
 * micro-kernel over K blocks for every 32-wide M tile, parking partial sums between blocks. */
/* Leading dimension (in 4-byte elements) of a panel of PR dequantized rows: n, plus one cache line where n rows would
 * start every multiple of 2 KiB. The micro-kernels read 6 or 12 of these rows at the same offset; at K = 4096 or
 * 14336 (rows 16 KiB, 56 KiB apart) all 12 fell into one L1 set of 8 ways and evicted each other, and the dense fp16
 * reference of `bench kernels` ran 1.2-1.3x slower per weight there than at K = 4160, 11008 or 14400 (ab_bench,
 * M = 16): the padding removes that, the arithmetic and the results are unchanged. */
static inline int panel_ld(int n) { return ((int64_t)n * 4) % 2048 == 0 ? n + 16 : n; }

static void panel_f32_avx512(const qg_call *c, int n0, int n1, int thread) {
  const int mpad = c->mpad, K = c->k, ldw = panel_ld(K);
  float *wb = qg_scratch(thread, 0, (size_t)PR * ldw * sizeof(float));
  float *cbuf = qg_scratch(thread, 1, (size_t)PR * mpad * sizeof(float));
  if (!wb || !cbuf) return;
  const __m512 tab = qg_is4(c->fmt) ? level_table(c->fmt) : _mm512_setzero_ps();
  for (int nb = n0; nb < n1; nb += PR) {
    const int nr = n1 - nb < PR ? n1 - nb : PR;
    for (int r = 0; r < nr; r++) dequant_range(c, nb + r, 0, K, wb + (int64_t)r * ldw, tab);
    /* while this panel computes, pull the next one (adjacent rows, one contiguous range) into L2,
     * a slice per K block, so its dequantization does not wait on DRAM */
    const uint8_t *next = c->codes + (int64_t)(nb + PR) * c->row_bytes;
    const int64_t next_bytes = nb + PR < n1 ? (int64_t)(n1 - nb - PR < PR ? n1 - nb - PR : PR) * c->row_bytes : 0;
    const int nkb = mpad <= 32 ? (K + PKB - 1) / PKB : 1;
    const int64_t pf_step = (next_bytes / nkb + 63) & ~63LL;
    int64_t pf_off = 0;
    /* K blocks keep W and activation slices in L1 for one 16/32-wide M tile; with many M tiles the
     * parked partial sums would cost more than they save */
    const int kbs = mpad <= 32 ? PKB : K;
    for (int k0 = 0; k0 < K; k0 += kbs) {
      const int k1 = K - k0 < kbs ? K : k0 + kbs;
      for (int64_t e = pf_off + pf_step; pf_off < e && pf_off < next_bytes; pf_off += 64)
        _mm_prefetch((const char *)(next + pf_off), _MM_HINT_T1);
      for (int m0 = 0; m0 < mpad; m0 += 32) {
        const int mv = mpad - m0 >= 32 ? 2 : 1;
        const float *xt = c->xt + qg_xt_index(c->kpad, mpad, 0, m0);
        const int tr = mv == 2 ? 6 : 12;
        for (int r = 0; r < nr; r += tr) {
          const int rn = nr - r < tr ? nr - r : tr;
          micro_any(c, wb + (int64_t)r * ldw, ldw, xt, nb + r, m0, k0, k1, cbuf + (int64_t)r * mpad + m0, rn, mv);
        }
      }
    }
  }
}

/* ---------------- fp32 activations, M > 4, small K: lanes over weight rows ---------------- */

/* For K up to QG_NT_MAX_K (small models: stories260K's K is 64 or 172) the panel GEMM's fixed costs dominate: the
 * activations' transposition and the tile's column-by-column stores. Here the weights are the packed operand
 * instead: a panel of QG_NT_W rows is dequantized once per call into wt[K][QG_NT_W] (the lanes of a vector are 16
 * weight rows), activations are broadcast straight from their rows, and a finished tile is whole vectors of output
 * rows. Each output's sum runs over k in order from 0 in one fused multiply-add chain, exactly as the panel
 * micro-kernel's does: the two paths give bit-identical results. */
static void nt_pack_avx512(const qg_call *c, int panel) {
  const int K = c->k, n0 = panel * QG_NT_W, nr = c->n - n0 < QG_NT_W ? c->n - n0 : QG_NT_W;
  float row[QG_NT_MAX_K + 32] __attribute__((aligned(64)));
  float *wt = c->wt + (int64_t)panel * K * QG_NT_W;
  const __m512 tab = qg_is4(c->fmt) ? level_table(c->fmt) : _mm512_setzero_ps();
  for (int r = 0; r < nr; r++) {
    dequant_range(c, n0 + r, 0, K, row, tab);
    for (int kk = 0; kk < K; kk++) wt[(int64_t)kk * QG_NT_W + r] = row[kk];
  }
  for (int r = nr; r < QG_NT_W; r++)
    for (int kk = 0; kk < K; kk++) wt[(int64_t)kk * QG_NT_W + r] = 0.0f;
}

/* y[m0 .. m0+MR)[n0 .. n0+16*NV) over the whole K: MR x NV accumulators, NV weight vectors loaded per k, each
 * activation broadcast from memory into the multiply-add; nvalid (<= 16*NV) output columns are stored */
AI void nt_micro(const qg_call *c, const float *wt, int m0, int n0, int nvalid, const int MR, const int NV) {
  __m512 acc[6][4];
  for (int r = 0; r < MR; r++)
    for (int v = 0; v < NV; v++) acc[r][v] = _mm512_setzero_ps();
  const float *x = c->x + (int64_t)m0 * c->ldx;
  const int64_t ldx = c->ldx;
  for (int kk = 0; kk < c->k; kk++) {
    __m512 w[4];
    for (int v = 0; v < NV; v++) w[v] = _mm512_load_ps(wt + (int64_t)kk * QG_NT_W + 16 * v);
    for (int r = 0; r < MR; r++) {
      const __m512 xb = _mm512_set1_ps(x[r * ldx + kk]);
      for (int v = 0; v < NV; v++) acc[r][v] = _mm512_fmadd_ps(xb, w[v], acc[r][v]);
    }
  }
  for (int r = 0; r < MR; r++) {
    float *y = c->y + (int64_t)(m0 + r) * c->ldy + n0;
    for (int v = 0; v < NV; v++) {
      const int left = nvalid - 16 * v;
      if (left >= 16) _mm512_storeu_ps(y + 16 * v, acc[r][v]);
      else _mm512_mask_storeu_ps(y + 16 * v, (__mmask16)((1u << left) - 1), acc[r][v]);
    }
  }
}

#define NT_CASE(MR_, NV_) \
  case MR_: nt_micro(c, wt, m, n0, nvalid, MR_, NV_); break;
#define NT_ROWS(NV_) \
  switch (mr) { NT_CASE(6, NV_) NT_CASE(5, NV_) NT_CASE(4, NV_) NT_CASE(3, NV_) NT_CASE(2, NV_) NT_CASE(1, NV_) }

static void nt_tile_avx512(const qg_call *c, int m0, int m1, int panel) {
  const int n0 = panel * QG_NT_W, nvalid = c->n - n0 < QG_NT_W ? c->n - n0 : QG_NT_W, nv = (nvalid + 15) / 16;
  const float *wt = c->wt + (int64_t)panel * c->k * QG_NT_W;
  for (int m = m0; m < m1; m += 6) {
    const int mr = m1 - m < 6 ? m1 - m : 6;
    switch (nv) {
      case 4: NT_ROWS(4) break;
      case 3: NT_ROWS(3) break;
      case 2: NT_ROWS(2) break;
      default: NT_ROWS(1) break;
    }
  }
}
#undef NT_ROWS
#undef NT_CASE

/* ---- attention, softmax, SwiGLU ---- */

/* The generic qg_expf (Cody-Waite + Cephes degree-6 polynomial, same clamp) on 16 lanes; vscalefps
 * applies 2^n without building exponent bits. */
AI __m512 exp512(__m512 x) {
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.3f)), _mm512_set1_ps(88.7f));
  const __m512 n = _mm512_roundscale_ps(_mm512_fmadd_ps(x, _mm512_set1_ps(1.44269504088896341f), _mm512_set1_ps(0.5f)),
                                        _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500E-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507E-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073E-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894E-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459E-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201E-1f));
  p = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(p, n);
}

/* exp for attention's softmax, its argument d = (s - max) 32/ln2 <= 0 (attention scales the queries by 32/ln2, so
 * the scores arrive in these units): d = 32 n + j + r with |r| <= 1/2, exp = 2^n 2^(j/32) e^(r ln2/32); n and j from
 * one add of 1.5 2^23 (the integer lands in the low bits: j is its low 5 bits, the permute index, and 2^n is added to
 * the exponent field as those bits shifted), r exact as d minus that integer, 2^(j/32) from a 32-entry table (one
 * two-source permute), e^x - 1 = x + x^2/2 + x^3/6 for x = r ln2/32 (|x| <= 0.0109; the next term, <= 6e-10, is
 * below fp32's resolution). Within 1.01 ulp of exp over every 7th float of [-3900, 0]; the self-test holds it to
 * 2 ulp (qg_attention_exp_avx512). 4 operations on the multiply pipes where a Cody-Waite exp takes 9 — attention at head size 8 is
 * bound by those pipes (8 multiply-adds for the scores and 8 for the value sum per 16 query-key pairs, and one exp);
 * the rounding and the exponent go to the add and integer pipes where a core has them apart (Zen 4; Intel's server
 * cores run 512-bit adds and integer operations on the multiply-add ports too). Below -4030 (exp -87.3), and for NaN
 * and -inf, the result is exp(-87.3) ~ 1.2e-38, as the clamp before it gave. */
static const float qg_exp2_32[32] __attribute__((aligned(64))) = {
    1.0f, 1.0218971486541166f, 1.0442737824274138f, 1.0671404006768237f, 1.0905077326652577f,
    1.1143867425958924f, 1.1387886347566916f, 1.1637248587775775f, 1.189207115002721f, 1.215247359980469f,
    1.241857812073484f, 1.2690509571917332f, 1.2968395546510096f, 1.3252366431597413f, 1.3542555469368927f,
    1.383909881963832f, 1.4142135623730951f, 1.4451808069770467f, 1.4768261459394993f, 1.5091644275934228f,
    1.5422108254079407f, 1.5759808451078865f, 1.6104903319492543f, 1.645755478153965f, 1.681792830507429f,
    1.718619298122478f, 1.7562521603732995f, 1.7947090750031072f, 1.8340080864093424f, 1.8741676341103f,
    1.9152065613971474f, 1.9571441241754002f};
#define QG_LOG2E_32 46.166241308446828 /* 32 / ln 2: attention's query scale into exp512_softmax's units */
AI __m512 exp512_softmax(__m512 d) {
  d = _mm512_max_ps(d, _mm512_set1_ps(-4030.0f));
  const __m512 magic = _mm512_set1_ps(12582912.0f); /* 1.5 2^23: d + magic rounds d to an integer in the low bits */
  const __m512 k = _mm512_add_ps(d, magic);
  const __m512 r = _mm512_sub_ps(d, _mm512_sub_ps(k, magic));
  const __m512i ki = _mm512_castps_si512(k);
  const __m512 t = _mm512_permutex2var_ps(_mm512_load_ps(qg_exp2_32), ki, _mm512_load_ps(qg_exp2_32 + 16));
  const double c = 0.69314718055994530942 / 32;
  __m512 p = _mm512_fmadd_ps(r, _mm512_set1_ps((float)(c * c * c / 6)), _mm512_set1_ps((float)(c * c / 2)));
  p = _mm512_mul_ps(r, _mm512_fmadd_ps(r, p, _mm512_set1_ps((float)c))); /* e^(r ln2/32) - 1 */
  const __m512 y = _mm512_fmadd_ps(t, p, t);
  /* (k's bits << 18) keeps the integer's bits from bit 18 up: masked to the exponent field, they add floor(n/32) */
  const __m512i e = _mm512_and_si512(_mm512_slli_epi32(ki, 18), _mm512_set1_epi32((int)0xFF800000u));
  return _mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(y), e));
}

/* exp512_softmax over n arguments, for the self-test's accuracy check (qg_internal.h) */
void qg_attention_exp_avx512(const float *d, float *y, int n) {
  for (int i = 0; i < n; i += 16) {
    const __mmask16 m = tail_mask(n - i);
    _mm512_mask_storeu_ps(y + i, m, exp512_softmax(_mm512_maskz_loadu_ps(m, d + i)));
  }
}

/* Sum of each of 16 vectors, lane j of the result = the sum of v[j]'s lanes: a transposing add tree
 * (15 shuffles and adds for all 16, where 16 separate reductions cost 64 of each). */
AI __m512 reduce16(const __m512 v[16]) {
  __m512 a[8], b[4];
  for (int k = 0; k < 8; k++)
    a[k] = _mm512_add_ps(_mm512_unpacklo_ps(v[2 * k], v[2 * k + 1]), _mm512_unpackhi_ps(v[2 * k], v[2 * k + 1]));
  for (int k = 0; k < 4; k++)
    b[k] = _mm512_add_ps(_mm512_shuffle_ps(a[2 * k], a[2 * k + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                         _mm512_shuffle_ps(a[2 * k], a[2 * k + 1], _MM_SHUFFLE(3, 2, 3, 2)));
  const __m512 d0 = _mm512_add_ps(_mm512_shuffle_f32x4(b[0], b[1], _MM_SHUFFLE(2, 0, 2, 0)),
                                  _mm512_shuffle_f32x4(b[0], b[1], _MM_SHUFFLE(3, 1, 3, 1)));
  const __m512 d1 = _mm512_add_ps(_mm512_shuffle_f32x4(b[2], b[3], _MM_SHUFFLE(2, 0, 2, 0)),
                                  _mm512_shuffle_f32x4(b[2], b[3], _MM_SHUFFLE(3, 1, 3, 1)));
  return _mm512_add_ps(_mm512_shuffle_f32x4(d0, d1, _MM_SHUFFLE(2, 0, 2, 0)),
                       _mm512_shuffle_f32x4(d0, d1, _MM_SHUFFLE(3, 1, 3, 1)));
}

/* Scores of RB query rows (scaled queries qs, hs floats apart) for positions [0, npad): each K vector (16
 * positions of one dim) is loaded once for all RB rows. Row r sees positions < lim0 + r STEP + 1 (causal rows of a
 * chunk: STEP 1; the heads of one query: STEP 0); the rest of its 16-aligned row becomes -inf. Rows of s are ls
 * floats apart; mx gets each row's max. */
/* positions ahead a decode step's score walk prefetches K (and fetched up front). Paired against the up-front burst
 * alone (ab_attention_decode, one 1B layer, caches flushed, 2 threads, medians of 100): position 16 0.95x, 64 1.04x,
 * 127 0.98x, 300 0.90x, 511 0.86x, 1000 0.92x, 2000 0.88-0.91x; 64 positions ahead 0.91x at 511-2000 but 1.07x at 64 */
#define ATT_KAHEAD 32
AI void attention_scores(const float *qs, int hs, const float *kt, int64_t ld, int npos, int lim0, float *s, int ls,
                         float *mx, const int RB, int STEP, const float *vpf) {
  __m512 m[8];
  for (int r = 0; r < RB; r++) m[r] = _mm512_set1_ps(-INFINITY);
  int p = 0;
  /* vectors every row sees whole: no masks */
  for (; p + 16 <= lim0 + 1; p += 16) {
    __m512 acc[8];
    for (int r = 0; r < RB; r++) acc[r] = _mm512_setzero_ps();
    for (int i = 0; i < hs; i++) {
      if (vpf) { /* decode: K ATT_KAHEAD positions on and V at these, a line each per dim: paced, not dropped */
        _mm_prefetch((const char *)(kt + (int64_t)i * ld + p + ATT_KAHEAD), _MM_HINT_T0);
        _mm_prefetch((const char *)(vpf + (int64_t)i * ld + p), _MM_HINT_T1);
      }
      const __m512 kv = _mm512_loadu_ps(kt + (int64_t)i * ld + p);
      for (int r = 0; r < RB; r++) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(qs[r * hs + i]), kv, acc[r]);
    }
    for (int r = 0; r < RB; r++) {
      _mm512_storeu_ps(s + (int64_t)r * ls + p, acc[r]);
      m[r] = _mm512_max_ps(m[r], acc[r]);
    }
  }
  for (; p < npos; p += 16) {
    const __mmask16 kmask = tail_mask(npos - p);
    __m512 acc[8];
    for (int r = 0; r < RB; r++) acc[r] = _mm512_setzero_ps();
    for (int i = 0; i < hs; i++) {
      if (vpf) _mm_prefetch((const char *)(vpf + (int64_t)i * ld + p), _MM_HINT_T1);
      const __m512 kv = _mm512_maskz_loadu_ps(kmask, kt + (int64_t)i * ld + p);
      for (int r = 0; r < RB; r++) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(qs[r * hs + i]), kv, acc[r]);
    }
    for (int r = 0; r < RB; r++) {
      const __m512 sc = _mm512_mask_blend_ps(tail_mask(lim0 + r * STEP + 1 - p), _mm512_set1_ps(-INFINITY), acc[r]);
      _mm512_storeu_ps(s + (int64_t)r * ls + p, sc);
      m[r] = _mm512_max_ps(m[r], sc);
    }
  }
  for (int r = 0; r < RB; r++) mx[r] = _mm512_reduce_max_ps(m[r]);
}

/* o[r][i0 .. i0+8) (and row r+1's) = sum_p P[r][p] V[i][p] * inv[r] for two probability rows and 8 dims: each
 * P vector is loaded once for 8 dims, each V vector once for both rows; the 16 sums leave through reduce16. */
AI void attention_values8(const float *pr, int ls, const float *vt, int64_t ld, int npos, int i0, const float *inv,
                          float *o0, float *o1) {
  __m512 acc[16];
  for (int j = 0; j < 16; j++) acc[j] = _mm512_setzero_ps();
  for (int p = 0; p < npos; p += 16) {
    const __mmask16 vm = tail_mask(npos - p);
    const __m512 p0 = _mm512_loadu_ps(pr + p), p1 = _mm512_loadu_ps(pr + ls + p);
    for (int i = 0; i < 8; i++) {
      const __m512 vv = _mm512_maskz_loadu_ps(vm, vt + (int64_t)(i0 + i) * ld + p);
      acc[i] = _mm512_fmadd_ps(p0, vv, acc[i]);
      acc[8 + i] = _mm512_fmadd_ps(p1, vv, acc[8 + i]);
    }
  }
  const __m512 sums = _mm512_mul_ps(reduce16(acc), _mm512_insertf32x8(_mm512_set1_ps(inv[0]), _mm256_set1_ps(inv[1]), 1));
  _mm256_storeu_ps(o0 + i0, _mm512_castps512_ps256(sums));
  if (o1) _mm256_storeu_ps(o1 + i0, _mm512_extractf32x8_ps(sums, 1));
}

/* One dim of one probability row, 16 lanes: the remainder of attention_values8 */
AI float attention_value1(const float *pr, const float *vr, int npos) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  int p = 0;
  for (; p + 32 <= npos; p += 32) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(pr + p), _mm512_loadu_ps(vr + p), acc0);
    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(pr + p + 16), _mm512_loadu_ps(vr + p + 16), acc1);
  }
  for (; p < npos; p += 16)
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(pr + p), _mm512_maskz_loadu_ps(tail_mask(npos - p), vr + p), acc0);
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

/* Head size 8: the exp of two score rows (r and r+1, n0 and n0 + 1 positions; TWO = 0 for a last row alone) formed
 * inside the value sums, so each probability is made where it is used: no separate exp pass over the tile with its
 * store, reload and a loop exit per row (at head size 8 that pass cost as much as the value sums: 0.92x the
 * attention's time without it). Each row's sum of exps accumulates in the separate pass's order (one vector sum,
 * then its lanes), so a pair's outputs are that pass's bits; a last row alone sums its 8 dims at once instead of one
 * by one. Positions past a row's end are 0, V is read only below the pair's end. */
AI void attention_exp_values8(const float *s0, int ls, const float *mx, const float *vt, int64_t ld, int n0,
                              float *o0, float *o1, const int TWO) {
  const int np = n0 + TWO;
  const float *s1 = s0 + ls;
  const __m512 m0 = _mm512_set1_ps(mx[0]), m1 = _mm512_set1_ps(TWO ? mx[1] : 0.0f);
  __m512 acc[16], sum0 = _mm512_setzero_ps(), sum1 = _mm512_setzero_ps();
  for (int j = 0; j < 16; j++) acc[j] = _mm512_setzero_ps();
  int p = 0;
  for (; p + 16 <= n0; p += 16) {
    const __m512 e0 = exp512_softmax(_mm512_sub_ps(_mm512_loadu_ps(s0 + p), m0));
    sum0 = _mm512_add_ps(sum0, e0);
    __m512 e1 = e0;
    if (TWO) {
      e1 = exp512_softmax(_mm512_sub_ps(_mm512_loadu_ps(s1 + p), m1));
      sum1 = _mm512_add_ps(sum1, e1);
    }
    for (int i = 0; i < 8; i++) {
      const __m512 vv = _mm512_loadu_ps(vt + (int64_t)i * ld + p);
      acc[i] = _mm512_fmadd_ps(e0, vv, acc[i]);
      if (TWO) acc[8 + i] = _mm512_fmadd_ps(e1, vv, acc[8 + i]);
    }
  }
  for (; p < np; p += 16) {
    const __mmask16 vm = tail_mask(np - p);
    const __m512 e0 = _mm512_maskz_mov_ps(tail_mask(n0 - p), exp512_softmax(_mm512_sub_ps(_mm512_loadu_ps(s0 + p), m0)));
    sum0 = _mm512_add_ps(sum0, e0);
    __m512 e1 = e0;
    if (TWO) {
      e1 = _mm512_maskz_mov_ps(vm, exp512_softmax(_mm512_sub_ps(_mm512_loadu_ps(s1 + p), m1)));
      sum1 = _mm512_add_ps(sum1, e1);
    }
    for (int i = 0; i < 8; i++) {
      const __m512 vv = _mm512_maskz_loadu_ps(vm, vt + (int64_t)i * ld + p);
      acc[i] = _mm512_fmadd_ps(e0, vv, acc[i]);
      if (TWO) acc[8 + i] = _mm512_fmadd_ps(e1, vv, acc[8 + i]);
    }
  }
  const float inv0 = 1.0f / _mm512_reduce_add_ps(sum0), inv1 = TWO ? 1.0f / _mm512_reduce_add_ps(sum1) : 0.0f;
  const __m512 sums = _mm512_mul_ps(reduce16(acc), _mm512_insertf32x8(_mm512_set1_ps(inv0), _mm256_set1_ps(inv1), 1));
  _mm256_storeu_ps(o0, _mm512_castps512_ps256(sums));
  if (TWO) _mm256_storeu_ps(o1, _mm512_extractf32x8_ps(sums, 1));
}

#define ATT_RB 8 /* query rows whose scores share each K load */

/* The phases of attention over R query rows of one kv head, shared by a chunk's causal rows (attention_avx512: row r
 * sees lim0 + r + 1 positions, step 1) and by the heads of one decode query (attention_group_avx512: every row sees
 * lim0 + 1, step 0). Rows of the score tile s are ls floats apart. */

/* row r's hs queries (from q + r ldq) scaled into exp512_softmax's units */
AI void attention_scale_queries(float *qs, const float *q, int64_t ldq, int R, int hs, float scale) {
  const float qscale = (float)((double)scale * QG_LOG2E_32);
  for (int r = 0; r < R; r++)
    for (int i = 0; i < hs; i++) qs[r * hs + i] = q[(int64_t)r * ldq + i] * qscale;
}

/* the scores, ATT_RB rows sharing each K load; a block stops at its last row's last position */
AI void attention_score_rows(const float *qs, int R, int hs, const float *kt, int64_t ld, int lim0, int step, float *s,
                             int ls, float *mx, const float *vpf) {
  for (int r = 0; r < R; r += ATT_RB) {
    const int rb = R - r < ATT_RB ? R - r : ATT_RB, lim = lim0 + r * step, np = lim + (step ? rb : 1);
    const float *qr = qs + (int64_t)r * hs;
    float *sr = s + (int64_t)r * ls;
    switch (rb) {
      case 8: attention_scores(qr, hs, kt, ld, np, lim, sr, ls, mx + r, 8, step, vpf); break;
      case 7: attention_scores(qr, hs, kt, ld, np, lim, sr, ls, mx + r, 7, step, vpf); break;
      case 6: attention_scores(qr, hs, kt, ld, np, lim, sr, ls, mx + r, 6, step, vpf); break;
      case 5: attention_scores(qr, hs, kt, ld, np, lim, sr, ls, mx + r, 5, step, vpf); break;
      case 4: attention_scores(qr, hs, kt, ld, np, lim, sr, ls, mx + r, 4, step, vpf); break;
      case 3: attention_scores(qr, hs, kt, ld, np, lim, sr, ls, mx + r, 3, step, vpf); break;
      case 2: attention_scores(qr, hs, kt, ld, np, lim, sr, ls, mx + r, 2, step, vpf); break;
      default: attention_scores(qr, hs, kt, ld, np, lim, sr, ls, mx + r, 1, step, vpf); break;
    }
  }
}

/* exp and sum per row, in place (positions past the row's end become 0); inv gets 1 / sum */
AI void attention_exp_rows(float *s, int R, int ls, const float *mx, float *inv, int lim0, int step) {
  for (int r = 0; r < R; r++) {
    float *sr = s + (int64_t)r * ls;
    const int n = lim0 + r * step + 1, nz = (n + 15) & ~15;
    const __m512 vmx = _mm512_set1_ps(mx[r]);
    __m512 sum = _mm512_setzero_ps();
    for (int p = 0; p < n; p += 16) {
      const __m512 e = _mm512_maskz_mov_ps(tail_mask(n - p), exp512_softmax(_mm512_sub_ps(_mm512_loadu_ps(sr + p), vmx)));
      _mm512_storeu_ps(sr + p, e);
      sum = _mm512_add_ps(sum, e);
    }
    /* the value sums read one position past a row's end (its pair's last): lanes past n are 0 already, unless n
     * ends a vector; then the next one is zeroed */
    if (nz < ls) _mm512_storeu_ps(sr + nz, _mm512_setzero_ps());
    inv[r] = 1.0f / _mm512_reduce_add_ps(sum);
  }
}

/* the value sums into row r of out (ldo floats apart), two rows by 8 dims at a time so each probability and each V
 * vector is loaded once for several products; positions past a row's end hold 0, so both rows run to the later
 * row's end */
AI void attention_value_rows(const float *s, int R, int ls, const float *inv, const float *vt, int64_t ld, int hs,
                             int lim0, int step, float *out, int64_t ldo) {
  for (int r = 0; r < R; r += 2) {
    const int two = r + 1 < R;
    float *o0 = out + (int64_t)r * ldo, *o1 = two ? o0 + ldo : NULL;
    const float *pr = s + (int64_t)r * ls;
    const int np = lim0 + r * step + 1 + two * step;
    int i = 0;
    if (two) {
      for (; i + 8 <= hs; i += 8) attention_values8(pr, ls, vt, ld, np, i, inv + r, o0, o1);
    }
    for (; i < hs; i++) {
      const float *vr = vt + (int64_t)i * ld;
      o0[i] = attention_value1(pr, vr, np) * inv[r];
      if (two) o1[i] = attention_value1(pr + ls, vr, np) * inv[r + 1];
    }
  }
}

/* One head, queries t0..t1-1, as a block: keys and values are transposed ([dim][pos], row stride ld). The block's
 * scores go to a scratch tile (rows of 16-aligned length; a row's masked positions are -inf), K loads shared by
 * ATT_RB rows; exp and sum per row (positions past the row's causal end become 0); then the value sums, two rows
 * by 8 dims at a time so each probability and each V vector is loaded once for several products. At head size 8 the
 * exp runs inside the value sums instead (attention_exp_values8). Masked loads at the cache's end only: nothing past
 * position start + t1 - 1 is read. */
static void attention_avx512(const qg_attention_args *a, int h, int t0, int t1, int thread) {
  const int hs = a->hs, g = h / (a->n_heads / a->n_kv_heads), R = t1 - t0;
  const float *kt = a->kt + (int64_t)g * a->kv_head_stride;
  const float *vt = a->vt + (int64_t)g * a->kv_head_stride;
  const int64_t ld = a->ld_kv;
  const int npos = a->start + t1, ls = (npos + 15) & ~15, lim0 = a->start + t0;
  float *s = qg_scratch(thread, 2, (size_t)R * ls * sizeof(float) + (size_t)R * 2 * sizeof(float));
  float *qs = qg_scratch(thread, 3, (size_t)R * hs * sizeof(float));
  if (!s || !qs) return;
  float *mx = s + (int64_t)R * ls, *inv = mx + R;
  attention_scale_queries(qs, a->q + (int64_t)t0 * a->ldq + (int64_t)h * hs, a->ldq, R, hs, a->scale);
  attention_score_rows(qs, R, hs, kt, ld, lim0, 1, s, ls, mx, NULL);
  float *out = a->out + (int64_t)t0 * a->ldo + (int64_t)h * hs;
  if (hs == 8) {
    for (int r = 0; r < R; r += 2) {
      float *o0 = out + (int64_t)r * a->ldo;
      if (r + 1 < R) attention_exp_values8(s + (int64_t)r * ls, ls, mx + r, vt, ld, lim0 + r + 1, o0, o0 + a->ldo, 1);
      else attention_exp_values8(s + (int64_t)r * ls, ls, mx + r, vt, ld, lim0 + r + 1, o0, NULL, 0);
    }
    return;
  }
  attention_exp_rows(s, R, ls, mx, inv, lim0, 1);
  attention_value_rows(s, R, ls, inv, vt, ld, hs, lim0, 1, out, a->ldo);
}

/* One query (a decode step) for heads h1 .. h1 + G - 1 of kv group g (G <= 8; qg_attention gives a group's heads in
 * blocks of 8, so a pair of heads is always the same pair) as the rows of one block: the group's K and V are read once
 * for all those heads (a task per head read them G times, from L2 at best), the scores share each K load over up to 8
 * heads and the value sums each V load over two. The group's cache rows are prefetched into L2 — their first
 * ATT_KAHEAD positions up front, the rest paced by the score walk (attention_scores' vpf): during decode the cache has
 * been evicted by a whole token's weights since it was last read, and its hs rows per matrix are short streams (4 bytes
 * a position) the hardware prefetcher hardly ramps up on — without prefetches the reads went at the memory's latency,
 * ~5 GB/s. Every decode step takes this path whatever the thread count, so its
 * bits do not depend on it; they differ from attention_avx512's for the same query (its value sums run one dim at a
 * time for a single row). */
static void attention_group_avx512(const qg_attention_args *a, int g, int h1, int G, int thread) {
  const int hs = a->hs, h0 = g * (a->n_heads / a->n_kv_heads) + h1;
  const float *kt = a->kt + (int64_t)g * a->kv_head_stride;
  const float *vt = a->vt + (int64_t)g * a->kv_head_stride;
  const int64_t ld = a->ld_kv;
  const int npos = a->start + 1, ls = (npos + 15) & ~15;
  {
    /* the first ATT_KAHEAD positions of K and V now; the scores' walk prefetches the rest as it goes, one K line
     * (ATT_KAHEAD positions on) and one V line per dim and block. All up front (up to 512 positions, 4096 lines a
     * group, as before), a long context's burst evidently lost most of its prefetches to full miss buffers */
    const int64_t row_bytes = (int64_t)npos * 4, pf = row_bytes < ATT_KAHEAD * 4 ? row_bytes : ATT_KAHEAD * 4;
    for (int i = 0; i < hs; i++) {
      const char *kr = (const char *)(kt + (int64_t)i * ld), *vr = (const char *)(vt + (int64_t)i * ld);
      for (int64_t b = 0; b < pf; b += 64) { _mm_prefetch(kr + b, _MM_HINT_T1); _mm_prefetch(vr + b, _MM_HINT_T1); }
    }
  }
  float *s = qg_scratch(thread, 2, (size_t)G * ls * sizeof(float) + (size_t)G * 2 * sizeof(float));
  float *qs = qg_scratch(thread, 3, (size_t)G * hs * sizeof(float));
  if (!s || !qs) return;
  float *mx = s + (int64_t)G * ls, *inv = mx + G;
  attention_scale_queries(qs, a->q + (int64_t)h0 * hs, hs, G, hs, a->scale);
  attention_score_rows(qs, G, hs, kt, ld, npos - 1, 0, s, ls, mx, vt);
  attention_exp_rows(s, G, ls, mx, inv, npos - 1, 0);
  attention_value_rows(s, G, ls, inv, vt, ld, hs, npos - 1, 0, a->out + (int64_t)h0 * hs, hs);
}

static void softmax_rows_avx512(float *att, int r0, int r1, int64_t ld, int first_len, float scale) {
  const __m512 vs = _mm512_set1_ps(scale);
  for (int t = r0; t < r1; t++) {
    float *row = att + (int64_t)t * ld;
    const int n = first_len + t;
    __m512 mx = _mm512_set1_ps(-INFINITY);
    for (int p = 0; p < n; p += 16) mx = _mm512_max_ps(mx, _mm512_mask_loadu_ps(mx, tail_mask(n - p), row + p));
    const __m512 vmx = _mm512_set1_ps(_mm512_reduce_max_ps(mx));
    __m512 sum = _mm512_setzero_ps();
    for (int p = 0; p < n; p += 16) {
      const __mmask16 m = tail_mask(n - p);
      const __m512 e = _mm512_maskz_mov_ps(m, exp512(_mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, row + p), vmx), vs)));
      _mm512_mask_storeu_ps(row + p, m, e);
      sum = _mm512_add_ps(sum, e);
    }
    const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(sum));
    for (int p = 0; p < n; p += 16) {
      const __mmask16 m = tail_mask(n - p);
      _mm512_mask_storeu_ps(row + p, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, row + p), inv));
    }
    for (int64_t p = n; p < ld; p++) row[p] = 0.0f;
  }
}

/* qg_add_rmsnorm_rows (qg_generic.c) written out for AVX-512: the same operations in the same order, so the same bits
 * (the self-test compares every tier with the scalar one) — residual add, 16 lane sums of squares (multiply, then add:
 * the library is built without contraction), the lanes added in order, the tail's squares after them, the inverse
 * root in double, out = w * (inv * x). The compiled generic loop took about 60 ns a row at dim 64 (alias checks,
 * peeling, the lane array through memory); a perplexity chunk of stories260K normalizes 512 rows 11 times. */
static void add_rmsnorm_rows_avx512(const qg_norm_args *a, int64_t r0, int64_t r1) {
  const int64_t dim = a->dim, dv = dim & ~(int64_t)15;
  const __mmask16 tm = (__mmask16)((1u << (dim - dv)) - 1);
  for (int64_t r = r0; r < r1; r++) {
    float *x = a->x + r * a->ldx, *o = a->out + r * a->ldo;
    const float *d = a->delta ? a->delta + r * a->ldd : NULL;
    __m512 acc = _mm512_setzero_ps();
    for (int64_t i = 0; i < dv; i += 16) {
      __m512 v = _mm512_loadu_ps(x + i);
      if (d) {
        v = _mm512_add_ps(v, _mm512_loadu_ps(d + i));
        _mm512_storeu_ps(x + i, v);
      }
      acc = _mm512_add_ps(acc, _mm512_mul_ps(v, v));
    }
    if (tm && d) _mm512_mask_storeu_ps(x + dv, tm, _mm512_add_ps(_mm512_maskz_loadu_ps(tm, x + dv), _mm512_maskz_loadu_ps(tm, d + dv)));
    float lane[16];
    _mm512_storeu_ps(lane, acc);
    float ss = 0.0f;
    for (int j = 0; j < 16; j++) ss += lane[j];
    for (int64_t i = dv; i < dim; i++) ss += x[i] * x[i];
    const float inv = (float)(1.0 / sqrt((double)(ss / (float)dim) + (double)a->eps));
    const __m512 vi = _mm512_set1_ps(inv);
    for (int64_t i = 0; i < dv; i += 16)
      _mm512_storeu_ps(o + i, _mm512_mul_ps(_mm512_loadu_ps(a->w + i), _mm512_mul_ps(vi, _mm512_loadu_ps(x + i))));
    if (tm)
      _mm512_mask_storeu_ps(o + dv, tm, _mm512_mul_ps(_mm512_maskz_loadu_ps(tm, a->w + dv), _mm512_mul_ps(vi, _mm512_maskz_loadu_ps(tm, x + dv))));
  }
}

static void swiglu_avx512(float *gate, const float *up, int64_t i0, int64_t i1) {
  for (int64_t i = i0; i < i1; i += 16) {
    const __mmask16 m = tail_mask(i1 - i > 16 ? 16 : (int)(i1 - i));
    const __m512 x = _mm512_maskz_loadu_ps(m, gate + i);
    const __m512 e = exp512(_mm512_sub_ps(_mm512_setzero_ps(), x));
    const __m512 y = _mm512_mul_ps(_mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), e)), _mm512_maskz_loadu_ps(m, up + i));
    _mm512_mask_storeu_ps(gate + i, m, y);
  }
}

/* ---------------- bf16 activations, M > 4: vdpbf16ps panel (AVX512_BF16) ---------------- */

#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

/* y[m0 .. m0+16*MV)[nb .. nb+RN) = W[RN][K] * X over K pairs: W rows as bf16 pairs (wp, ldw words apart), the packed
 * xtb tile (one word per (pair, m)); each vdpbf16ps adds w[2p]*x[2p] + w[2p+1]*x[2p+1] to 16 fp32 sums */
static inline __attribute__((always_inline)) BF16_TARGET void micro_bf16(const qg_call *c, const uint32_t *wp, int ldw,
    const uint32_t *xtb, int nb, int m0, int np, const int RN, const int MV) {
  const int ldt = MV * 16;
  __m512 acc[12][2];
  for (int r = 0; r < RN; r++)
    for (int v = 0; v < MV; v++) acc[r][v] = _mm512_setzero_ps();
  for (int p = 0; p < np; p++) {
    const uint32_t *xr = xtb + (int64_t)p * ldt;
    const __m512bh x0 = (__m512bh)_mm512_loadu_si512(xr);
    const __m512bh x1 = MV > 1 ? (__m512bh)_mm512_loadu_si512(xr + 16) : x0;
    for (int r = 0; r < RN; r++) {
      const __m512bh w = (__m512bh)_mm512_set1_epi32((int)wp[(int64_t)r * ldw + p]);
      acc[r][0] = _mm512_dpbf16_ps(acc[r][0], w, x0);
      if (MV > 1) acc[r][1] = _mm512_dpbf16_ps(acc[r][1], w, x1);
    }
  }
  store_tile(c, acc, nb, m0, RN, MV);
}

#define MICRO_BF16_CASE(RN_, MV_) \
  case RN_: micro_bf16(c, wp, ldw, xtb, nb, m0, np, RN_, MV_); break;

static BF16_TARGET void micro_bf16_any(const qg_call *c, const uint32_t *wp, int ldw, const uint32_t *xtb, int nb, int m0,
                                       int np, int rn, int mv) {
  PANEL_TILES(MICRO_BF16_CASE, rn, mv)
}
#undef MICRO_BF16_CASE

/* PR rows dequantized exactly to fp32, converted to bf16 pairs (vcvtne2ps2bf16 rounds to nearest even), then the
 * register-blocked micro-kernel over every 32-wide M tile of xtb. */
static BF16_TARGET void panel_bf16_avx512(const qg_call *c, int n0, int n1, int thread) {
  const int mpad = c->mpad, K = c->k, kp2 = c->kpad / 2, np = (K + 1) / 2, ldp = panel_ld(kp2);
  float *wb = qg_scratch(thread, 0, (size_t)c->kpad * sizeof(float));
  uint32_t *wp = qg_scratch(thread, 1, (size_t)PR * ldp * sizeof(uint32_t));
  if (!wb || !wp) return;
  const __m512 tab = qg_is4(c->fmt) ? level_table(c->fmt) : _mm512_setzero_ps();
  for (int nb = n0; nb < n1; nb += PR) {
    const int nr = n1 - nb < PR ? n1 - nb : PR;
    for (int r = 0; r < nr; r++) {
      dequant_exact(c, nb + r, 0, K, wb, tab);
      for (int kk = K; kk < c->kpad; kk++) wb[kk] = 0.0f;
      uint32_t *dst = wp + (int64_t)r * ldp;
      for (int kk = 0; kk < c->kpad; kk += 32)
        _mm512_storeu_si512(dst + kk / 2, (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(wb + kk + 16), _mm512_loadu_ps(wb + kk)));
    }
    for (int m0 = 0; m0 < mpad; m0 += 32) {
      const int mv = mpad - m0 >= 32 ? 2 : 1;
      const uint32_t *xtb = c->xtb + (int64_t)m0 * kp2;
      const int tr = mv == 2 ? 6 : 12;
      for (int r = 0; r < nr; r += tr) {
        const int rn = nr - r < tr ? nr - r : tr;
        micro_bf16_any(c, wp + (int64_t)r * ldp, ldp, xtb, nb + r, m0, np, rn, mv);
      }
    }
  }
}

/* 2^(j/16), j = 0..15, each the nearest double (constants, not computed at load: a constructor in this file would be
 * compiled for AVX-512 and run on every CPU that loads the library) */
static const double qg_exp2_16[16] __attribute__((aligned(64))) = {
    0x1.0000000000000p+0, 0x1.0b5586cf9890fp+0, 0x1.172b83c7d517bp+0, 0x1.2387a6e756238p+0,
    0x1.306fe0a31b715p+0, 0x1.3dea64c123422p+0, 0x1.4bfdad5362a27p+0, 0x1.5ab07dd485429p+0,
    0x1.6a09e667f3bcdp+0, 0x1.7a11473eb0187p+0, 0x1.8ace5422aa0dbp+0, 0x1.9c49182a3f090p+0,
    0x1.ae89f995ad3adp+0, 0x1.c199bdd85529cp+0, 0x1.d5818dcfba487p+0, 0x1.ea4afa2a490dap+0};

/* e^x in double for x <= 0 (x NaN gives NaN; below -746 gives 0): x = n ln2/16 + r with |r| <= ln2/32, ln2/16 in two
 * parts so that n * hi is exact; e^r - 1 by its Taylor polynomial to r^7 (the next term, r^8/8!, is at most 1.2e-18);
 * 2^(n/16) = 2^floor(n/16) * table[n & 15], the power of two by vscalefpd (a subnormal result is rounded twice: by the
 * last multiply-add, then by the scaling). Within 2 ulp of the exact value over the range (self-test: against expl). */
AI __m512d exp_pd(__m512d x) {
  x = _mm512_max_pd(_mm512_set1_pd(-746.0), x); /* vmaxpd returns the second operand when either is NaN */
  const __m512d n = _mm512_roundscale_pd(_mm512_mul_pd(x, _mm512_set1_pd(23.083120654223414)), /* 16 / ln 2 */
                                         _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512d r = _mm512_fnmadd_pd(n, _mm512_set1_pd(0.043321698787622154), x); /* ln2/16 to 32 bits: n * hi exact */
  r = _mm512_fnmadd_pd(n, _mm512_set1_pd(-2.625571920425678e-12), r); /* ln2/16 - hi */
  __m512d p = _mm512_set1_pd(1.0 / 5040);
  p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(1.0 / 720));
  p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(1.0 / 120));
  p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(1.0 / 24));
  p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(1.0 / 6));
  p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(0.5));
  p = _mm512_mul_pd(_mm512_mul_pd(p, r), r);
  p = _mm512_add_pd(p, r); /* e^r - 1 */
  const __m512i j = _mm512_and_si512(_mm512_cvtepi32_epi64(_mm512_cvtpd_epi32(n)), _mm512_set1_epi64(15));
  const __m512d t = _mm512_permutex2var_pd(_mm512_load_pd(qg_exp2_16), j, _mm512_load_pd(qg_exp2_16 + 8));
  const __m512d m = _mm512_roundscale_pd(_mm512_mul_pd(n, _mm512_set1_pd(1.0 / 16)), _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  return _mm512_scalef_pd(_mm512_fmadd_pd(t, p, t), m);
}

/* qg_sum_exp: 8 doubles a step, two sums (lanes added in order at the end), the tail masked */
static double sum_exp_avx512(const float *x, int64_t n, double shift, double *exps) {
  const __m512d vs = _mm512_set1_pd(shift);
  __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512d e0 = exp_pd(_mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(x + i)), vs));
    const __m512d e1 = exp_pd(_mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(x + i + 8)), vs));
    if (exps) { _mm512_storeu_pd(exps + i, e0); _mm512_storeu_pd(exps + i + 8, e1); }
    s0 = _mm512_add_pd(s0, e0);
    s1 = _mm512_add_pd(s1, e1);
  }
  for (; i < n; i += 8) {
    const __mmask8 m = n - i >= 8 ? (__mmask8)0xff : (__mmask8)((1u << (n - i)) - 1);
    const __m512d e = _mm512_maskz_mov_pd(m, exp_pd(_mm512_sub_pd(_mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, x + i)), vs)));
    if (exps) _mm512_mask_storeu_pd(exps + i, m, e);
    s0 = _mm512_add_pd(s0, e);
  }
  double lanes[8];
  _mm512_storeu_pd(lanes, _mm512_add_pd(s0, s1));
  double sum = 0;
  for (int k = 0; k < 8; k++) sum += lanes[k];
  return sum;
}

/* ---- KV store, RoPE ---- */

/* One kv head's rows into the transposed cache: 16 positions of one dim gathered from 16 source rows and stored as
 * one vector (the portable loop stores every float apart: ~3 cycles each); positions past a multiple of 16 with the
 * mask. A copy, so the same bits as every tier. The dispatcher calls it for 16 positions or more and sources less
 * than 2^31 / 16 floats apart (int32 gather indices). */
static void kv_store_head_avx512(const float *src, int64_t rows, int64_t ld, int hs, float *dst, int64_t ld_dst) {
  const __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                         _mm512_set1_epi32((int)ld));
  for (int64_t t = 0; t < rows; t += 16) {
    const __mmask16 m = tail_mask(rows - t >= 16 ? 16 : (int)(rows - t));
    const float *s = src + t * ld;
    for (int i = 0; i < hs; i++)
      _mm512_mask_storeu_ps(dst + (int64_t)i * ld_dst + t, m,
                            _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx, s + i, 4));
  }
}

/* RoPE of rows [r0, r1), head sizes whose pattern a vector holds whole or in 16-lane pieces: style 0 (pairs 2i, 2i+1)
 * when hs divides 16 or 16 divides hs, style 1 (pairs i, i + hs/2) when hs divides 16 or 32 divides hs; other sizes
 * take the portable loop (qg_rope_rows_avx512g). Each row's cos and sin are spread over the lanes once, with the
 * sign of the pair's first element's sin term folded in: x' = x cos + partner(x) sin', one permute, one multiply and
 * one multiply-add a vector, where the compiled portable loop of stories260K's 4 pairs a head was scalar. */
static void rope_rows_avx512(const qg_rope_args *a, int64_t r0, int64_t r1) {
  const int hs = a->hs, half = hs / 2, small = 16 % hs == 0;
  if (!(small || (a->style == 0 ? hs % 16 == 0 : hs % 32 == 0)) || hs > 256) {
    qg_rope_rows_avx512g(a, r0, r1);
    return;
  }
  const int width = a->n_heads * hs;
  __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  if (small) lane = _mm512_and_si512(lane, _mm512_set1_epi32(hs - 1)); /* lane's place in its head */
  /* style 0: table index (place)/2, partner place^1, sin negated on even places; style 1: index place mod half,
   * partner place +- half, sin negated on the first half */
  const __m512i first = a->style == 0 ? _mm512_and_si512(lane, _mm512_set1_epi32(1))
                                      : _mm512_and_si512(lane, _mm512_set1_epi32(half)); /* 0 where negated */
  const __mmask16 neg = _mm512_cmpeq_epi32_mask(first, _mm512_setzero_si512());
  const __m512i tix = a->style == 0 ? _mm512_srli_epi32(lane, 1) : _mm512_and_si512(lane, _mm512_set1_epi32(half - 1));
  const __m512i base = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i partner = small ? (a->style == 0 ? _mm512_xor_si512(base, _mm512_set1_epi32(1))
                                                 : _mm512_xor_si512(base, _mm512_set1_epi32(half)))
                                : _mm512_xor_si512(base, _mm512_set1_epi32(1)); /* style 0, hs % 16 == 0 */
  const __m512 sign = _mm512_castsi512_ps(_mm512_maskz_mov_epi32(neg, _mm512_set1_epi32((int)0x80000000u)));
  for (int64_t r = r0; r < r1; r++) {
    float *x = a->x + r * a->ldx;
    const float *c = a->cos + (a->start + r) * half, *sn = a->sin + (a->start + r) * half;
    if (small) {
      const __mmask16 hm = tail_mask(half);
      const __m512 cv = _mm512_permutexvar_ps(tix, _mm512_maskz_loadu_ps(hm, c));
      const __m512 sv = _mm512_xor_ps(_mm512_permutexvar_ps(tix, _mm512_maskz_loadu_ps(hm, sn)), sign);
      for (int i = 0; i < width; i += 16) {
        const __mmask16 m = tail_mask(width - i);
        const __m512 v = _mm512_maskz_loadu_ps(m, x + i);
        _mm512_mask_storeu_ps(x + i, m, _mm512_fmadd_ps(v, cv, _mm512_mul_ps(_mm512_permutexvar_ps(partner, v), sv)));
      }
    } else if (a->style == 0) { /* 16 lanes = 8 pairs, tables 8 floats a piece */
      __m512 cv[16], sv[16];
      for (int j = 0; j < hs / 16; j++) {
        cv[j] = _mm512_permutexvar_ps(tix, _mm512_castps256_ps512(_mm256_loadu_ps(c + 8 * j)));
        sv[j] = _mm512_xor_ps(_mm512_permutexvar_ps(tix, _mm512_castps256_ps512(_mm256_loadu_ps(sn + 8 * j))), sign);
      }
      for (int h = 0; h < a->n_heads; h++)
        for (int j = 0; j < hs / 16; j++) {
          float *p = x + (int64_t)h * hs + 16 * j;
          const __m512 v = _mm512_loadu_ps(p);
          _mm512_storeu_ps(p, _mm512_fmadd_ps(v, cv[j], _mm512_mul_ps(_mm512_permutexvar_ps(partner, v), sv[j])));
        }
    } else { /* style 1, 32 | hs: the two halves' vectors pair lane by lane */
      for (int h = 0; h < a->n_heads; h++)
        for (int j = 0; j < half; j += 16) {
          float *p = x + (int64_t)h * hs + j;
          const __m512 cv = _mm512_loadu_ps(c + j), sv = _mm512_loadu_ps(sn + j);
          const __m512 lo = _mm512_loadu_ps(p), hi = _mm512_loadu_ps(p + half);
          _mm512_storeu_ps(p, _mm512_fmsub_ps(lo, cv, _mm512_mul_ps(hi, sv)));
          _mm512_storeu_ps(p + half, _mm512_fmadd_ps(hi, cv, _mm512_mul_ps(lo, sv)));
        }
    }
  }
}

const qg_kernels qg_kernels_avx512 = {prep_q8_row_avx512, direct_f32_avx512, panel_f32_avx512, q8_avx512,
                                      softmax_rows_avx512, attention_avx512, swiglu_avx512, 1, NULL,
                                      nt_pack_avx512, nt_tile_avx512, add_rmsnorm_rows_avx512,
                                      rope_rows_avx512, sum_exp_avx512, kv_store_head_avx512,
                                      attention_group_avx512, 1};
/* the avx512 tier, plus vdpbf16ps for bf16-activation GEMMs with M > 4 (chosen only where the CPU has AVX512_BF16) */
const qg_kernels qg_kernels_avx512bf16 = {prep_q8_row_avx512, direct_f32_avx512, panel_f32_avx512, q8_avx512,
                                          softmax_rows_avx512, attention_avx512, swiglu_avx512, 1, panel_bf16_avx512,
                                          nt_pack_avx512, nt_tile_avx512, add_rmsnorm_rows_avx512,
                                      rope_rows_avx512, sum_exp_avx512, kv_store_head_avx512,
                                      attention_group_avx512, 1};
