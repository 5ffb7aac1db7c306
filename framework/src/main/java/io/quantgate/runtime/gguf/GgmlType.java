package io.quantgate.runtime.gguf;

import io.quantgate.kernels.format.Bf16;
import io.quantgate.kernels.format.Fp16;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Optional;

/**
 * The ggml tensor data types QuantGate reads (all of them) and writes (F32, F16, BF16, Q8_0, Q4_0). A
 * tensor's innermost dimension {@code ne[0]} is a whole number of blocks; a row of {@code ne[0]} values
 * takes {@code ne[0] / blockSize · bytesPerBlock} bytes and rows follow each other without padding.
 *
 * <p>Ids of the other ggml types are known only by name ({@link #nameOf}), so that a file using one of
 * them is rejected with "unsupported type Q5_K" instead of "unknown type 13".
 */
public enum GgmlType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    Q4_0(2, BlockQ4_0.VALUES, BlockQ4_0.BYTES),
    Q8_0(8, BlockQ8_0.VALUES, BlockQ8_0.BYTES),
    Q4_K(12, BlockQ4_K.VALUES, BlockQ4_K.BYTES),
    Q6_K(14, BlockQ6_K.VALUES, BlockQ6_K.BYTES),
    BF16(30, 1, 2);

    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * ggml's type names by id (ggml.h {@code enum ggml_type}); {@code null} for ids ggml has retired
     * (4, 5: Q4_2/Q4_3; 31..33 and 36..38: repacked CPU layouts that never appear in files).
     */
    private static final String[] GGML_NAMES = {
            "F32", "F16", "Q4_0", "Q4_1", null, null, "Q5_0", "Q5_1", "Q8_0", "Q8_1",
            "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K", "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S",
            "IQ4_NL", "IQ3_S", "IQ2_S", "IQ4_XS", "I8", "I16", "I32", "I64", "F64", "IQ1_M",
            "BF16", null, null, null, "TQ1_0", "TQ2_0", null, null, null, "MXFP4"};

    private final int id;
    private final int blockSize;
    private final int bytesPerBlock;

    GgmlType(int id, int blockSize, int bytesPerBlock) {
        this.id = id;
        this.blockSize = blockSize;
        this.bytesPerBlock = bytesPerBlock;
    }

    /** The {@code ggml_type} number stored in a GGUF tensor info. */
    public int id() {
        return id;
    }

    /** Values per block (1 for the float types). */
    public int blockSize() {
        return blockSize;
    }

    public int bytesPerBlock() {
        return bytesPerBlock;
    }

    /**
     * Bytes of one row of {@code ne0} values.
     *
     * @throws IllegalArgumentException when {@code ne0} is not a positive multiple of the block size
     */
    public long rowBytes(long ne0) {
        if (ne0 <= 0 || ne0 % blockSize != 0) {
            throw new IllegalArgumentException(name() + " rows hold whole blocks of " + blockSize
                    + " values; a row of " + ne0 + " values is not one");
        }
        return Math.multiplyExact(ne0 / blockSize, (long) bytesPerBlock);
    }

    /** The supported type with this id, if any. */
    public static Optional<GgmlType> byId(int id) {
        for (GgmlType t : values()) {
            if (t.id == id) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    /** ggml's name for a type id ("Q5_K"), or {@code "unknown type id <n>"} for ids ggml does not define. */
    public static String nameOf(int id) {
        if (id >= 0 && id < GGML_NAMES.length && GGML_NAMES[id] != null) {
            return GGML_NAMES[id] + " (type id " + id + ")";
        }
        return "unknown type id " + Integer.toUnsignedString(id);
    }

    /**
     * Dequantizes {@code count} values (a whole number of blocks) stored at {@code offset} of {@code src}
     * into {@code out[outOffset ..]}, exactly as ggml's {@code dequantize_row_*} / fp16 / bf16 conversions do.
     */
    public void dequantize(MemorySegment src, long offset, float[] out, int outOffset, int count) {
        if (count % blockSize != 0) {
            throw new IllegalArgumentException(count + " values are not whole " + name() + " blocks of " + blockSize);
        }
        int blocks = count / blockSize;
        switch (this) {
            case F32 -> MemorySegment.copy(src, LE_FLOAT, offset, out, outOffset, count);
            case F16 -> {
                for (int i = 0; i < count; i++) {
                    out[outOffset + i] = Fp16.toFloat(src.get(LE_SHORT, offset + 2L * i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    out[outOffset + i] = Bf16.toFloat(src.get(LE_SHORT, offset + 2L * i));
                }
            }
            case Q8_0 -> BlockQ8_0.decode(src, offset, blocks, out, outOffset);
            case Q4_0 -> BlockQ4_0.decode(src, offset, blocks, out, outOffset);
            case Q4_K -> BlockQ4_K.decode(src, offset, blocks, out, outOffset);
            case Q6_K -> BlockQ6_K.decode(src, offset, blocks, out, outOffset);
        }
    }
}
