/* Internal structures shared by the dispatch layer and the per-ISA kernel files. */
#ifndef QG_INTERNAL_H
#define QG_INTERNAL_H
#include "quantgate.h"
#include <math.h>
#include <string.h>

#define QG_KPAD 128      /* K is padded to this in prepared activations */
#define QG_ABLOCK 32     /* int8 activation block */
#define QG_DIRECT_MAX_M 4 /* M above this uses the panel GEMM (fp32) / blocked q8 kernel */
#define QG_NT_MAX_K 512  /* fp32 GEMMs with K up to this and enough rows (nt_applies) take the small-K panel (nt_pack) */
#define QG_NT_W 64       /* weight rows per small-K panel */

typedef struct qg_kernels qg_kernels;

/* Everything a row-range kernel needs; prepared once per call by qg_dispatch.c. */
typedef struct {
  const qg_kernels *kern;
  int fmt, act, n, k, group, ngroups;
  int gshift; /* group index of K index kk is kk >> gshift (31 for per-row groups) */
  const uint8_t *codes;
  int64_t row_bytes;
  const uint16_t *scales;
  const uint8_t *zeros;
  int m;
  const float *x;
  int64_t ldx;
  float *y;
  int64_t ldy;
  int kpad, nblocks, mpad;
  /* int8 activations */
  const int8_t *xq;     /* [m][kpad] natural K order, zero padded */
  const int8_t *xq_il;  /* [m][kpad] 4-bit order: per 128 chunk, 64 even-k then 64 odd-k */
  const uint8_t *xq_u;  /* [m][kpad] int8 weights, M = 1: xq ^ 0x80 (q + 128 as unsigned bytes), so the long-K GEMV
                           multiplies it with the signed codes and takes 128 x (sum of the codes) off exactly */
  const float *sx;      /* [m][nblocks] block scales */
  const int32_t *xsum;  /* [m][nblocks] sum of q over the block */
  const float *gxs;     /* [m][ngroups] sum over the group of sx * q: the offset / zero-point term */
  const float *lane_sx; /* [m][kpad/lanew] activation block scale of each 32-bit dot lane */
  int lanew;            /* K values per dot lane: 8 for 4-bit, 4 for int8 */
  const int32_t *lane_oxs; /* [m][kpad/lanew] -off x (sum of the lane's int8 activations): where a dot lane's
                              integer sum starts, so the format's constant offset is subtracted exactly inside the
                              dot product (int8, int4s, fp4, nf4; NULL for int4, whose zero points vary per group) */
  const int16_t *lane_xs16; /* [m][kpad/lanew] 4-bit formats, set with lane_oxs at half its bytes: the long-K GEMV's
                               exact lane offsets. For off <= QG_X16_MAX_OFF (int4s 8, fp4 12) lane_oxs itself (|.| <=
                               16 x 8 x 127 fits 16 bits); otherwise (nf4 127) -(the lane's sum of q), |.| <= 8 x 127 */
  /* fp32 activations */
  const float *x_w8;    /* [m][kpad] per 128-chunk: x[8i+j] at 16j+i, i.e. lane i = packed word i (4-bit direct) */
  const float *gsum;    /* [m][ngroups] sum of x over each group (int4 zero correction) */
  const float *xt;      /* transposed activations, packed per 32-wide M tile: see qg_xt_at (panel GEMM) */
  const uint32_t *xtb;  /* bf16 activations for vdpbf16ps: like xt, over K pairs, each word (x[2p], x[2p+1]) */
  float *wt;            /* small-K panel GEMM: weights dequantized and transposed, [panel][K][QG_NT_W] */
  /* prepacked 16-row panels (qg_pack_panels), or NULL: panel p at panels + p * panel_stride, laid out as
   * qg_r16_layout (below) describes */
  const uint8_t *panels;
  int64_t panel_stride;
} qg_call;
#define QG_X16_MAX_OFF 16

/* words of a 16-row panel: whole 32-blocks of K, 8 values per word (4-bit) or 4 (int8), padded to 16 words */
static inline int64_t qg_r16_words(int fmt, int k) {
  const int64_t kpw = fmt >= QG_FMT_INT4 ? 8 : 4, nb = ((int64_t)k + 31) / 32;
  return (nb * 32 / kpw + 15) / 16 * 16;
}

