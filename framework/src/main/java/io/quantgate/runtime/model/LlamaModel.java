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
 * <p>The model holds the weights; the forward pass and what it writes (activation buffers, KV cache) are a
 * {@link LlamaSequence}'s. The model has one of its own, which {@link #forward(int, int)} (a decode step, GEMV) and
 * {@link #forwardBatch(int[], int)} (prefill: up to {@code maxBatch} positions per GEMM) run on;
 * {@link #newSequence()} makes more over the same weights (perplexity evaluates one chunk per thread on them). All
 * buffers are allocated once, off-heap. Not thread-safe; close the model to free its memory.
 */
public final class LlamaModel implements AutoCloseable {
    private final boolean fuse;
    private final LinearKernel kernel;
    /** Every linear layer as the kernel prepared it, and the tensor names (for messages). */
    final Map<QuantizedMatrix, Linear> prepared = new IdentityHashMap<>();
    final Map<QuantizedMatrix, String> names = new IdentityHashMap<>();
    /** Linears whose weights were rotated ({@code +had}): their input rows are rotated the same way before the GEMM. */
    final Map<QuantizedMatrix, BlockHadamard> rotations = new IdentityHashMap<>();
    private LinearQuantizer quantizer;
    private QuantizationConfig quantization;
    volatile LinearInputs observer;
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final ConfigId FP32 = ConfigId.of(WeightFormat.FP32);
    /** Positions per GEMM call in prefill unless the caller asks otherwise. */
    public static final int DEFAULT_MAX_BATCH = 512;

    private final LlamaConfig c;
    private final ActivationMode act;
    private final Arena arena;
    private final Rope rope;
    final MemorySegment ropeCos, ropeSin; // the rope's tables off-heap, [seqLen][headSize/2], for the native RoPE
    private final int maxBatch;

    // ---- weights (package-private: LlamaSequence runs the forward pass over them)
    final MemorySegment embedding;      // [vocab][dim] fp32
    final MemorySegment[] attNorm;      // [layer] dim floats, off-heap (the native norm reads them)
    final MemorySegment[] ffnNorm;
    final MemorySegment finalNorm;
    final float[][] qBias, kBias, vBias; // [layer][out] when the config has attention biases
    final MemorySegment[] qNorm, kNorm;  // [layer] headSize floats when the config has q/k norms
    final QuantizedMatrix[] wq, wk, wv, wo, w1, w2, w3;
    // q|k|v and gate|up fused into one matrix per layer when their ids agree (null otherwise): one GEMV
    // streams them all and prepares the activations once; per-row quantization makes the codes identical
    final QuantizedMatrix[] wqkv, w13;
    final QuantizedMatrix classifier;
    private final Map<String, ConfigId> linearIds = new LinkedHashMap<>();

    /** The model's own sequence (forward, forwardBatch, forwardLogits run on it); {@link #newSequence()} makes more. */
    private final LlamaSequence main;

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

            for (QuantizedMatrix m : linears()) {
                try {
                    prepared.put(m, Linear.prepare(kernel, m, mode(m)));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(weights.source() + ": tensor " + names.get(m) + ": "
                            + e.getMessage(), e);
                }
            }

            main = LlamaSequence.inModelArena(this, arena);
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

    /** Clears the KV cache of the model's own sequence (positions can then start at 0 again). */
    public void reset() {
        main.reset();
    }

    /** {@link LlamaSequence#forward(int, int)} on the model's own sequence. */
    public float[] forward(int token, int pos) {
        return main.forward(token, pos);
    }

    /** {@link LlamaSequence#forwardBatch(int[], int)} on the model's own sequence. */
    public float[][] forwardBatch(int[] tokens, int startPos) {
        return main.forwardBatch(tokens, startPos);
    }

    /** {@link LlamaSequence#forwardBatch(int[], int, int)} on the model's own sequence. */
    public float[][] forwardBatch(int[] tokens, int startPos, int firstRow) {
        return main.forwardBatch(tokens, startPos, firstRow);
    }

    /** {@link LlamaSequence#forwardLogits(int[], int, int)} on the model's own sequence. */
    public MemorySegment forwardLogits(int[] tokens, int startPos, int firstRow) {
        return main.forwardLogits(tokens, startPos, firstRow);
    }

    /**
     * Another sequence over these weights: a KV cache and activation buffers of its own ({@code maxBatch} rows, the
     * model's context), freed when it is closed (or with the model's weights' arena never: close it). Sequences share
     * nothing written, so threads may run one each at the same time where {@link #sequencesRunConcurrently()} holds.
     */
    public LlamaSequence newSequence() {
        return LlamaSequence.ownArena(this);
    }

    /** The model's own sequence: the one {@link #forward}, {@link #forwardBatch} and {@link #forwardLogits} run on. */
    public LlamaSequence ownSequence() {
        return main;
    }

    /** Bytes one more sequence allocates ({@link #newSequence()}): its KV cache and activation buffers. */
    public long sequenceBytes() {
        return LlamaSequence.bytes(this);
    }

    /**
     * Whether two threads may each run a sequence of this model at the same time: the linears run on the native kernels
     * (stateless per call; the kernel under test, a user's, promises nothing of the kind) and no observer sees their
     * inputs. Each such thread runs its native calls alone (a lane: {@code NativeKernels.openLane}).
     */
    public boolean sequencesRunConcurrently() {
        return kernel instanceof NativeLinearKernel && observer == null;
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
