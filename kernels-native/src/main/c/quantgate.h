/*
 * QuantGate native kernels: fused dequantize-GEMV/GEMM for the weight formats of docs/formats.md.
 * y[m][n] = sum_k x[m][k] * W[n][k]   (W stored [N out][K in], grouped along K).
 *
 * Java (io.quantgate.kernels.nativeimpl.NativeKernels) checks every size and pointer before it
 * calls in; the checks here are a second line of defence that return QG_EINVAL, never crash.
 * Calls are serialized by one process-wide lock (one thread pool, one workspace), except calls from lanes
 * (qg_lane_begin below).
 */
#ifndef QUANTGATE_H
#define QUANTGATE_H
#include <stddef.h>
#include <stdint.h>

#define QG_FMT_FP32 0
#define QG_FMT_FP16 1
#define QG_FMT_BF16 2
#define QG_FMT_INT8 3
#define QG_FMT_INT4 4
#define QG_FMT_INT4S 5
#define QG_FMT_FP4 6
#define QG_FMT_NF4 7
#define QG_FMT_COUNT 8

#define QG_ACT_F32 0 /* fp32 activations */
#define QG_ACT_Q8 1  /* activations quantized to int8 per block of 32 */
#define QG_ACT_BF16 2 /* activations and dequantized weights rounded to bf16 (nearest even), products summed in fp32 */

#define QG_OK 0
#define QG_EINVAL (-1)
#define QG_ENOMEM (-2)
#define QG_EUNSUPPORTED (-3)

#define QG_ISA_SCALAR 0
#define QG_ISA_AVX2 1
#define QG_ISA_AVX512 2
#define QG_ISA_NEON 3 /* aarch64: the portable kernels compiled for Advanced SIMD (baseline on every AArch64 core) */
#define QG_ISA_AVX512BF16 4 /* avx512 plus AVX512_BF16: bf16-activation GEMMs (M > 4) on vdpbf16ps */
#define QG_ISA_NEON_DOTPROD 5 /* aarch64 with FEAT_DotProd: neon plus an sdot kernel for int8 activations */
#define QG_ISA_COUNT 6

/* group: effective group size in K units (1 <= group <= k; group == k means per row). zeros (int4 only): one byte
 * per row and group, 0..15 as SPEC §1 defines them; a larger byte is not an int4 zero point, and the kernels'
 * results for it are unspecified (memory-safe; qg_pack_panels rejects it, qg_gemm does not scan every call's zero
 * points — the Java side checks them once, where a matrix is made). */
int qg_gemm(int fmt, int act, int n, int k, int group,
            const void *codes, const uint16_t *scales, const uint8_t *zeros,
            int m, const float *x, int64_t ldx, float *y, int64_t ldy);

/* Prepacked weights for int8-activation GEMMs. The AVX-512 tiers run GEMMs with M > 4 on 16-row panels whose
 * 32-bit words are transposed ([word][row]), with each pair of groups' fp16 scales (int4: four groups' scales and zero
 * points) just before their words, so that a panel is read front to back as one stream (qg_internal.h: qg_r16_layout);
 * qg_gemm builds the words of each panel on every call, a cost that only many activation rows amortize. qg_panels_bytes
 * is the size of that layout for a whole quantized matrix (0 for dense formats or sizes qg_gemm rejects; about the
 * bytes of the codes, scales and zero points: N padded to 16 rows, K to 32, and each unit's header to whole cache lines,
 * 64 or 192 bytes, which a matrix with few groups a row leaves partly empty), qg_pack_panels writes it once (portable code, any CPU), and qg_gemm_panels is
 * qg_gemm reading it instead of transposing — for every M on the AVX-512 tiers (the other tiers read the row-major
 * codes). Results: bit-identical to qg_gemm's for M > 4; for M <= 4 on AVX-512 a different summation order than
 * qg_gemm's row kernels, within the same bound, and each row the bits of that row in a batched call of up to 32 rows
 * (int4 batches of more fold the zero points into the weights: another rounding). Decode (M = 1)
 * reads panels from DRAM faster than the row kernels read the codes — docs/kernels.md. */
int64_t qg_panels_bytes(int fmt, int n, int k, int group);
/* Prepacked weights for fp32-activation GEMMs with small K (K <= 512: stories-class models). With enough activation
 * rows the AVX-512 tiers run those GEMMs on 64-row panels of weights dequantized to fp32 and transposed
 * ([panel][k][64]), which qg_gemm builds on every call. qg_nt_bytes is their size (0 where no tier reads them: no
 * AVX-512, K > 512, bad sizes, over 64 MiB), qg_pack_nt writes them once with the per-call packing's own code, and
 * qg_gemm_nt is qg_gemm reading them where that path applies (fp32 activations, enough rows, an AVX-512 tier) and
 * qg_gemm otherwise: bit-identical to qg_gemm always. */