/* Prepacked 16-row panels (qg_pack_panels), one every qg_r16_panel_bytes: a panel is a run of units in the order
 * the kernel reads them, so decode streams it forward as one sequence (the earlier layout, all words and then all
 * scales 16 KiB further on, read from DRAM at ~0.6 of the rate of this single stream; docs/kernels.md). A unit covers
 * `gpu` groups of K (2; int4 4): a header (`hb` bytes: the groups' fp16 scales of the 16 rows, 32 bytes a group; int4
 * then the groups' zero points, 16 bytes a group — 64 or 192 bytes, whole cache lines) and then the words of the
 * unit's 32-blocks, block after block, `wbb` bytes a block: 4 (4-bit) or 8 (int8) words of the 16 rows, 64 bytes a
 * word ([word][row], word w of a row = its bytes 4w..4w+3; int8 stored as u = code ^ 0x80, int4s as u = code ^ 8 in
 * each nibble, so the 4-bit decode GEMV takes int4 and int4s nibbles with a mask, no table). Only the last group of a
 * row can be short (K not a multiple of the group), so every unit but the last is `ub` bytes. Missing rows of the last
 * panel are code 0, scale 0 and zero point 0; bytes past a row's end are code 0 (stored 0; int4s 0x88, int8 0x80). */
typedef struct {
  int nb, ngroups; /* 32-blocks and groups of a row */
  int gb;          /* blocks per group (per-row groups: nb) */
  int gpu, gpu_log2; /* groups per unit (a power of two: the offsets below shift, not divide) */
  int ushift;      /* block b lies in unit b >> ushift (gpu x gb blocks a unit; per-row groups: 30, one unit: nb < 2^23) */
  int64_t wbb, hb, ub;
} qg_r16_layout;
static inline qg_r16_layout qg_r16_layout_of(int fmt, int k, int group) {
  qg_r16_layout l;
  l.nb = (k + 31) / 32;
  l.ngroups = (k + group - 1) / group;
  l.gb = group >= k ? l.nb : group / 32;
  l.gpu = fmt == QG_FMT_INT4 ? 4 : 2;
  l.gpu_log2 = fmt == QG_FMT_INT4 ? 2 : 1;
  l.ushift = 30;
  if (group < k)
    for (l.ushift = 1; (1 << l.ushift) < l.gpu * l.gb; l.ushift++) {}
  l.wbb = fmt == QG_FMT_INT8 ? 512 : 256;
  l.hb = fmt == QG_FMT_INT4 ? 192 : 64;
  l.ub = l.hb + (int64_t)l.gpu * l.gb * l.wbb;
  return l;
}
/* bytes of one panel: full units, then the last one's header and its blocks */
static inline int64_t qg_r16_panel_bytes(const qg_r16_layout *l) {
  const int64_t units = (l->ngroups + l->gpu - 1) / l->gpu;
  return (units - 1) * l->ub + l->hb + (l->nb - (units - 1) * l->gpu * (int64_t)l->gb) * l->wbb;
}
/* byte offsets in a panel: group gi's 16 fp16 scales, its 16 int4 zero points, the first word of its first block */
static inline int64_t qg_r16_scales_at(const qg_r16_layout *l, int gi) {
  return (int64_t)(gi >> l->gpu_log2) * l->ub + 32 * (gi & (l->gpu - 1));
}
static inline int64_t qg_r16_zeros_at(const qg_r16_layout *l, int gi) {
  return (int64_t)(gi >> l->gpu_log2) * l->ub + 32 * l->gpu + 16 * (gi & (l->gpu - 1));
}
static inline int64_t qg_r16_group_words_at(const qg_r16_layout *l, int gi) {
  return (int64_t)(gi >> l->gpu_log2) * l->ub + l->hb + (int64_t)(gi & (l->gpu - 1)) * l->gb * l->wbb;
}

typedef void (*qg_rows_fn)(const qg_call *c, int n0, int n1, int thread);

/* Arguments of qg_attention, checked by the dispatcher. */
typedef struct {
  int t_total, n_heads, n_kv_heads, hs, start;
  const float *q;
  int64_t ldq;
  const float *kt, *vt;
  int64_t kv_head_stride, ld_kv;
  float scale;
  float *out;
  int64_t ldo;
} qg_attention_args;

/* Arguments of qg_add_rmsnorm and qg_rope, checked by the dispatcher. */
typedef struct {
  float *x;
  int64_t ldx;
  const float *delta;
  int64_t ldd;
  float *out;
  int64_t ldo;
  const float *w;
  int64_t dim;
  float eps;
} qg_norm_args;

typedef struct {
  float *x;
  int64_t ldx;
  int n_heads, hs, start, style;
  const float *cos, *sin;
} qg_rope_args;

/* heads of one kv group a decode step's attention task takes at most (attention_group) */
#define QG_ATT_GROUP_HEADS 8

