package io.quantgate.runtime.model;

import io.quantgate.kernel.Linear;
import io.quantgate.kernel.LinearKernel;
import io.quantgate.kernel.NativeLinearKernel;
import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.kernels.format.QuantizedMatrix;
import io.quantgate.kernels.format.Recipe;
import io.quantgate.kernels.format.WeightFormat;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.kernels.nativeimpl.NativeKernels;
import io.quantgate.kernels.nativeimpl.WeightArena;
import io.quantgate.quantize.BlockHadamard;
import io.quantgate.quantize.LinearQuantizer;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A Llama-family decoder whose linear layers are {@link QuantizedMatrix}es run by the native kernels
 * ({@link NativeKernels#gemm}); attention (scores, causal softmax and the value sum, every head of a chunk
 * in one call) runs through {@link NativeKernels#attention} over a KV cache that keeps keys and values
 * transposed ({@code [kvHead][headSize][pos]}: every inner loop of the kernel runs over positions), and the SwiGLU
 * gate through {@link NativeKernels#swiglu}. Every residual add is fused with the RMSNorm after it
 * ({@link NativeKernels#addRmsnorm}), RoPE ({@link NativeKernels#rope}) and the transposing store into the cache
 * ({@link NativeKernels#kvStore}) are native row passes too: with a model as small as stories260K these O(T·dim)
 * steps, run serially in Java, took a third of a perplexity run's wall time. The embedding lookup and biases
 * stay plain Java over off-heap float buffers.
 *
 * <p>{@link #forward(int, int)} is one decode step (GEMV); {@link #forwardBatch(int[], int)} is prefill:
 * up to {@code maxBatch} positions go through every linear as one GEMM, with causal attention over the KV
 * cache. Both share one code path ({@link #forwardChunk}). All activation buffers and the KV cache are
 * allocated once, off-heap, in the model's arena. Not thread-safe; close the model to free its memory.
 */
public final class LlamaModel implements AutoCloseable {
    private final boolean fuse;
    private final LinearKernel kernel;
    /** Every linear layer as the kernel prepared it, and the tensor names (for messages). */
    private final Map<QuantizedMatrix, Linear> prepared = new IdentityHashMap<>();
    private final Map<QuantizedMatrix, String> names = new IdentityHashMap<>();
    /** Linears whose weights were rotated ({@code +had}): their input rows are rotated the same way before the GEMM. */
    private final Map<QuantizedMatrix, BlockHadamard> rotations = new IdentityHashMap<>();
    private LinearQuantizer quantizer;
    private QuantizationConfig quantization;
    private MemorySegment rotated;      // [maxBatch][widest K] rotated input rows, allocated when a linear rotates
    private float[] rotationRow;
    private LinearInputs observer;
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final ConfigId FP32 = ConfigId.of(WeightFormat.FP32);
    /** Positions per GEMM call in prefill unless the caller asks otherwise. */
    public static final int DEFAULT_MAX_BATCH = 512;

    private final LlamaConfig c;
    private final ActivationMode act;
    private final Arena arena;
    private final Rope rope;
    private final MemorySegment ropeCos, ropeSin; // the rope's tables off-heap, [seqLen][headSize/2], for the native RoPE
    private final int maxBatch;

    // ---- weights
    private final MemorySegment embedding;      // [vocab][dim] fp32
    private final MemorySegment[] attNorm;      // [layer] dim floats, off-heap (the native norm reads them)
    private final MemorySegment[] ffnNorm;
    private final MemorySegment finalNorm;
    private final float[][] qBias, kBias, vBias; // [layer][out] when the config has attention biases
    private final MemorySegment[] qNorm, kNorm;  // [layer] headSize floats when the config has q/k norms
    private final QuantizedMatrix[] wq, wk, wv, wo, w1, w2, w3;
    // q|k|v and gate|up fused into one matrix per layer when their ids agree (null otherwise): one GEMV
    // streams them all and prepares the activations once; per-row quantization makes the codes identical
    private final QuantizedMatrix[] wqkv, w13;
    private final QuantizedMatrix classifier;
    private final Map<String, ConfigId> linearIds = new LinkedHashMap<>();

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
    private final MemorySegment keyCache;   // [layer][kvHead][headSize][seqLen] (transposed, see NativeKernels.attention)
    private final MemorySegment valueCache; // [layer][kvHead][headSize][seqLen]

    /**
     * Quantizes every linear of {@code weights} as {@code quant} says and copies everything else; the
     * weights may be closed afterwards.
     *
     * @param quant a config string for {@link QuantizationConfig#parse}, e.g. {@code "fp4-g32"} or
     *              {@code "mixed:attn.*=fp4-g64,mlp.*=int4-g128"}
     */
    public static LlamaModel load(ModelWeights weights, String quant, ActivationMode act) {
        return new LlamaModel(weights, QuantizationConfig.parse(quant), act, DEFAULT_MAX_BATCH);
    }

    public LlamaModel(ModelWeights weights, QuantizationConfig quant, ActivationMode act, int maxBatch) {
        this(weights, quant, act, maxBatch, weights.config().seqLen());
    }

    /**
     * @param contextLength the KV-cache length to allocate ({@code ≤} the model's own), so that a model
     *                      trained for 128k positions can be evaluated at ctx 512 without a 128k cache
     */
    public LlamaModel(ModelWeights weights, QuantizationConfig quant, ActivationMode act, int maxBatch,
                      int contextLength) {
        this(weights, quant, act, maxBatch, contextLength, new NativeLinearKernel(), true);
    }

    /**
     * The model with every linear layer (q, k, v, o, gate, up, down, the classifier) run by {@code kernel}: the
     * kernel under test. Attention, norms, RoPE and SwiGLU stay QuantGate's.
     *
     * @throws IllegalArgumentException naming the tensor when the kernel cannot run one of them
     */
    public LlamaModel(ModelWeights weights, QuantizationConfig quant, ActivationMode act, int maxBatch,
                      int contextLength, LinearKernel kernel) {
        this(weights, quant, act, maxBatch, contextLength, kernel, true);
    }

    /**
     * @param fuse whether linears that share an id and K are quantized as one matrix (q|k|v, gate|up); only tests
     *             turn it off, to check that fused and separate linears give bit-identical logits
     */
    LlamaModel(ModelWeights weights, QuantizationConfig quant, ActivationMode act, int maxBatch, int contextLength,
               boolean fuse) {
        this(weights, quant, act, maxBatch, contextLength, new NativeLinearKernel(), fuse);
    }

    private LlamaModel(ModelWeights weights, QuantizationConfig quant, ActivationMode act, int maxBatch,
                       int contextLength, LinearKernel kernel, boolean fuse) {
        Objects.requireNonNull(weights, "weights");
        this.kernel = Objects.requireNonNull(kernel, "kernel");
        this.fuse = fuse;
        Objects.requireNonNull(quant, "quantization config");
        this.act = Objects.requireNonNull(act, "activation mode");
        // mixed:auto becomes its measured assignment; a calibrated recipe finds its statistics in the weights
        quant = CalibratedWeights.resolve(weights, quant);
        this.quantization = quant;
        this.quantizer = new LinearQuantizer(CalibratedWeights.calibrationOf(weights));
        if (contextLength < 1 || contextLength > weights.config().seqLen()) {
            throw new IllegalArgumentException("context length " + contextLength + " is outside 1.."
                    + weights.config().seqLen() + " (the model's own context)");
        }
        this.c = weights.config().withSeqLen(contextLength);
        requireTensors(weights, c);
        this.maxBatch = Math.min(Math.max(1, maxBatch), c.seqLen());
        this.rope = new Rope(c);
        this.arena = WeightArena.ofShared(); // weights and cache on huge pages where the system has them
        try {
            int L = c.nLayers(), dim = c.dim(), hidden = c.hiddenDim(), kvDim = c.kvDim(), vocab = c.vocabSize();
            int qDim = c.qDim();
            float[] emb = vector(weights, TensorNames.EMBED, (long) vocab * dim);
            embedding = arena.allocate(4L * emb.length, 64);
            MemorySegment.copy(emb, 0, embedding, F, 0, emb.length);
            attNorm = new MemorySegment[L];
            ffnNorm = new MemorySegment[L];
            qBias = new float[L][];
            kBias = new float[L][];
            vBias = new float[L][];
            qNorm = new MemorySegment[L];
            kNorm = new MemorySegment[L];
            wq = new QuantizedMatrix[L];
            wk = new QuantizedMatrix[L];
            wv = new QuantizedMatrix[L];
            wo = new QuantizedMatrix[L];
            w1 = new QuantizedMatrix[L];
            w2 = new QuantizedMatrix[L];
            w3 = new QuantizedMatrix[L];
            wqkv = new QuantizedMatrix[L];
            w13 = new QuantizedMatrix[L];
            for (int l = 0; l < L; l++) {
                attNorm[l] = offHeap(vector(weights, TensorNames.layer(l, TensorNames.ATTN_NORM), dim));
                ffnNorm[l] = offHeap(vector(weights, TensorNames.layer(l, TensorNames.MLP_NORM), dim));
                String nq = TensorNames.layer(l, TensorNames.Q), nk = TensorNames.layer(l, TensorNames.K);
                String nv = TensorNames.layer(l, TensorNames.V);
                if (sameId(quant, nq, nk, nv)) {
                    wqkv[l] = fused(weights, quant, new String[] {nq, nk, nv}, new int[] {qDim, kvDim, kvDim}, dim,
                            TensorNames.layer(l, "attn.qkv"));
                } else {
                    wq[l] = linear(weights, quant, nq, qDim, dim);
                    wk[l] = linear(weights, quant, nk, kvDim, dim);
                    wv[l] = linear(weights, quant, nv, kvDim, dim);
                }
                wo[l] = linear(weights, quant, TensorNames.layer(l, TensorNames.O), dim, qDim);
                String ng = TensorNames.layer(l, TensorNames.GATE), nu = TensorNames.layer(l, TensorNames.UP);
                if (sameId(quant, ng, nu)) {
                    w13[l] = fused(weights, quant, new String[] {ng, nu}, new int[] {hidden, hidden}, dim,
                            TensorNames.layer(l, "mlp.gate_up"));
                } else {
                    w1[l] = linear(weights, quant, ng, hidden, dim);
                    w3[l] = linear(weights, quant, nu, hidden, dim);
                }
                w2[l] = linear(weights, quant, TensorNames.layer(l, TensorNames.DOWN), dim, hidden);
                if (c.attentionBias()) {
                    qBias[l] = vector(weights, TensorNames.layer(l, TensorNames.Q_BIAS), qDim);
                    kBias[l] = vector(weights, TensorNames.layer(l, TensorNames.K_BIAS), kvDim);
                    vBias[l] = vector(weights, TensorNames.layer(l, TensorNames.V_BIAS), kvDim);
                }
                if (c.qkNorm()) {
                    qNorm[l] = offHeap(vector(weights, TensorNames.layer(l, TensorNames.Q_NORM), c.headSize()));
                    kNorm[l] = offHeap(vector(weights, TensorNames.layer(l, TensorNames.K_NORM), c.headSize()));
                }
            }
            finalNorm = offHeap(vector(weights, TensorNames.NORM, dim));
            int half = c.headSize() / 2;
            ropeCos = buffer((long) c.seqLen() * half);
            ropeSin = buffer((long) c.seqLen() * half);
            for (int pos = 0; pos < c.seqLen(); pos++) {
                for (int i = 0; i < half; i++) {
                    ropeCos.setAtIndex(F, (long) pos * half + i, rope.cos(pos, i));
                    ropeSin.setAtIndex(F, (long) pos * half + i, rope.sin(pos, i));
                }
            }
            // a shared classifier is quantized under the name lm_head all the same, so rules can name it
            classifier = c.sharedClassifier()
                    ? quantize(quant, TensorNames.LM_HEAD, vocab, dim, emb, weights)
                    : linear(weights, quant, TensorNames.LM_HEAD, vocab, dim);

            if (!rotations.isEmpty()) {
                int widest = Math.max(Math.max(dim, hidden), qDim);
                rotated = arena.allocate(4L * this.maxBatch * widest, 64);
                rotationRow = new float[widest];
            }
            for (QuantizedMatrix m : linears()) {
                try {
                    prepared.put(m, Linear.prepare(kernel, m, mode(m)));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(weights.source() + ": tensor " + names.get(m) + ": "
                            + e.getMessage(), e);
                }
            }

            long B = this.maxBatch;
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
            keyCache = buffer((long) L * c.seqLen() * kvDim);
            valueCache = buffer((long) L * c.seqLen() * kvDim);
        } catch (RuntimeException e) {
            closePrepared();
            arena.close();
            throw e;
        }
    }

    /**
     * Every tensor the config implies is present with the shape the config implies. Checked before anything
     * sized by the config is allocated: the hyper-parameters come from a header (block_count, embedding_length,
     * ...), and a corrupt one (block_count 2,143,289,344) must fail here, naming the missing tensor, not as an
     * OutOfMemoryError when the per-layer arrays are allocated. Fails at the first missing layer, so the loop is
     * as short as the file.
     */
    static void requireTensors(ModelWeights weights, LlamaConfig c) {
        Map<String, int[]> shapes = weights.shapes();
        int dim = c.dim(), hidden = c.hiddenDim(), qDim = c.qDim(), kvDim = c.kvDim(), vocab = c.vocabSize();
        requireShape(weights, shapes, c, TensorNames.EMBED, vocab, dim);
        for (int l = 0; l < c.nLayers(); l++) {
            requireShape(weights, shapes, c, TensorNames.layer(l, TensorNames.ATTN_NORM), dim);
            requireShape(weights, shapes, c, TensorNames.layer(l, TensorNames.Q), qDim, dim);
            requireShape(weights, shapes, c, TensorNames.layer(l, TensorNames.K), kvDim, dim);
            requireShape(weights, shapes, c, TensorNames.layer(l, TensorNames.V), kvDim, dim);
            requireShape(weights, shapes, c, TensorNames.layer(l, TensorNames.O), dim, qDim);
            requireShape(weights, shapes, c, TensorNames.layer(l, TensorNames.MLP_NORM), dim);
            requireShape(weights, shapes, c, TensorNames.layer(l, TensorNames.GATE), hidden, dim);
            requireShape(weights, shapes, c, TensorNames.layer(l, TensorNames.UP), hidden, dim);
            requireShape(weights, shapes, c, TensorNames.layer(l, TensorNames.DOWN), dim, hidden);
            if (c.attentionBias()) {
                requireShape(weights, shapes, c, TensorNames.layer(l, TensorNames.Q_BIAS), qDim);
                requireShape(weights, shapes, c, TensorNames.layer(l, TensorNames.K_BIAS), kvDim);
                requireShape(weights, shapes, c, TensorNames.layer(l, TensorNames.V_BIAS), kvDim);
            }
            if (c.qkNorm()) {
                requireShape(weights, shapes, c, TensorNames.layer(l, TensorNames.Q_NORM), c.headSize());
                requireShape(weights, shapes, c, TensorNames.layer(l, TensorNames.K_NORM), c.headSize());
            }
        }
        requireShape(weights, shapes, c, TensorNames.NORM, dim);
        if (!c.sharedClassifier()) {
            requireShape(weights, shapes, c, TensorNames.LM_HEAD, vocab, dim);
        }
    }

    private static void requireShape(ModelWeights weights, Map<String, int[]> shapes, LlamaConfig c, String name,
                                     int... expected) {
        int[] shape = shapes.get(name);
        if (shape == null) {
            throw new IllegalArgumentException(weights.source() + ": has no tensor '" + name + "', which its "
                    + "hyper-parameters (" + c + ") need: the file is incomplete or its header is corrupt");
        }
        if (!java.util.Arrays.equals(shape, expected)) {
            throw new IllegalArgumentException(weights.source() + ": tensor '" + name + "' has shape "
                    + java.util.Arrays.toString(shape) + " but the hyper-parameters (" + c + ") imply "
                    + java.util.Arrays.toString(expected) + ": the file's header is corrupt");
        }
    }

    private MemorySegment buffer(long floats) {
        return arena.allocate(4L * floats, 64); // zero-filled
    }

    private MemorySegment offHeap(float[] values) {
        MemorySegment m = buffer(values.length);
        MemorySegment.copy(values, 0, m, F, 0, values.length);
        return m;
    }

    /**
     * The largest weight magnitude accepted when loading: fp16's largest value, which the fp16 config and the
     * 4-bit scales already require. Trained weights stay far below it; a larger one (1e30, a flipped exponent
     * bit) is corruption that would otherwise give uniform or infinite logits and a perplexity that looks like a
     * result.
     */
    public static final float MAX_WEIGHT = 65504f;

    private static String describeIndex(int[] shape, int i) {
        return shape != null && shape.length == 2 ? " (row " + i / shape[1] + ", column " + i % shape[1] + ")" : "";
    }

    /** A tensor's floats after checking its size and that every value is finite and at most {@link #MAX_WEIGHT}. */
    private static float[] vector(ModelWeights weights, String name, long expected) {
        if (!weights.has(name)) {
            throw new IllegalArgumentException(weights.source() + " has no tensor '" + name + "', which a "
                    + weights.architecture() + " model with " + weights.config() + " needs");
        }
        float[] w = weights.floats(name);
        if (w.length != expected) {
            throw new IllegalArgumentException("tensor '" + name + "' of " + weights.source() + " has " + w.length
                    + " values, expected " + expected + " (shape " + java.util.Arrays.toString(weights.shapes().get(name))
                    + ")");
        }
        for (int i = 0; i < w.length; i++) {
            // one compare per weight: NaN fails it too
            if (!(Math.abs(w[i]) <= MAX_WEIGHT)) {
                throw new IllegalArgumentException(weights.source() + ": tensor '" + name + "' holds " + w[i]
                        + " at element " + i + describeIndex(weights.shapes().get(name), i) + "; every weight must be "
                        + "finite and |w| ≤ " + MAX_WEIGHT + " (fp16's largest value; real weights stay far below "
                        + "1e4): the file is corrupt");
            }
        }
        return w;
    }

    /** Same id and same recipe: then the linears can be quantized as one matrix with the same codes. */
    private boolean sameId(QuantizationConfig quant, String... names) {
        if (!fuse) {
            return false;
        }
        ConfigId first = quant.idFor(names[0]).orElse(FP32);
        Recipe recipe = recipe(quant, names[0]);
        for (String n : names) {
            if (!quant.idFor(n).orElse(FP32).equals(first) || !recipe(quant, n).equals(recipe)) {
                return false;
            }
        }
        return true;
    }

    private static Recipe recipe(QuantizationConfig quant, String name) {
        return quant.idFor(name).isPresent() ? quant.recipeFor(name) : Recipe.RTN;
    }

    /** Quantizes through the recipe (and rotation) the config gives {@code name}; {@code label} names the matrix. */
    private QuantizedMatrix quantizeLinear(ModelWeights weights, QuantizationConfig quant, String name, String label,
                                           int rows, int cols, float[] values) {
        ConfigId id = quant.idFor(name).orElse(FP32);
        Recipe recipe = recipe(quant, name);
        try {
            // rotation works in place; the shared classifier's values are the embedding's own array
            QuantizedMatrix m = quantizer.quantize(label, id, recipe, rows, cols,
                    recipe.hadamard() ? values.clone() : values, arena);
            names.put(m, label);
            if (recipe.hadamard()) {
                rotations.put(m, BlockHadamard.forId(id, cols));
            }
            return m;
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(weights.source() + ": " + e.getMessage(), e);
        }
    }

    /** Linears with one id and one K, quantized as one matrix whose rows are theirs, in order. */
    private QuantizedMatrix fused(ModelWeights weights, QuantizationConfig quant, String[] names, int[] rows, int cols,
                                  String fusedName) {
        int total = 0;
        for (int r : rows) {
            total += r;
        }
        float[] all = new float[Math.multiplyExact(total, cols)];
        int at = 0;
        for (int i = 0; i < names.length; i++) {
            int[] shape = weights.shapes().get(names[i]);
            if (shape != null && (shape.length != 2 || shape[0] != rows[i] || shape[1] != cols)) {
                throw new IllegalArgumentException("tensor '" + names[i] + "' of " + weights.source() + " has shape "
                        + java.util.Arrays.toString(shape) + ", expected [" + rows[i] + ", " + cols + "]");
            }
            float[] w = vector(weights, names[i], (long) rows[i] * cols);
            System.arraycopy(w, 0, all, at, w.length);
            at += w.length;
        }
        ConfigId id = quant.idFor(names[0]).orElse(FP32);
        for (String n : names) {
            linearIds.put(n, id);
        }
        return quantizeLinear(weights, quant, names[0], fusedName, total, cols, all);
    }

    /** Matched by the config's rules; unmatched linears (only possible with mixed configs) stay fp32. */
    private QuantizedMatrix linear(ModelWeights weights, QuantizationConfig quant, String name, int rows, int cols) {
        int[] shape = weights.shapes().get(name);
        if (shape != null && (shape.length != 2 || shape[0] != rows || shape[1] != cols)) {
            throw new IllegalArgumentException("tensor '" + name + "' of " + weights.source() + " has shape "
                    + java.util.Arrays.toString(shape) + ", expected [" + rows + ", " + cols + "]");
        }
        return quantize(quant, name, rows, cols, vector(weights, name, (long) rows * cols), weights);
    }

    private QuantizedMatrix quantize(QuantizationConfig quant, String name, int rows, int cols, float[] values,
                                     ModelWeights weights) {
        linearIds.put(name, quant.idFor(name).orElse(FP32));
        return quantizeLinear(weights, quant, name, name, rows, cols, values);
    }

    public LlamaConfig config() {
        return c;
    }

    /** The config the linears were quantized under ({@code mixed:auto} already resolved to its explicit ids). */
    public QuantizationConfig quantization() {
        return quantization;
    }

    /** Sees the input rows of every linear layer (before any rotation), for calibration. */
    @FunctionalInterface
    public interface LinearInputs {
        /**
         * @param tensor the linear's name ({@code layers.0.attn.qkv} for fused q|k|v, ...)
         * @param in     {@code rows} rows of {@code k} floats, {@code stride} floats apart; valid only during the call
         */
        void seen(String tensor, MemorySegment in, int rows, long stride, int k);
    }

    /** Every later forward pass reports each linear's inputs to {@code observer} (null stops it). */
    public void observeLinearInputs(LinearInputs observer) {
        this.observer = observer;
    }

    public ActivationMode activationMode() {
        return act;
    }

    /** The id each linear tensor got, in load order. */
    public Map<String, ConfigId> linearIds() {
        return java.util.Collections.unmodifiableMap(linearIds);
    }

    /** Every linear layer (all blocks' q, k, v, o, gate, up, down, then the classifier). */
    public java.util.List<QuantizedMatrix> linears() {
        java.util.List<QuantizedMatrix> all = new java.util.ArrayList<>();
        for (int l = 0; l < c.nLayers(); l++) {
            for (QuantizedMatrix m : new QuantizedMatrix[] {wqkv[l], wq[l], wk[l], wv[l], wo[l], w13[l], w1[l], w3[l], w2[l]}) {
                if (m != null) {
                    all.add(m);
                }
            }
        }
        all.add(classifier);
        return all;
    }

    /**
     * Bytes of weights one decode step reads: every linear's codes, scales and zeros (the classifier
     * included) plus one embedding row. The KV cache is not counted (see {@link #kvBytesRead(int)}).
     */
    public long weightBytesPerToken() {
        long b = 4L * c.dim();
        for (QuantizedMatrix m : linears()) {
            b += m.packedBytes();
        }
        return b;
    }

    /** Bytes of the KV cache a decode step at position {@code pos} reads (keys and values, all layers). */
    public long kvBytesRead(int pos) {
        return 2L * 4L * c.nLayers() * c.kvDim() * (pos + 1);
    }

    /** fp16 bytes of the linears over their packed bytes (SPEC §1 compression ratio, linears only). */
    public double compressionRatio() {
        long fp16 = 0, packed = 0;
        for (QuantizedMatrix m : linears()) {
            fp16 += 2L * m.rows() * m.cols();
            packed += m.packedBytes();
        }
        return (double) fp16 / packed;
    }

    public int maxBatch() {
        return maxBatch;
    }

    public Rope rope() {
        return rope;
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
        NativeKernels.addRmsnorm(x, dim, null, 0, xb, dim, attNorm[0], T, dim, eps);
        for (int l = 0; l < c.nLayers(); l++) {
            // the last layer's output is read only at the rows that get logits: its keys and values go to the cache
            // for every row, its attention and feed-forward run for rows r0 .. T-1 only (llama.cpp prunes the same
            // way). Perplexity scores half of each chunk; prefill wants one row. A row's logits are the full pass's up
            // to the rounding of a GEMM over fewer rows (another kernel path for M <= 4; FusedLinearsTest), its cache
            // entries the same bits. Calibration, which sees every linear's inputs, keeps every row.
            int r0 = l == c.nLayers() - 1 && observer == null ? T - logitRows : 0;
            int R = T - r0;
            // ---- attention (xb holds the attention norm of x)
            if (wqkv[l] != null && !c.attentionBias() && !c.qkNorm()) {
                // fused q|k|v without biases or q/k norms: RoPE, the cache and attention work on the fused rows in
                // place (queries read qkvDim floats apart), no per-row copies into q, k and v; q and k are adjacent
                // in a row, so one RoPE pass turns both
                int qkvDim = qDim + 2 * kvDim;
                matmul(wqkv[l], xb, T, qkv);
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
            matmul(wo[l], rows(attnOut, r0, qDim), R, rows(delta, r0, dim));

            // ---- feed-forward: w2(silu(w1 x) * w3 x) of the norm of x + attention
            MemorySegment xr = rows(x, r0, dim), xbr = rows(xb, r0, dim), dr = rows(delta, r0, dim);
            NativeKernels.addRmsnorm(xr, dim, dr, dim, xbr, dim, ffnNorm[l], R, dim, eps);
            if (w13[l] != null) {
                // one GEMM writes gate|up rows; SwiGLU runs on the halves in place; down reads the gate halves
                MemorySegment gu = rows(gateUp, r0, 2L * hidden);
                matmul(w13[l], xbr, R, gu);
                NativeKernels.swiglu(gu, gu.asSlice(4L * hidden), R, hidden, 2L * hidden);
                matmul(w2[l], gu, R, 2L * hidden, dr, dim);
            } else {
                MemorySegment h1 = rows(hb, r0, hidden), h3 = rows(hb2, r0, hidden);
                matmul(w1[l], xbr, R, h1);
                matmul(w3[l], xbr, R, h3);
                NativeKernels.swiglu(h1, h3, (long) R * hidden);
                matmul(w2[l], h1, R, dr);
            }
            if (l + 1 < c.nLayers()) {
                NativeKernels.addRmsnorm(x, dim, delta, dim, xb, dim, attNorm[l + 1], T, dim, eps);
            }
        }
        if (logitRows > 0) {
            // after the last layer only the rows that get logits need their residual: x + ffn, normed in place
            long first = 4L * (T - logitRows) * dim;
            MemorySegment last = x.asSlice(first);
            NativeKernels.addRmsnorm(last, dim, delta.asSlice(first), dim, last, dim, finalNorm, logitRows, dim, eps);
            matmul(classifier, last, logitRows, logits);
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
            MemorySegment.copy(embedding, 4L * token * dim, x, 4L * t * dim, 4L * dim);
        }
    }

    /**
     * Keys and values of the chunk's T rows into layer {@code l}'s cache at positions {@code startPos ..}, both
     * transposed as {@code [kvHead][headSize][pos]} (see NativeKernels.attention): row t's keys start at float
     * {@code t * kLd + kCol} of {@code kSrc}, its values likewise.
     */
    private void scatterToCache(int l, int T, int startPos, MemorySegment kSrc, long kLd, long kCol,
                                MemorySegment vSrc, long vLd, long vCol) {
        long headStride = (long) c.seqLen() * c.headSize();
        MemorySegment kc = keyCache.asSlice(4L * kvHead(l, 0)), vc = valueCache.asSlice(4L * kvHead(l, 0));
        NativeKernels.kvStore(kSrc.asSlice(4L * kCol), T, kLd, c.nKvHeads(), c.headSize(), kc, headStride, c.seqLen(),
                startPos);
        NativeKernels.kvStore(vSrc.asSlice(4L * vCol), T, vLd, c.nKvHeads(), c.headSize(), vc, headStride, c.seqLen(),
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
        if (wqkv[l] != null) {
            int qkvDim = qDim + 2 * kvDim;
            matmul(wqkv[l], xb, T, qkv);
            for (int t = 0; t < T; t++) {
                long row = 4L * t * qkvDim;
                MemorySegment.copy(qkv, row, q, 4L * t * qDim, 4L * qDim);
                MemorySegment.copy(qkv, row + 4L * qDim, k, 4L * t * kvDim, 4L * kvDim);
                MemorySegment.copy(qkv, row + 4L * (qDim + kvDim), v, 4L * t * kvDim, 4L * kvDim);
            }
        } else {
            matmul(wq[l], xb, T, q);
            matmul(wk[l], xb, T, k);
            matmul(wv[l], xb, T, v);
        }
        if (c.attentionBias()) {
            addBias(q, qBias[l], T);
            addBias(k, kBias[l], T);
            addBias(v, vBias[l], T);
        }
        if (c.qkNorm()) {
            float eps = c.normEps();
            NativeKernels.addRmsnorm(q, headSize, null, 0, q, headSize, qNorm[l], (long) T * nHeads, headSize, eps);
            NativeKernels.addRmsnorm(k, headSize, null, 0, k, headSize, kNorm[l], (long) T * nKvHeads, headSize, eps);
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
        int headSize = c.headSize(), seqLen = c.seqLen();
        NativeKernels.attention(T, c.nHeads(), c.nKvHeads(), headSize, startPos, queries, ldq,
                keyCache.asSlice(4L * kvHead(l, 0)), valueCache.asSlice(4L * kvHead(l, 0)),
                (long) seqLen * headSize, seqLen, scale, out, c.qDim());
    }

    /** Float index of kv head {@code g} of layer {@code l} in either cache (both hold seqLen·headSize per head). */
    private long kvHead(int l, int g) {
        return ((long) l * c.nKvHeads() + g) * c.seqLen() * c.headSize();
    }

    /** RoPE of {@code heads} heads at the start of each of the T rows ({@code ld} floats apart), positions from startPos. */
    private void rope(MemorySegment rows, int T, long ld, int heads, int startPos) {
        NativeKernels.rope(rows, T, ld, heads, c.headSize(), startPos, ropeCos, ropeSin, c.seqLen(),
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
        if (observer != null) {
            observer.seen(names.get(w), in, T, ldx, k);
        }
        BlockHadamard r = rotations.get(w);
        if (r != null) {
            for (int t = 0; t < T; t++) {
                MemorySegment.copy(in, 4L * t * ldx, rotated, 4L * t * k, 4L * k);
            }
            r.rotateRows(rotated, T, k, rotationRow);
            in = rotated;
            ldx = k;
        }
        prepared.get(w).gemm(in, T, ldx, out, ldy);
    }

    /** The linear kernel every linear layer runs on. */
    public LinearKernel kernel() {
        return kernel;
    }

    /** Bytes the kernel reads per decode step for the linears in its own layout (its prepared bytes). */
    public long preparedBytes() {
        long b = 0;
        for (Linear l : prepared.values()) {
            b += l.preparedBytes();
        }
        return b;
    }

    private void closePrepared() {
        RuntimeException first = null;
        for (Linear l : prepared.values()) {
            try {
                l.close();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        prepared.clear();
        if (first != null) {
            throw first;
        }
    }

    private ActivationMode mode(QuantizedMatrix w) {
        return w.format().isDense() ? ActivationMode.FP32 : act;
    }

    @Override
    public void close() {
        try {
            closePrepared();
        } finally {
            arena.close();
        }
    }
}
