package io.quantgate.runtime.model;

import io.quantgate.kernels.format.QuantizedMatrix;
import io.quantgate.kernels.nativeimpl.NativeKernels;
import io.quantgate.kernels.nativeimpl.WeightArena;
import io.quantgate.quantize.BlockHadamard;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One sequence through a {@link LlamaModel}: its KV cache, its activation buffers and the forward pass that uses them,
 * over the model's weights. {@link #forward(int, int)} is one decode step (GEMV); {@link #forwardBatch(int[], int)}
 * is prefill: up to {@code maxBatch} positions go through every linear as one GEMM, with causal attention over the KV
 * cache. Both share one code path ({@link #forwardChunk}). Every buffer is allocated once, off-heap.
 *
 * <p>A model holds one sequence of its own (what {@link LlamaModel#forward} and the rest run on);
 * {@link LlamaModel#newSequence()} makes more, which share the weights and nothing else: two threads may each run a
 * sequence of their own at the same time when the model's kernel is stateless (the native one: see
 * {@link LlamaModel#sequencesRunConcurrently()}). A sequence itself is not thread-safe.
 */
public final class LlamaSequence implements AutoCloseable {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final LlamaModel m;
    private final LlamaConfig c;
    private final int maxBatch;
    /** The arena this sequence allocated from and closes (null for the model's own sequence, in the model's arena). */
    private final Arena owned;

    // ---- state, all [maxBatch][...] rows, off-heap
    private final MemorySegment x;        // residual stream [B][dim]
    private final MemorySegment xb;       // normed input    [B][dim]
    private final MemorySegment q;        // queries         [B][qDim]
    private final MemorySegment attnOut;  // attention out   [B][qDim]
    private final MemorySegment delta;    // wo / w2 output  [B][dim]
    private final MemorySegment hb;       // w1 out, then silu(w1)*w3 [B][hidden]
    private final MemorySegment hb2;      // w3 out          [B][hidden]
    private final MemorySegment qkv;      // fused q|k|v out [B][qDim + 2 kvDim]
    private final MemorySegment gateUp;   // fused gate|up out, then silu(gate)*up in the gate half [B][2 hidden]
    private final MemorySegment logits;   // [B][vocab]
    private MemorySegment longLogits;     // forwardLogits' rows of a sequence longer than maxBatch, grown on demand
    private final MemorySegment k;        // keys of the chunk    [B][kvDim]
    private final MemorySegment v;        // values of the chunk  [B][kvDim]
    private final MemorySegment keyCache;   // [layer][kvHead][headSize][cacheRow] (transposed, see NativeKernels.attention)
    private final MemorySegment valueCache; // [layer][kvHead][headSize][cacheRow]
    private final long cacheRow;            // floats from one dim's positions to the next dim's: cacheRow(seqLen)
    private final MemorySegment rotated;    // [maxBatch][widest K] rotated input rows, when a linear rotates (else null)
    private final float[] rotationRow;
    private final Arena arena;
    private long allocated;

    /** The model's own sequence, in the model's arena. */
    static LlamaSequence inModelArena(LlamaModel model, Arena arena) {
        return new LlamaSequence(model, arena, null);
    }

    /** A sequence with an arena of its own (its KV cache and buffers on huge pages where the system has them). */
    static LlamaSequence ownArena(LlamaModel model) {
        Arena own = WeightArena.ofShared();
        try {
            return new LlamaSequence(model, own, own);
        } catch (RuntimeException | Error e) {
            own.close();
            throw e;
        }
    }

    private LlamaSequence(LlamaModel model, Arena arena, Arena owned) {
        this.m = model;
        this.c = model.config();
        this.maxBatch = model.maxBatch();
        this.arena = arena;
        this.owned = owned;
        int L = c.nLayers(), dim = c.dim(), hidden = c.hiddenDim(), kvDim = c.kvDim(), vocab = c.vocabSize();
        int qDim = c.qDim();
        long B = maxBatch;
        x = buffer(B * dim);
        xb = buffer(B * dim);
        q = buffer(B * qDim);
        attnOut = buffer(B * qDim);
        delta = buffer(B * dim);
        hb = buffer(B * hidden);
        hb2 = buffer(B * hidden);
        qkv = buffer(B * (qDim + 2L * kvDim));
        gateUp = buffer(B * 2L * hidden);
        logits = buffer(B * vocab);
        k = buffer(B * kvDim);
        v = buffer(B * kvDim);
        cacheRow = cacheRow(c.seqLen());
        keyCache = buffer((long) L * cacheRow * kvDim);
        valueCache = buffer((long) L * cacheRow * kvDim);
        if (!model.rotations.isEmpty()) {
            int widest = Math.max(Math.max(dim, hidden), qDim);
            rotated = buffer(B * widest);
            rotationRow = new float[widest];
        } else {
            rotated = null;
            rotationRow = null;
        }
    }

    private MemorySegment buffer(long floats) {
        allocated += 4L * floats;
        return arena.allocate(4L * floats, 64); // zero-filled
    }

    /**
     * Bytes a sequence of {@code model} may allocate: its constructor's buffers ({@link #constructorBytes}) and, when
     * the context is longer than a batch, the logits buffer {@link #forwardLogits} grows for a whole sequence (at most
     * the context's rows). What one more concurrent sequence costs.
     */
    static long bytes(LlamaModel model) {
        LlamaConfig c = model.config();
        long longLogits = c.seqLen() > model.maxBatch() ? 4L * c.seqLen() * c.vocabSize() : 0;
        return constructorBytes(model) + longLogits;
    }

    /** Bytes of the buffers the constructor allocates for a sequence of {@code model}. */
    static long constructorBytes(LlamaModel model) {
        LlamaConfig c = model.config();
        long dim = c.dim(), hidden = c.hiddenDim(), kvDim = c.kvDim(), qDim = c.qDim(), B = model.maxBatch();
        long rows = 3 * dim + 2 * qDim + 4 * hidden + (qDim + 2 * kvDim) + c.vocabSize() + 2 * kvDim;
        long rotation = model.rotations.isEmpty() ? 0 : Math.max(Math.max(dim, hidden), qDim);
        return 4L * (B * (rows + rotation) + 2L * c.nLayers() * cacheRow(c.seqLen()) * kvDim);
    }

    /** Bytes this sequence's constructor allocated ({@link #constructorBytes} promises them). */
    long allocatedBytes() {
        return allocated;
    }

    /** Frees this sequence's buffers (a sequence from {@link LlamaModel#newSequence()}; the model's own goes with it). */
    @Override
    public void close() {
        if (owned != null && owned.scope().isAlive()) {
            owned.close();
        }
    }

    /** Clears the KV cache (positions can then start at 0 again). */
    public void reset() {
        keyCache.fill((byte) 0);
        valueCache.fill((byte) 0);
    }

    /** Logits after {@code token} at position {@code pos}; positions {@code < pos} must be in the cache. */
    public float[] forward(int token, int pos) {
        forwardChunk(new int[] {token}, 0, 1, pos, 1);
        float[] row = new float[c.vocabSize()];
        MemorySegment.copy(logits, F, 0, row, 0, row.length);
        return row;
    }

    /**
     * Prefill: runs {@code tokens} at positions {@code startPos ..} and returns the logits of every
     * position ({@code [tokens.length][vocab]}), {@link #maxBatch()} positions per GEMM.
     */
    public float[][] forwardBatch(int[] tokens, int startPos) {
        return forwardBatch(tokens, startPos, 0);
    }

    /** {@link #forwardBatch(int[], int)} that copies out only rows {@code firstRow ..} (earlier rows are null). */
    public float[][] forwardBatch(int[] tokens, int startPos, int firstRow) {
        checkLogitRows(tokens, firstRow);
        int vocab = c.vocabSize();
        float[][] out = new float[tokens.length][];
        prefill(tokens, startPos, firstRow, (t, n) -> {
            for (int i = 0; i < n; i++) {
                float[] row = new float[vocab];
                MemorySegment.copy(logits, F, 4L * i * vocab, row, 0, vocab);
                out[t + i] = row;
            }
        });
        return out;
    }

    /**
     * Prefill of {@code tokens} at positions {@code startPos ..} that leaves the logits of rows {@code firstRow ..}
     * where they lie instead of copying them into arrays: row {@code t} at float {@code (t - firstRow) * vocab} of the
     * returned segment, which is the model's own buffer and valid until its next call. (Copying 255 rows of arrays per
     * 512-token chunk cost the perplexity evaluation of stories260K ~3 % of its time, on one thread while the pool
     * waited.) {@code firstRow == tokens.length} runs the sequence and returns no rows.
     */
    public MemorySegment forwardLogits(int[] tokens, int startPos, int firstRow) {
        checkLogitRows(tokens, firstRow);
        long rowBytes = 4L * c.vocabSize();
        int wanted = tokens.length - firstRow;
        if (tokens.length <= maxBatch) { // one chunk: its logits rows are exactly the rows asked for
            prefill(tokens, startPos, firstRow, (t, n) -> { });
            return logits.asSlice(0, wanted * rowBytes);
        }
        if (longLogits == null || longLogits.byteSize() < wanted * rowBytes) {
            longLogits = arena.allocate(wanted * rowBytes, 64); // kept for the next long sequence; freed with the model
        }
        prefill(tokens, startPos, firstRow, (t, n) ->
                MemorySegment.copy(logits, 0, longLogits, (t - firstRow) * rowBytes, n * rowBytes));
        return longLogits.asSlice(0, wanted * rowBytes);
    }

    private static void checkLogitRows(int[] tokens, int firstRow) {
        if (tokens.length < 1) {
            throw new IllegalArgumentException("no tokens");
        }
        if (firstRow < 0 || firstRow > tokens.length) {
            throw new IllegalArgumentException("first logit row " + firstRow + " outside 0.." + tokens.length);
        }
    }

    /** Where a prefill chunk's logits go: rows {@code t .. t+n-1} of the sequence, in rows 0 .. n-1 of {@link #logits}. */
    private interface LogitRows {
        void take(int t, int n);
    }

    /**
     * The prefill loop behind forwardBatch and forwardLogits: {@code tokens} in chunks of maxBatch positions, each chunk's
     * rows from {@code firstRow} on through the classifier and handed to {@code sink} before the next chunk overwrites
     * them.
     */
    private void prefill(int[] tokens, int startPos, int firstRow, LogitRows sink) {
        for (int t0 = 0; t0 < tokens.length; t0 += maxBatch) {
            int n = Math.min(maxBatch, tokens.length - t0);
            int skip = Math.min(n, Math.max(0, firstRow - t0)); // rows of this chunk nobody asked logits for
            forwardChunk(tokens, t0, n, startPos + t0, n - skip);
            if (skip < n) {
                sink.take(t0 + skip, n - skip);
            }
        }
    }

    /**
     * Runs {@code tokens[from .. from+T)} at positions {@code startPos ..}; the last {@code logitRows}
     * positions go through the final norm and the classifier, their logits left in rows
     * {@code 0 .. logitRows-1} of {@link #logits} (prefill usually needs only the last row's). This is the
     * whole transformer.
     */
    private void forwardChunk(int[] tokens, int from, int T, int startPos, int logitRows) {
        int dim = c.dim(), hidden = c.hiddenDim(), kvDim = c.kvDim(), headSize = c.headSize(), qDim = c.qDim();
        int nHeads = c.nHeads(), seqLen = c.seqLen(), vocab = c.vocabSize();
        if (T < 1 || T > maxBatch) {
            throw new IllegalArgumentException("chunk of " + T + " positions, expected 1.." + maxBatch);
        }
        if (startPos < 0 || startPos + T > seqLen) {
            throw new IllegalArgumentException("positions " + startPos + ".." + (startPos + T - 1)
                    + " do not fit the context of " + seqLen);
        }
        embed(tokens, from, T);
        int nKvHeads = c.nKvHeads();
        float scale = (float) (1.0 / Math.sqrt(headSize));

        float eps = c.normEps();
        // every residual add is fused with the norm that follows it (one native pass over the rows): layer 0's
        // attention norm has nothing to add
        NativeKernels.addRmsnorm(x, dim, null, 0, xb, dim, m.attNorm[0], T, dim, eps);
        for (int l = 0; l < c.nLayers(); l++) {
            // the last layer's output is read only at the rows that get logits: its keys and values go to the cache
            // for every row, its attention and feed-forward run for rows r0 .. T-1 only (llama.cpp prunes the same
            // way). Perplexity scores half of each chunk; prefill wants one row. A row's logits are the full pass's up
            // to the rounding of a GEMM over fewer rows (another kernel path for M <= 4; FusedLinearsTest), its cache
            // entries the same bits. Calibration, which sees every linear's inputs, keeps every row.
            int r0 = l == c.nLayers() - 1 && m.observer == null ? T - logitRows : 0;
            int R = T - r0;
            // ---- attention (xb holds the attention norm of x)
            if (m.wqkv[l] != null && !c.attentionBias() && !c.qkNorm()) {
                // fused q|k|v without biases or q/k norms: RoPE, the cache and attention work on the fused rows in
                // place (queries read qkvDim floats apart), no per-row copies into q, k and v; q and k are adjacent
                // in a row, so one RoPE pass turns both
                int qkvDim = qDim + 2 * kvDim;
                matmul(m.wqkv[l], xb, T, qkv);
                rope(qkv, T, qkvDim, nHeads + nKvHeads, startPos);
                scatterToCache(l, T, startPos, qkv, qkvDim, qDim, qkv, qkvDim, qDim + kvDim);
                if (R == 0) {
                    break; // nothing reads this layer's output
                }
                attend(l, R, startPos + r0, rows(qkv, r0, qkvDim), qkvDim, scale, rows(attnOut, r0, qDim));
            } else {
                if (!attentionUnfused(l, T, startPos, scale, r0)) {
                    break;
                }
            }
            matmul(m.wo[l], rows(attnOut, r0, qDim), R, rows(delta, r0, dim));

            // ---- feed-forward: w2(silu(w1 x) * w3 x) of the norm of x + attention
            MemorySegment xr = rows(x, r0, dim), xbr = rows(xb, r0, dim), dr = rows(delta, r0, dim);
            NativeKernels.addRmsnorm(xr, dim, dr, dim, xbr, dim, m.ffnNorm[l], R, dim, eps);
            if (m.w13[l] != null) {
                // one GEMM writes gate|up rows; SwiGLU runs on the halves in place; down reads the gate halves
                MemorySegment gu = rows(gateUp, r0, 2L * hidden);
                matmul(m.w13[l], xbr, R, gu);
                NativeKernels.swiglu(gu, gu.asSlice(4L * hidden), R, hidden, 2L * hidden);
                matmul(m.w2[l], gu, R, 2L * hidden, dr, dim);
            } else {
                MemorySegment h1 = rows(hb, r0, hidden), h3 = rows(hb2, r0, hidden);
                matmul(m.w1[l], xbr, R, h1);
                matmul(m.w3[l], xbr, R, h3);
                NativeKernels.swiglu(h1, h3, (long) R * hidden);
                matmul(m.w2[l], h1, R, dr);
            }
            if (l + 1 < c.nLayers()) {
                NativeKernels.addRmsnorm(x, dim, delta, dim, xb, dim, m.attNorm[l + 1], T, dim, eps);
            }
        }
        if (logitRows > 0) {
            // after the last layer only the rows that get logits need their residual: x + ffn, normed in place
            long first = 4L * (T - logitRows) * dim;
            MemorySegment last = x.asSlice(first);
            NativeKernels.addRmsnorm(last, dim, delta.asSlice(first), dim, last, dim, m.finalNorm, logitRows, dim, eps);
            matmul(m.classifier, last, logitRows, logits);
        }
    }

    /**
     * The embeddings of {@code tokens[from .. from+T)} into rows 0 .. T-1 of {@link #x}. A method of its own, so that
     * this loop of up to maxBatch iterations is not a back-edge of forwardChunk: it made the JIT compile forwardChunk
     * twice (on-stack replacement, then normally; 0.3-0.4 s of C2 each, all the native calls' glue inlined) while a
     * perplexity run was computing on the same two cores, for a method that only calls native code.
     */
    private void embed(int[] tokens, int from, int T) {
        int dim = c.dim(), vocab = c.vocabSize();
        for (int t = 0; t < T; t++) {
            int token = tokens[from + t];
            if (token < 0 || token >= vocab) {
                throw new IllegalArgumentException("token " + token + " is outside the vocabulary 0.." + (vocab - 1));
            }
            MemorySegment.copy(m.embedding, 4L * token * dim, x, 4L * t * dim, 4L * dim);
        }
    }

    /**
     * Keys and values of the chunk's T rows into layer {@code l}'s cache at positions {@code startPos ..}, both
     * transposed as {@code [kvHead][headSize][pos]} (see NativeKernels.attention): row t's keys start at float
     * {@code t * kLd + kCol} of {@code kSrc}, its values likewise.
     */
    private void scatterToCache(int l, int T, int startPos, MemorySegment kSrc, long kLd, long kCol,
                                MemorySegment vSrc, long vLd, long vCol) {
        long headStride = cacheRow * c.headSize();
        MemorySegment kc = keyCache.asSlice(4L * kvHead(l, 0)), vc = valueCache.asSlice(4L * kvHead(l, 0));
        NativeKernels.kvStore(kSrc.asSlice(4L * kCol), T, kLd, c.nKvHeads(), c.headSize(), kc, headStride, cacheRow,
                startPos);
        NativeKernels.kvStore(vSrc.asSlice(4L * vCol), T, vLd, c.nKvHeads(), c.headSize(), vc, headStride, cacheRow,
                startPos);
    }

    /** Row {@code r} of {@code rows} whose rows are {@code width} floats apart, and the rows after it. */
    private static MemorySegment rows(MemorySegment rows, int r, long width) {
        return r == 0 ? rows : rows.asSlice(4L * r * width);
    }

    /**
     * Attention of layer {@code l} through separate q, k, v rows: q|k|v not fused, or biases / q-k norms to apply. Keys
     * and values of all T rows go to the cache, queries r0 .. T-1 attend; false when none does (r0 = T).
     */
    private boolean attentionUnfused(int l, int T, int startPos, float scale, int r0) {
        int kvDim = c.kvDim(), headSize = c.headSize(), qDim = c.qDim();
        int nHeads = c.nHeads(), nKvHeads = c.nKvHeads();
        if (m.wqkv[l] != null) {
            int qkvDim = qDim + 2 * kvDim;
            matmul(m.wqkv[l], xb, T, qkv);
            for (int t = 0; t < T; t++) {
                long row = 4L * t * qkvDim;
                MemorySegment.copy(qkv, row, q, 4L * t * qDim, 4L * qDim);
                MemorySegment.copy(qkv, row + 4L * qDim, k, 4L * t * kvDim, 4L * kvDim);
                MemorySegment.copy(qkv, row + 4L * (qDim + kvDim), v, 4L * t * kvDim, 4L * kvDim);
            }
        } else {
            matmul(m.wq[l], xb, T, q);
            matmul(m.wk[l], xb, T, k);
            matmul(m.wv[l], xb, T, v);
        }
        if (c.attentionBias()) {
            addBias(q, m.qBias[l], T);
            addBias(k, m.kBias[l], T);
            addBias(v, m.vBias[l], T);
        }
        if (c.qkNorm()) {
            float eps = c.normEps();
            NativeKernels.addRmsnorm(q, headSize, null, 0, q, headSize, m.qNorm[l], (long) T * nHeads, headSize, eps);
            NativeKernels.addRmsnorm(k, headSize, null, 0, k, headSize, m.kNorm[l], (long) T * nKvHeads, headSize, eps);
        }
        rope(k, T, kvDim, nKvHeads, startPos);
        scatterToCache(l, T, startPos, k, kvDim, 0, v, kvDim, 0);
        if (r0 == T) {
            return false;
        }
        rope(rows(q, r0, qDim), T - r0, qDim, nHeads, startPos + r0);
        attend(l, T - r0, startPos + r0, rows(q, r0, qDim), qDim, scale, rows(attnOut, r0, qDim));
        return true;
    }

    /**
     * Every head of T queries at positions startPos .. in one native call over layer {@code l}'s cache: scores, causal
     * softmax and the value sum fused; queries are rows of {@code queries} {@code ldq} floats apart, the outputs rows
     * of {@code out} (qDim floats apart).
     */
    private void attend(int l, int T, int startPos, MemorySegment queries, long ldq, float scale, MemorySegment out) {
        int headSize = c.headSize();
        NativeKernels.attention(T, c.nHeads(), c.nKvHeads(), headSize, startPos, queries, ldq,
                keyCache.asSlice(4L * kvHead(l, 0)), valueCache.asSlice(4L * kvHead(l, 0)),
                cacheRow * headSize, cacheRow, scale, out, c.qDim());
    }

    /** Float index of kv head {@code g} of layer {@code l} in either cache (both hold cacheRow·headSize per head). */
    private long kvHead(int l, int g) {
        return ((long) l * c.nKvHeads() + g) * cacheRow * c.headSize();
    }

    /**
     * Floats from one dim's cached positions to the next dim's: the context rounded up to 16 floats, and to an odd
     * multiple of 16 (64 bytes). A power-of-two row (a 2048-position context: 8 KiB) put every dim's row of a head, and
     * the same rows of every head and of K and V, in the same cache sets: a decode step's attention, which reads a
     * few lines of each of those rows, then missed in L1 and L2 on lines they had just held (docs/kernels.md).
     */
    static long cacheRow(int seqLen) {
        return (((long) seqLen + 15) & ~15L) | 16;
    }

    /** RoPE of {@code heads} heads at the start of each of the T rows ({@code ld} floats apart), positions from startPos. */
    private void rope(MemorySegment rows, int T, long ld, int heads, int startPos) {
        NativeKernels.rope(rows, T, ld, heads, c.headSize(), startPos, m.ropeCos, m.ropeSin, c.seqLen(),
                c.ropeStyle() == LlamaConfig.RopeStyle.ROTATE_HALF);
    }

    /** {@code out[t] += bias} for each of the T rows. */
    private static void addBias(MemorySegment out, float[] bias, int T) {
        int n = bias.length;
        for (int t = 0; t < T; t++) {
            long o = (long) t * n;
            for (int i = 0; i < n; i++) {
                out.setAtIndex(F, o + i, out.getAtIndex(F, o + i) + bias[i]);
            }
        }
    }

    /** {@code y[T][N] = x[T][K] · Wᵀ} through the kernel; dense weights always take fp32 activations. */
    private void matmul(QuantizedMatrix w, MemorySegment in, int T, MemorySegment out) {
        matmul(w, in, T, w.cols(), out, w.rows());
    }

    /** Input rows {@code ldx} floats apart, output rows {@code ldy}; rotated first when the weights were. */
    private void matmul(QuantizedMatrix w, MemorySegment in, int T, long ldx, MemorySegment out, long ldy) {
        int k = w.cols();
        if (m.observer != null) {
            m.observer.seen(m.names.get(w), in, T, ldx, k);
        }
        BlockHadamard r = m.rotations.get(w);
        if (r != null) {
            for (int t = 0; t < T; t++) {
                MemorySegment.copy(in, 4L * t * ldx, rotated, 4L * t * k, 4L * k);
            }
            r.rotateRows(rotated, T, k, rotationRow);
            in = rotated;
            ldx = k;
        }
        m.prepared.get(w).gemm(in, T, ldx, out, ldy);
    }
}