struct qg_kernels {
  void (*prep_q8_row)(const qg_call *c, int m, int thread); /* fills xq, sx, xsum, lanes of row m */
  qg_rows_fn direct_f32; /* M <= QG_DIRECT_MAX_M, fp32 activations */
  qg_rows_fn panel_f32;  /* M >  QG_DIRECT_MAX_M, fp32 activations */
  qg_rows_fn q8;         /* int8 activations, any M */
  void (*softmax_rows)(float *att, int r0, int r1, int64_t ld, int first_len, float scale);
  void (*attention_rows)(const qg_attention_args *a, int h, int t0, int t1, int thread);
  void (*swiglu_range)(float *gate, const float *up, int64_t i0, int64_t i1);
  int needs_il;          /* wants xq_il / x_w8 */
  qg_rows_fn panel_bf16; /* M > 4, bf16 activations, on vdpbf16ps (reads xtb); NULL: the fp32 paths on rounded values */
  /* fp32 activations, K <= QG_NT_MAX_K, M large enough (nt_applies; NULL: panel_f32): weight rows of one panel dequantized
   * into wt once per call, then y[m0 .. m1) x the panel's rows with lanes over weight rows, activations read in place */
  void (*nt_pack)(const qg_call *c, int panel);
  void (*nt_tile)(const qg_call *c, int m0, int m1, int panel);
  void (*add_rmsnorm_rows)(const qg_norm_args *a, int64_t r0, int64_t r1);
  void (*rope_rows)(const qg_rope_args *a, int64_t r0, int64_t r1);
  /* sum of exp((double)x[i] - shift), each term to exps[i] when exps is not NULL (quantgate.h: qg_sum_exp); NULL: the
   * portable loop over libm's exp */
  double (*sum_exp)(const float *x, int64_t n, double shift, double *exps);
  /* kv head g of qg_kv_store's rows, transposed into the cache (a copy: every tier writes the same bits), for rows >= 16
   * and ld <= INT32_MAX / 16; NULL or other sizes: the dispatcher's portable loop */
  void (*kv_store_head)(const float *src, int64_t rows, int64_t ld, int hs, float *dst, int64_t ld_dst);
  /* one query (t_total 1) for heads h1 .. h1 + count - 1 of kv group g (count <= QG_ATT_GROUP_HEADS) as one block;
   * NULL: a task per head (attention_rows) */
  void (*attention_group)(const qg_attention_args *a, int g, int h1, int count, int thread);
  int reads_panels; /* q8 reads prepacked 16-row panels (c->panels); 0: it ignores them (the read-ahead skips them too) */
};

/* per-thread scratch, grown on demand (thread = pool slot); NULL when that fails, and the call then returns QG_ENOMEM */
void *qg_scratch(int thread, int slot, size_t bytes);
/* test hook (the C self-test): when not 0, qg_scratch refuses requests of more bytes, as a failed allocation would */
extern size_t qg_scratch_limit;
/* test hook (x86-64, AVX-512 tiers): attention's softmax exp, argument d = (s - max) 32/ln2 <= 0, y ~ exp(d ln2/32) */
void qg_attention_exp_avx512(const float *d, float *y, int n);

extern const qg_kernels qg_kernels_scalar;
extern const qg_kernels qg_kernels_avx2;
extern const qg_kernels qg_kernels_avx512;
extern const qg_kernels qg_kernels_neon;
extern const qg_kernels qg_kernels_neon_dotprod;
extern const qg_kernels qg_kernels_avx512g;
/* the generic row loops built for AVX-512, which the hand-written AVX-512 tiers reuse */
void qg_add_rmsnorm_rows_avx512g(const qg_norm_args *a, int64_t r0, int64_t r1);
void qg_rope_rows_avx512g(const qg_rope_args *a, int64_t r0, int64_t r1);
extern const qg_kernels qg_kernels_avx512bf16;

/* tables */
extern const float qg_fp4_levels[16];
extern const float qg_nf4_levels[16];
extern const int8_t qg_nf4_q8[16];