int64_t qg_nt_bytes(int fmt, int n, int k, int group);
int qg_pack_nt(int fmt, int n, int k, int group, const void *codes, const uint16_t *scales, const uint8_t *zeros,
               float *nt, int64_t bytes);
int qg_gemm_nt(int fmt, int act, int n, int k, int group, const void *codes, const uint16_t *scales,
               const uint8_t *zeros, const float *nt, int64_t nt_bytes, int m, const float *x, int64_t ldx, float *y,
               int64_t ldy);
int qg_pack_panels(int fmt, int n, int k, int group, const void *codes, const uint16_t *scales, const uint8_t *zeros,
                   void *panels, int64_t bytes);
int qg_gemm_panels(int fmt, int act, int n, int k, int group, const void *codes, const uint16_t *scales,
                   const uint8_t *zeros, const void *panels, int64_t panel_bytes, int m, const float *x, int64_t ldx,
                   float *y, int64_t ldy);

/* Causal softmax of attention scores, in place: row t (0 <= t < rows) of att (row stride ld floats)
 * holds first_len + t scores; they become softmax(scale * score); the rest of the row up to ld
 * becomes 0. Rows are split over the thread pool. */
int qg_softmax_causal(float *att, int rows, int64_t ld, int first_len, float scale);

/* Causal grouped-query attention of a chunk of t queries at positions start..start+t-1 over a KV
 * cache that already holds positions 0..start+t-1. Query head h (of n_heads) reads kv head
 * h / (n_heads / n_kv_heads). q: [t][ldq], head h at column h*hs; out: same layout with ldo.
 * Keys and values of kv head g are stored transposed: kt[g*kv_head_stride + i*ld_kv + p] is dim i
 * of position p (likewise vt). out = softmax(scale * q.K^T) V, causally. (head, query block) tasks
 * run over the thread pool. */
int qg_attention(int t, int n_heads, int n_kv_heads, int hs, int start, const float *q, int64_t ldq,
                 const float *kt, const float *vt, int64_t kv_head_stride, int64_t ld_kv, float scale,
                 float *out, int64_t ldo);

/* gate[r*ld + i] = silu(gate[r*ld + i]) * up[r*ld + i] for r < rows, i < n (SwiGLU), over the thread
 * pool; ld >= n lets gate and up be the two halves of one fused [rows][2n] GEMM output. */
int qg_swiglu(float *gate, const float *up, int64_t rows, int64_t n, int64_t ld);

/* Pre-norm residual step on rows r < rows of dim floats: x[r] += delta[r] when delta is not NULL, then
 * out[r] = w * x[r] / sqrt(mean(x[r]^2) + eps) (RMSNorm; the sum of squares runs in 16 interleaved partial sums,
 * added in lane order, so every tier gives the same bits). Row strides ldx, ldd, ldo; out may be x. Rows over the
 * thread pool. */
int qg_add_rmsnorm(float *x, int64_t ldx, const float *delta, int64_t ldd, float *out, int64_t ldo, const float *w,
                   int64_t rows, int64_t dim, float eps);

/* Rotary position embedding in place: row r (r < rows, stride ldx) holds n_heads heads of hs floats, at position
 * start + r; pair i (i < hs/2) turns by the angle whose cosine and sine are cos[p*hs/2 + i], sin[p*hs/2 + i]
 * (tables of `positions` positions). style 0 pairs (x[2i], x[2i+1]) (interleaved, llama2.c / Meta), style 1 pairs
 * (x[i], x[i+hs/2]) (rotate-half, Hugging Face). Rows over the thread pool. */
int qg_rope(float *x, int64_t rows, int64_t ldx, int n_heads, int hs, int start, const float *cos, const float *sin,
            int64_t positions, int style);

/* Keys or values of a chunk into a transposed KV cache (the layout qg_attention reads): row t (t < rows, stride ld)
 * of src holds n_kv_heads heads of hs floats; dim i of head g lands at dst[g*head_stride + i*ld_dst + start + t].
 * Heads over the thread pool. */
int qg_kv_store(const float *src, int64_t rows, int64_t ld, int n_kv_heads, int hs, float *dst, int64_t head_stride,
                int64_t ld_dst, int start);

/* The largest of x[0 .. n-1], NaNs skipped (-INFINITY when there is none, as for n < 1); NaN when x is NULL. Any
 * thread, no lock. */
float qg_max(const float *x, int64_t n);

