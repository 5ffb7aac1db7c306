package io.quantgate.runtime.model;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A llama2.c "legacy" (version 0) checkpoint, memory-mapped: 7 little-endian int32 header values
 * {@code dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len}, then float32 tensors, each
 * matrix {@code [out, in]} row-major, in the order {@code tok_embeddings, rms_att, wq, wk, wv, wo, rms_ffn,
 * w1, w2, w3, rms_final}, then (optionally) {@code freq_cis_real, freq_cis_imag [seq_len, head_size/2]},
 * then the classifier {@code [vocab, dim]} when {@code vocab_size} is negative (positive means the
 * classifier shares the embedding).
 *
 * <p>Tensors are exposed under {@link TensorNames canonical names} ({@code "layers.0.attn.q"}, ...); the
 * per-layer arrays of the file are split by layer. The checkpoint owns its arena; close it when the model
 * has been built.
 */
public final class Llama2cCheckpoint implements ModelWeights {
    private static final int HEADER_BYTES = 7 * Integer.BYTES;
    static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Where one tensor lies in the file: float offset (from the start of the data) and shape. */
    public record Tensor(String name, long byteOffset, int[] shape) {
        public long size() {
            long n = 1;
            for (int d : shape) {
                n *= d;
            }
            return n;
        }

        public int rows() {
            return shape[0];
        }

        public int cols() {
            return shape.length > 1 ? shape[1] : 1;
        }
    }

    private final Path file;
    private final Arena arena;
    private final MemorySegment data;
    private final LlamaConfig config;
    private final boolean hasFreqCis;
    private final Map<String, Tensor> tensors;

    private Llama2cCheckpoint(Path file, Arena arena, MemorySegment data, LlamaConfig config, boolean hasFreqCis,
                              Map<String, Tensor> tensors) {
        this.file = file;
        this.arena = arena;
        this.data = data;
        this.config = config;
        this.hasFreqCis = hasFreqCis;
        this.tensors = tensors;
    }