static inline float qg_h2f(uint16_t h) {
  uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
  if (exp == 0) {
    if (man == 0) { bits = sign; }
    else { /* subnormal */
      float f = (float)man * (1.0f / 16777216.0f); /* man * 2^-24 */
      memcpy(&bits, &f, 4); bits |= sign;
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (man << 13);
  } else {
    bits = sign | ((exp + 112) << 23) | (man << 13);
  }
  float out; memcpy(&out, &bits, 4); return out;
}
static inline float qg_bf2f(uint16_t h) {
  uint32_t bits = (uint32_t)h << 16; float out; memcpy(&out, &bits, 4); return out;
}
static inline int qg_is4(int fmt) { return fmt >= QG_FMT_INT4; }

/* fp32 -> the nearest bf16 (ties to even), as an fp32 value; NaN stays a (quiet) NaN, infinities stay */
static inline float qg_bf16_round(float f) {
  uint32_t b;
  memcpy(&b, &f, 4);
  if ((b & 0x7fffffffu) > 0x7f800000u) b |= 0x00400000u; /* NaN: quiet, keep the top bits */
  else b += 0x7fffu + ((b >> 16) & 1u);
  b &= 0xffff0000u;
  float out; memcpy(&out, &b, 4); return out;
}
static inline uint16_t qg_bf16_bits(float f) {
  const float r = qg_bf16_round(f);
  uint32_t b; memcpy(&b, &r, 4); return (uint16_t)(b >> 16);
}

/* Panel GEMM activations: M is cut into tiles of 32 (the last may be 16 wide); each tile is stored
 * [kpad][width] contiguously so the micro-kernel reads it sequentially (a [K][M] layout with a
 * large M puts consecutive K rows 2 KiB apart, into the same few L1 sets). */
static inline int qg_xt_width(int mpad, int m0) { return mpad - (m0 & ~31) >= 32 ? 32 : mpad - (m0 & ~31); }
static inline int64_t qg_xt_index(int kpad, int mpad, int kk, int mm) {
  const int t0 = mm & ~31;
  return (int64_t)t0 * kpad + (int64_t)kk * qg_xt_width(mpad, t0) + (mm - t0);
}

/* value of a 4-bit code before scaling, fp32 path */
static inline float qg_level4(int fmt, int q) {
  switch (fmt) {
    case QG_FMT_INT4: return (float)q;
    case QG_FMT_INT4S: return (float)((q ^ 8) - 8);
    case QG_FMT_FP4: return qg_fp4_levels[q];
    default: return qg_nf4_levels[q];
  }
}
/* u (unsigned byte operand) and offset of the int8 path, see docs/formats.md */
static inline int qg_u4(int fmt, int q) {
  switch (fmt) {
    case QG_FMT_INT4: return q;
    case QG_FMT_INT4S: return q ^ 8;
    case QG_FMT_FP4: return (int)(2.0f * qg_fp4_levels[q]) + 12;
    default: return qg_nf4_q8[q] + 127;
  }
}
static inline int qg_off(int fmt) {
  switch (fmt) {
    case QG_FMT_INT8: return 128;
    case QG_FMT_INT4S: return 8;
    case QG_FMT_FP4: return 12;
    case QG_FMT_NF4: return 127;
    default: return 0; /* int4: per-group zero */
  }
}

/* lane_xs16 of row mm from its lane_oxs (see the field), by the generic prep; the AVX-512 prep writes the same bytes
 * in vectors */
static inline void qg_prep_lane_xs16(const qg_call *c, int mm) {
  if (c->lane_xs16) {
    const int nl = c->kpad / c->lanew, off = qg_off(c->fmt);
    const int32_t *ox = c->lane_oxs + (int64_t)mm * nl;
    int16_t *x16 = (int16_t *)c->lane_xs16 + (int64_t)mm * nl;
    /* a constant divisor (nf4 127, the only 4-bit offset above QG_X16_MAX_OFF) compiles to a multiply and shifts; a
     * division by the variable off cost more than the GEMV itself at K = 14336 */
    if (off <= QG_X16_MAX_OFF) for (int l = 0; l < nl; l++) x16[l] = (int16_t)ox[l];
    else for (int l = 0; l < nl; l++) x16[l] = (int16_t)(ox[l] / 127); /* nf4; a new format's offset needs a case here
                                                                            and in the GEMV's lane_offsets */
  }
}

/* xq_u of row mm from its xq, by the generic prep; the AVX-512 prep writes the same bytes in vectors */
static inline void qg_prep_xq_u(const qg_call *c, int mm) {
  if (!c->xq_u) return;
  const int8_t *xq = c->xq + (int64_t)mm * c->kpad;
  uint8_t *xu = (uint8_t *)c->xq_u + (int64_t)mm * c->kpad;
  for (int k = 0; k < c->kpad; k++) xu[k] = (uint8_t)xq[k] ^ 0x80u;
}

/* The end of every tier's int8 activation prep, from the row's block scales and sums (the same bytes on every tier):
 * per group the sum of sx x sum(q) that kernels applying offsets once per row use */
static inline void qg_prep_block_terms(const qg_call *c, int mm) {
  const int nb = c->nblocks;
  const float *sx = c->sx + (int64_t)mm * nb;
  const int32_t *xs = c->xsum + (int64_t)mm * nb;
  if (c->gxs) {
    float *gx = (float *)c->gxs + (int64_t)mm * c->ngroups;
    for (int gi = 0; gi < c->ngroups; gi++) gx[gi] = 0.0f;
    for (int b = 0; b < nb; b++) gx[(b * QG_ABLOCK) >> c->gshift] += sx[b] * (float)xs[b];
  }
}
static inline float qg_seff_mul(int fmt) {
  switch (fmt) {
    case QG_FMT_FP4: return 0.5f;
    case QG_FMT_NF4: return 1.0f / 127.0f;
    default: return 1.0f;
  }
}
static inline int qg_code4(const uint8_t *row, int kk) {
  return (row[kk >> 1] >> ((kk & 1) * 4)) & 0xf;
}
#endif