/* sum over i < n of exp((double)x[i] - shift), in double; exps[i] gets each term when exps is not NULL. For
 * perplexity's log-sum-exp, shift = the row's largest value (every term <= 1). Each term within 2 ulp of the exact value
 * (the AVX-512 tiers: a vectorized exp; elsewhere libm's); a NaN in x gives NaN. Runs on the calling thread, touches
 * no shared state (no lock): callable from any thread. NaN for bad arguments (x NULL, n < 1, shift not finite). */
double qg_sum_exp(const float *x, int64_t n, double shift, double *exps);

/* ISA dispatch: the best supported tier is chosen at load; qg_set_isa overrides it. */
int qg_isa_supported(int isa);
const char *qg_isa_name(int isa);
int qg_set_isa(int isa);
int qg_get_isa(void);

/* Lanes: qg_lane_begin makes the calling thread a lane until it calls qg_lane_end. A lane's kernel calls run on that
 * thread alone, with a workspace of its own and without the process-wide lock, so several lanes (one thread each) run
 * independent work side by side — perplexity evaluates one chunk per lane — while calls from other threads still
 * take the lock and the pool. Results are the same bits as the pool's: tasks split output rows, never a sum. A lane
 * keeps the tier that was in use when it opened (a later qg_set_isa applies to lanes opened after it); qg_get_threads
 * still answers the pool's size. QG_EINVAL when the thread already is (begin) or is not (end) a lane; a thread that
 * ends without qg_lane_end leaks its workspace. */
int qg_lane_begin(void);
int qg_lane_end(void);

/* Persistent thread pool over N. qg_set_threads(0) means all online cores. */
int qg_set_threads(int threads);
int qg_get_threads(void);

/* Reading ahead between GEMVs: an M = 1 call on prepacked panels (qg_gemm_panels, int8 activations, more than one
 * thread) learns which panels the next such call reads, and each pool thread that runs out of tasks reads up to
 * `bytes` of its share of those into its cache while the caller works between calls (the same results: only loads).
 * Loads where the panels lie in a live qg_pages_alloc mapping, prefetch instructions elsewhere. Default 768 KiB;
 * 0 turns it off; QG_EINVAL outside 0 .. 2^30. */
int qg_set_read_ahead(int64_t bytes);

/* Reads `bytes` (multiple of 64, 64-byte aligned) with all pool threads; returns a checksum so
 * the reads cannot be optimized away. Used for the STREAM-like read-bandwidth measurement. */
int64_t qg_stream_read(const void *buf, int64_t bytes);

/* Call timeline, to see where a model step's time goes (`bench model --breakdown`): from qg_trace_start until
 * qg_trace_stop, every call of the compute entry points (qg_gemm and its variants, qg_attention, qg_kv_store,
 * qg_add_rmsnorm, qg_rope, qg_swiglu, qg_softmax_causal, qg_stream_read) that returns records when it began and
 * ended (CLOCK_MONOTONIC, ns; the start before the call waits for the process-wide lock), its kind and three sizes:
 * GEMM m, n, k; ATTENTION t, n_heads, start (the first query's position); KV_STORE rows, n_kv_heads, hs; RMSNORM rows,
 * dim; ROPE rows, n_heads, hs; SWIGLU rows, n; SOFTMAX rows, first_len; STREAM 1, MiB read. qg_trace_start(capacity)
 * keeps up to capacity records (1 .. 2^26; QG_EINVAL outside, QG_ENOMEM if the buffer cannot be had) and discards
 * those of an earlier trace; qg_trace_stop copies up to max of them to out (NULL: none) and returns how many calls
 * were traced — more than capacity when records were dropped. Neither may run while another thread is inside a
 * traced call. Not tracing costs a call one relaxed atomic load and a thread-local store. */
typedef struct {
  int64_t start_ns, end_ns;
  int32_t kind, m, n, k;
} qg_trace_record;
#define QG_CALL_GEMM 1
#define QG_CALL_ATTENTION 2
#define QG_CALL_KV_STORE 3
#define QG_CALL_RMSNORM 4
#define QG_CALL_ROPE 5
#define QG_CALL_SWIGLU 6
#define QG_CALL_SOFTMAX 7
#define QG_CALL_STREAM 8
int qg_trace_start(int64_t capacity);
int64_t qg_trace_stop(qg_trace_record *out, int64_t max);

/* Memory for weights: a 2 MiB-aligned anonymous mapping of `bytes` (rounded up to 4 KiB), zero-filled, advised to
 * transparent huge pages (decode streams weights; see qg_pages.c); NULL if the mapping fails. Free it with
 * qg_pages_free and the same byte count. */
void *qg_pages_alloc(int64_t bytes);
/* QG_EINVAL (and nothing unmapped) for another byte count than the mapping's */
int qg_pages_free(void *p, int64_t bytes);

const char *qg_version(void);

#endif