    /**
     * Maps and validates {@code file}.
     *
     * @throws IllegalArgumentException naming the file when the header is impossible or the size is not the
     *                                  one the header implies (with and without the freq_cis tables)
     */
    public static Llama2cCheckpoint open(Path file) {
        Objects.requireNonNull(file, "file");
        Arena arena = Arena.ofShared();
        try {
            MemorySegment data;
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                long size = ch.size();
                if (size < HEADER_BYTES) {
                    throw new IllegalArgumentException("checkpoint " + file + " is truncated: " + size
                            + " bytes, the header alone needs " + HEADER_BYTES);
                }
                data = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            }
            int[] h = new int[7];
            for (int i = 0; i < 7; i++) {
                h[i] = data.get(LE_INT, 4L * i);
            }
            int dim = h[0], hidden = h[1], layers = h[2], heads = h[3], kvHeads = h[4], vocabRaw = h[5], seqLen = h[6];
            boolean shared = vocabRaw > 0;
            int vocab = Math.abs(vocabRaw);
            String header = LlamaConfig.describe(dim, hidden, layers, heads, kvHeads, vocabRaw, seqLen);
            if (dim <= 0 || hidden <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || vocabRaw == 0
                    || vocabRaw == Integer.MIN_VALUE || seqLen <= 0) {
                throw new IllegalArgumentException("checkpoint " + file + " has an impossible header (" + header
                        + "): every value must be positive (vocab_size may be negative for a separate classifier)");
            }
            LlamaConfig config;
            try {
                config = LlamaConfig.llama2c(dim, hidden, layers, heads, kvHeads, vocab, seqLen, shared);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("checkpoint " + file + " has an impossible header (" + header
                        + "): " + e.getMessage(), e);
            }
            long headSize = config.headSize();
            long kvDim = config.kvDim();
            // exact: a corrupt header (n_layers 2^31 - 1, dim 2^24) must not wrap around to some file's size
            long withFreq, withoutFreq;
            try {
                long layerBody = Math.addExact(Math.addExact(
                        Math.multiplyExact(2L * dim, dim), Math.multiplyExact(2L * dim, kvDim)), // wq, wo, wk, wv
                        Math.addExact(Math.multiplyExact(3L * dim, hidden), 2L * dim));          // w1-3, norms
                long body = Math.addExact(Math.addExact((long) vocab * dim, Math.multiplyExact(layers, layerBody)),
                        dim);
                long freq = 2L * seqLen * (headSize / 2);
                long cls = shared ? 0 : (long) vocab * dim;
                withFreq = Math.addExact(HEADER_BYTES, Math.multiplyExact(4L, Math.addExact(body, freq + cls)));
                withoutFreq = Math.addExact(HEADER_BYTES, Math.multiplyExact(4L, Math.addExact(body, cls)));
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("checkpoint " + file + " has an impossible header (" + header
                        + "): the size it implies overflows 64 bits");
            }
            long actual = data.byteSize();
            boolean hasFreq;
            if (actual == withFreq) {
                hasFreq = true;
            } else if (actual == withoutFreq) {
                hasFreq = false;
            } else {
                throw new IllegalArgumentException("checkpoint " + file + " has " + actual + " bytes, but its header ("
                        + header + ") implies " + withFreq + " bytes (" + withoutFreq
                        + " without the freq_cis tables)" + (actual < withoutFreq ? ": the file is truncated" : ""));
            }
            Map<String, Tensor> t = new LinkedHashMap<>();
            long[] off = {HEADER_BYTES};
            add(t, off, TensorNames.EMBED, vocab, dim);
            perLayer(t, off, layers, TensorNames.ATTN_NORM, dim);
            perLayer(t, off, layers, TensorNames.Q, dim, dim);
            perLayer(t, off, layers, TensorNames.K, (int) kvDim, dim);
            perLayer(t, off, layers, TensorNames.V, (int) kvDim, dim);
            perLayer(t, off, layers, TensorNames.O, dim, dim);
            perLayer(t, off, layers, TensorNames.MLP_NORM, dim);
            perLayer(t, off, layers, TensorNames.GATE, hidden, dim);
            perLayer(t, off, layers, TensorNames.DOWN, dim, hidden);
            perLayer(t, off, layers, TensorNames.UP, hidden, dim);
            add(t, off, TensorNames.NORM, dim);
            if (hasFreq) {
                add(t, off, "freq_cis_real", seqLen, (int) (headSize / 2));
                add(t, off, "freq_cis_imag", seqLen, (int) (headSize / 2));
            }
            if (!shared) {
                add(t, off, TensorNames.LM_HEAD, vocab, dim);
            }
            if (off[0] != actual) {
                throw new IllegalStateException("tensor layout of " + file + " ends at " + off[0] + ", not " + actual);
            }
            return new Llama2cCheckpoint(file, arena, data, config, hasFreq, Collections.unmodifiableMap(t));
        } catch (IOException e) {
            arena.close();
            throw new IllegalArgumentException("cannot map checkpoint " + file + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static void add(Map<String, Tensor> t, long[] off, String name, int... shape) {
        Tensor tensor = new Tensor(name, off[0], shape);
        t.put(name, tensor);
        off[0] += 4L * tensor.size();
    }

    private static void perLayer(Map<String, Tensor> t, long[] off, int layers, String name, int... shape) {
        for (int l = 0; l < layers; l++) {
            add(t, off, "layers." + l + "." + name, shape);
        }
    }

    public Path file() {
        return file;
    }

    public LlamaConfig config() {
        return config;
    }

    /** Whether the file holds the (unused by the forward pass) freq_cis tables. */
    public boolean hasFreqCis() {
        return hasFreqCis;
    }

    /** Every tensor, in file order, including the freq_cis tables when present; no classifier when shared. */
    public Map<String, Tensor> tensors() {
        return tensors;
    }

    public Tensor tensor(String name) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException("checkpoint " + file + " has no tensor '" + name + "' (has: "
                    + tensors.keySet() + ")");
        }
        return t;
    }

    /** The mapped little-endian bytes of a tensor (valid while this checkpoint is open). */
    public MemorySegment segment(String name) {
        Tensor t = tensor(name);
        return data.asSlice(t.byteOffset(), 4L * t.size());
    }

    /** A heap copy of a tensor's floats, row-major. */
    public float[] floats(String name) {
        Tensor t = tensor(name);
        float[] out = new float[Math.toIntExact(t.size())];
        MemorySegment.copy(data, LE_FLOAT, t.byteOffset(), out, 0, out.length);
        return out;
    }

    @Override
    public Path source() {
        return file;
    }

    @Override
    public String fileFormat() {
        return "llama2c";
    }

    @Override
    public String architecture() {
        return "llama";
    }

    @Override
    public Map<String, int[]> shapes() {
        Map<String, int[]> m = new LinkedHashMap<>();
        tensors.forEach((name, t) -> {
            if (!name.startsWith("freq_cis")) {
                m.put(name, t.shape().clone());
            }
        });
        return Collections.unmodifiableMap(m);
    }

    @Override
    public String storedType(String name) {
        tensor(name);
        return "F32";
    }

    @Override
    public void close() {
        arena.close();
    }

    @Override
    public String toString() {
        return "Llama2cCheckpoint[" + file + ", " + config + "]";
    }
}
