package io.quantgate.runtime.gguf;

import io.quantgate.runtime.model.LlamaConfig;
import io.quantgate.runtime.model.ModelWeights;
import io.quantgate.runtime.model.TensorNames;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A GGUF (version 3, or 2, which has the same layout) model file, memory-mapped:
 * <pre>
 *   "GGUF"  uint32 version  uint64 tensor_count  uint64 kv_count
 *   kv_count × (string key, uint32 value type, value)
 *   tensor_count × (string name, uint32 n_dims, uint64 ne[n_dims], uint32 ggml type, uint64 offset)
 *   padding to the alignment (general.alignment, default 32), then the tensor data
 * </pre>
 * all little-endian; a string is a uint64 byte length and UTF-8 bytes. Opening parses and validates the
 * whole header (every tensor inside the file, no two tensors sharing bytes, dimensions positive, sizes without
 * overflow) and derives the
 * {@link LlamaConfig}; tensor data is read only when {@link #floats} asks, dequantized as ggml does.
 *
 * <p>llama.cpp's tensor names map to {@link TensorNames canonical names} ({@link GgufNames}); tensors
 * without a canonical name ({@code rope_freqs.weight}, ...) stay readable under their GGUF name but are not
 * in {@link #shapes()}. The file owns its arena: close it when done.
 */
public final class GgufFile implements ModelWeights {
    /** "GGUF" read as a little-endian uint32. */
    static final int MAGIC = 0x46554747;
    public static final int DEFAULT_ALIGNMENT = 32;
    /** ggml's GGML_MAX_DIMS. */
    static final int MAX_DIMS = 4;

    private final Path file;
    private final Arena arena;
    private final MemorySegment data;
    private final int version;
    private final GgufMetadata metadata;
    private final int alignment;
    private final long dataStart;
    private final Map<String, GgufTensorInfo> tensors;    // GGUF name → info, file order
    private final Map<String, GgufTensorInfo> canonical;  // canonical name → info, ModelWeights order
    private final String architecture;
    private final LlamaConfig config;

    private GgufFile(Path file, Arena arena, MemorySegment data, int version, GgufMetadata metadata, int alignment,
                     long dataStart, Map<String, GgufTensorInfo> tensors, Map<String, GgufTensorInfo> canonical) {
        this.file = file;
        this.arena = arena;
        this.data = data;
        this.version = version;
        this.metadata = metadata;
        this.alignment = alignment;
        this.dataStart = dataStart;
        this.tensors = tensors;
        this.canonical = canonical;
        this.architecture = GgufModelConfig.architecture(file, metadata);
        this.config = GgufModelConfig.build(this);
    }

    /**
     * Maps and validates {@code file}.
     *
     * @throws IllegalArgumentException naming the file when it is not a GGUF v2/v3 file, is truncated or
     *                                  corrupt, uses a tensor type QuantGate cannot read, or describes a model
     *                                  QuantGate does not run (architecture, inconsistent hyper-parameters)
     */
    public static GgufFile open(Path file) {
        Objects.requireNonNull(file, "file");
        Arena arena = Arena.ofShared();
        try {
            MemorySegment data;
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                data = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            }
            return parse(file, arena, data);
        } catch (IOException e) {
            arena.close();
            throw new IllegalArgumentException("cannot map GGUF file " + file + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static GgufFile parse(Path file, Arena arena, MemorySegment data) {
        GgufCursor in = new GgufCursor(data, file);
        if (data.byteSize() < 4 || data.get(GgufCursor.LE_INT, 0) != MAGIC) {
            throw new IllegalArgumentException("file " + file + " is not a GGUF file: it does not start with the "
                    + "magic \"GGUF\"" + (data.byteSize() < 4 ? " (it has only " + data.byteSize() + " bytes)" : ""));
        }
        in.i32("magic");
        int version = in.i32("version");
        if (version != 2 && version != 3) {
            String why = Integer.reverseBytes(version) == 2 || Integer.reverseBytes(version) == 3
                    ? "it is a big-endian GGUF file, which QuantGate does not read"
                    : version == 1 ? "GGUF version 1 (32-bit counts) is not supported"
                    : "version " + Integer.toUnsignedString(version) + " is not GGUF 2 or 3";
            throw new IllegalArgumentException("GGUF file " + file + ": " + why);
        }
        // a tensor info takes ≥ 8 (name length) + 4 + 8 + 4 + 8 bytes, a KV pair ≥ 8 + 4 + 1
        long nTensors = in.count("tensor count", 32);
        long nKv = in.count("metadata count", 13);

        Map<String, GgufValue> kv = new LinkedHashMap<>();
        for (long i = 0; i < nKv; i++) {
            String key = in.string("key of metadata pair " + i);
            GgufValueType type = in.valueType("value type of metadata key '" + key + "'");
            GgufValue value = in.value(type, "value of metadata key '" + key + "'");
            if (kv.put(key, value) != null) {
                throw in.corrupt("metadata key '" + key + "' appears twice");
            }
        }
        GgufMetadata metadata = new GgufMetadata(file, kv);
        int alignment = DEFAULT_ALIGNMENT;
        if (metadata.has("general.alignment")) {
            GgufValue a = metadata.value("general.alignment");
            long al = a.type() == GgufValueType.UINT32 ? (Long) a.value() : -1;
            if (al <= 0 || Long.bitCount(al) != 1 || al > (1 << 30)) {
                throw in.corrupt("general.alignment must be a UINT32 power of two, got " + a);
            }
            alignment = (int) al;
        }

        List<PendingTensor> pending = new java.util.ArrayList<>();
        for (long i = 0; i < nTensors; i++) {
            String name = in.string("name of tensor " + i);
            String what = "tensor '" + name + "'";
            long nDims = in.u32("dimension count of " + what);
            if (nDims < 1 || nDims > MAX_DIMS) {
                throw in.corrupt(what + " has " + nDims + " dimensions; ggml tensors have 1.." + MAX_DIMS);
            }
            long[] ne = new long[(int) nDims];
            for (int d = 0; d < nDims; d++) {
                ne[d] = in.i64("dimension " + d + " of " + what);
                if (ne[d] <= 0 || ne[d] > Integer.MAX_VALUE) {
                    throw in.corrupt(what + " has dimension ne[" + d + "] = " + Long.toUnsignedString(ne[d])
                            + "; every dimension must be in 1.." + Integer.MAX_VALUE);
                }
            }
            int typeId = in.i32("type of " + what);
            long offset = in.i64("data offset of " + what);
            pending.add(new PendingTensor(name, ne, typeId, offset));
        }
        long dataStart = pad(in.position(), alignment);

        Map<String, GgufTensorInfo> tensors = new LinkedHashMap<>();
        for (PendingTensor p : pending) {
            GgufTensorInfo t = p.validate(file, alignment, dataStart, data.byteSize());
            if (tensors.put(p.name, t) != null) {
                throw in.corrupt("tensor '" + p.name + "' appears twice");
            }
        }
        checkNoOverlap(file, tensors.values());
        return new GgufFile(file, arena, data, version, metadata, alignment, dataStart,
                Collections.unmodifiableMap(tensors), canonicalOrder(file, tensors));
    }

    /**
     * Sorted by data offset, each tensor must begin at or after the end of the previous one (gaps are tolerated,
     * as in safetensors): two tensors sharing bytes is a corrupt header, and one would silently read the other's
     * data.
     */
    private static void checkNoOverlap(Path file, java.util.Collection<GgufTensorInfo> all) {
        List<GgufTensorInfo> sorted = new java.util.ArrayList<>(all);
        sorted.sort(java.util.Comparator.comparingLong(GgufTensorInfo::offset));
        for (int i = 1; i < sorted.size(); i++) {
            GgufTensorInfo prev = sorted.get(i - 1), cur = sorted.get(i);
            if (cur.offset() < prev.offset() + prev.byteSize()) {
                throw new IllegalArgumentException("GGUF file " + file + " has overlapping tensors: '" + prev.name()
                        + "' occupies data bytes [" + prev.offset() + ", " + (prev.offset() + prev.byteSize())
                        + ") and '" + cur.name() + "' occupies [" + cur.offset() + ", "
                        + (cur.offset() + cur.byteSize()) + ")");
            }
        }
    }

    private record PendingTensor(String name, long[] ne, int typeId, long offset) {
        GgufTensorInfo validate(Path file, int alignment, long dataStart, long fileSize) {
            String what = "GGUF file " + file + ": tensor '" + name + "' " + java.util.Arrays.toString(ne);
            GgmlType type = GgmlType.byId(typeId).orElseThrow(() -> new IllegalArgumentException(
                    "unsupported type " + GgmlType.nameOf(typeId) + " for tensor '" + name + "' in file " + file
                            + " (QuantGate reads F32, F16, BF16, Q8_0, Q4_0, Q4_K and Q6_K)"));
            long bytes;
            try {
                long rows = 1;
                for (int d = 1; d < ne.length; d++) {
                    rows = Math.multiplyExact(rows, ne[d]);
                }
                Math.multiplyExact(rows, ne[0]); // the element count must fit a long, too
                bytes = Math.multiplyExact(type.rowBytes(ne[0]), rows);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException(what + " is too large: its size overflows 64 bits");
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(what + ": " + e.getMessage());
            }
            if (offset < 0 || offset % alignment != 0) {
                throw new IllegalArgumentException(what + " has data offset " + Long.toUnsignedString(offset)
                        + ", not a multiple of the alignment " + alignment);
            }
            long end = dataStart + offset + bytes; // each term < 2^63 and the file is far smaller: check by parts
            if (offset > fileSize || bytes > fileSize || end > fileSize) {
                throw new IllegalArgumentException(what + " (" + type + ", " + bytes + " bytes at data offset "
                        + offset + ") extends beyond the end of the file (" + fileSize
                        + " bytes, data section from byte " + dataStart + "): the file is truncated or corrupt");
            }
            return new GgufTensorInfo(name, ne, type, offset, dataStart + offset, bytes);
        }
    }

    private static Map<String, GgufTensorInfo> canonicalOrder(Path file, Map<String, GgufTensorInfo> tensors) {
        Map<String, GgufTensorInfo> byName = new LinkedHashMap<>();
        int maxLayer = -1;
        for (GgufTensorInfo t : tensors.values()) {
            Optional<String> c = GgufNames.toCanonical(t.name());
            if (c.isPresent()) {
                byName.put(c.get(), t);
                maxLayer = Math.max(maxLayer, GgufNames.layerIndex(t.name()));
            }
        }
        Map<String, GgufTensorInfo> ordered = new LinkedHashMap<>();
        move(byName, ordered, TensorNames.EMBED);
        for (int l = 0; l <= maxLayer; l++) {
            for (String suffix : GgufNames.layerOrder()) {
                move(byName, ordered, TensorNames.layer(l, suffix));
            }
        }
        move(byName, ordered, TensorNames.NORM);
        move(byName, ordered, TensorNames.LM_HEAD);
        if (!byName.isEmpty()) {
            throw new AssertionError("unordered canonical tensors " + byName.keySet() + " in " + file);
        }
        return Collections.unmodifiableMap(ordered);
    }

    private static void move(Map<String, GgufTensorInfo> from, Map<String, GgufTensorInfo> to, String name) {
        GgufTensorInfo t = from.remove(name);
        if (t != null) {
            to.put(name, t);
        }
    }

    static long pad(long offset, int alignment) {
        return (offset + alignment - 1) / alignment * alignment;
    }

    // ------------------------------------------------------------------ file structure

    public Path file() {
        return file;
    }

    /** 2 or 3. */
    public int version() {
        return version;
    }

    public int alignment() {
        return alignment;
    }

    /** Where the tensor data section starts in the file. */
    public long dataStart() {
        return dataStart;
    }

    /** Every metadata pair, in file order, as plain Java values ({@link GgufValueType} lists the types). */
    public Map<String, Object> metadata() {
        return metadata.asMap();
    }

    /** Every metadata pair with its GGUF type and typed getters. */
    public GgufMetadata typedMetadata() {
        return metadata;
    }

    public String getString(String key) {
        return metadata.getString(key);
    }

    public int getInt(String key) {
        return metadata.getInt(key);
    }

    public float getFloat(String key) {
        return metadata.getFloat(key);
    }

    public List<String> getStringList(String key) {
        return metadata.getStringList(key);
    }

    /** Every tensor under its GGUF name, in file order, including those without a canonical name. */
    public Map<String, GgufTensorInfo> tensors() {
        return tensors;
    }

    /** A tensor by canonical name ({@code layers.0.attn.q}) or GGUF name ({@code rope_freqs.weight}). */
    public GgufTensorInfo tensor(String name) {
        GgufTensorInfo t = find(name);
        if (t == null) {
            throw new IllegalArgumentException("GGUF file " + file + " has no tensor '" + name + "' (canonical: "
                    + preview(canonical.keySet()) + "; in the file: " + preview(tensors.keySet()) + ")");
        }
        return t;
    }

    private GgufTensorInfo find(String name) {
        Objects.requireNonNull(name, "name");
        GgufTensorInfo t = canonical.get(name);
        return t != null ? t : tensors.get(name);
    }

    private static String preview(java.util.Set<String> names) {
        List<String> l = List.copyOf(names);
        return l.size() <= 12 ? l.toString() : l.subList(0, 12) + " and " + (l.size() - 12) + " more";
    }

    /** The mapped bytes of a tensor, as stored (valid while this file is open). */
    public MemorySegment segment(String name) {
        GgufTensorInfo t = tensor(name);
        return data.asSlice(t.fileOffset(), t.byteSize());
    }

    // ------------------------------------------------------------------ tokenizer metadata

    /** {@code tokenizer.ggml.model}: "llama" (SentencePiece), "gpt2" (byte-level BPE), ... */
    public String tokenizerModel() {
        return metadata.getString("tokenizer.ggml.model");
    }

    /** {@code tokenizer.ggml.pre}, the pre-tokenizer of BPE vocabularies, when present. */
    public Optional<String> tokenizerPre() {
        return Optional.ofNullable(metadata.has("tokenizer.ggml.pre") ? metadata.getString("tokenizer.ggml.pre") : null);
    }

    /** {@code tokenizer.ggml.tokens}: the vocabulary, by token id. */
    public List<String> tokens() {
        return metadata.getStringList("tokenizer.ggml.tokens");
    }

    /** {@code tokenizer.ggml.scores} (SentencePiece log-probabilities), when present. */
    public Optional<float[]> tokenScores() {
        return metadata.has("tokenizer.ggml.scores") ? Optional.of(metadata.getFloatArray("tokenizer.ggml.scores"))
                : Optional.empty();
    }

    /** {@code tokenizer.ggml.token_type} (1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte). */
    public Optional<int[]> tokenTypes() {
        return metadata.has("tokenizer.ggml.token_type")
                ? Optional.of(metadata.getIntArray("tokenizer.ggml.token_type")) : Optional.empty();
    }

    /** {@code tokenizer.ggml.merges} of BPE vocabularies ("a b" per merge), when present. */
    public Optional<List<String>> merges() {
        return metadata.has("tokenizer.ggml.merges") ? Optional.of(metadata.getStringList("tokenizer.ggml.merges"))
                : Optional.empty();
    }

    public OptionalInt bosTokenId() {
        return optionalInt("tokenizer.ggml.bos_token_id");
    }

    public OptionalInt eosTokenId() {
        return optionalInt("tokenizer.ggml.eos_token_id");
    }

    private OptionalInt optionalInt(String key) {
        return metadata.has(key) ? OptionalInt.of(metadata.getInt(key)) : OptionalInt.empty();
    }

    // ------------------------------------------------------------------ ModelWeights

    @Override
    public Path source() {
        return file;
    }

    @Override
    public String fileFormat() {
        return "gguf";
    }

    @Override
    public String architecture() {
        return architecture;
    }

    @Override
    public LlamaConfig config() {
        return config;
    }

    /** Canonical names only, shapes row-major ({@code [rows, cols]}). */
    @Override
    public Map<String, int[]> shapes() {
        Map<String, int[]> m = new LinkedHashMap<>();
        canonical.forEach((name, t) -> m.put(name, t.shape()));
        return Collections.unmodifiableMap(m);
    }

    @Override
    public boolean has(String name) {
        return canonical.containsKey(name);
    }

    /** Dequantized to fp32, row-major; accepts canonical and GGUF names. */
    @Override
    public float[] floats(String name) {
        GgufTensorInfo t = tensor(name);
        long n = t.elements();
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("GGUF file " + file + ": tensor '" + t.name() + "' has " + n
                    + " values, more than one float[] holds");
        }
        float[] out = new float[(int) n];
        t.type().dequantize(data, t.fileOffset(), out, 0, (int) n);
        return out;
    }

    @Override
    public String storedType(String name) {
        return tensor(name).type().name();
    }

    @Override
    public void close() {
        arena.close();
    }

    @Override
    public String toString() {
        return "GgufFile[" + file + ", v" + version + ", " + architecture + ", " + tensors.size() + " tensors, "
                + config + "]";
    }
}
