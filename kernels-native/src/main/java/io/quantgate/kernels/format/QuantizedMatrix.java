package io.quantgate.kernels.format;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * A weight matrix {@code [N out, K in]} in one of the {@link WeightFormat}s, laid out exactly as the
 * table in docs/formats.md so that the same segments can be handed to the native kernels unchanged.
 *
 * <p>The data lives off-heap in {@link MemorySegment}s because real layer shapes exceed what Java arrays
 * address comfortably and because the native kernels need stable, 64-byte aligned addresses. This class
 * never owns an arena: the caller decides the lifetime (and thread confinement) of the memory.
 */
public final class QuantizedMatrix {
    /** Segment alignment: one cache line and one AVX-512 vector, so aligned vector loads are legal. */
    public static final long ALIGNMENT = 64;

    static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final ConfigId config;
    private final int rows;
    private final int cols;
    private final int groupSize;
    private final int groupsPerRow;
    private final MemorySegment codes;
    private final MemorySegment scales;
    private final MemorySegment zeros;

    private QuantizedMatrix(ConfigId config, int rows, int cols, MemorySegment codes, MemorySegment scales,
                            MemorySegment zeros) {
        this.config = config;
        this.rows = rows;
        this.cols = cols;
        this.groupSize = config.effectiveGroup(cols);
        this.groupsPerRow = config.format().isDense() ? 0 : (int) ((cols + (long) groupSize - 1) / groupSize);
        this.codes = codes;
        this.scales = scales;
        this.zeros = zeros;
    }

    // ---------------------------------------------------------------- construction

    /**
     * Wraps existing data after checking every segment has exactly the size the layout implies; a wrong
     * size almost always means a wrong shape or format and would otherwise surface as garbage outputs
     * (or a crash) deep inside a native kernel. A {@code null} scales/zeros argument means "none".
     */
    public static QuantizedMatrix of(ConfigId config, int n, int k, MemorySegment codes, MemorySegment scales,
                                     MemorySegment zeros) {
        Objects.requireNonNull(config, "config");
        checkShape(n, k);
        Objects.requireNonNull(codes, "codes");
        scales = scales == null ? MemorySegment.NULL : scales;
        zeros = zeros == null ? MemorySegment.NULL : zeros;
        Sizes sz = Sizes.of(config, n, k);
        String what = config + " " + n + "x" + k;
        if (codes.byteSize() != sz.codeBytes) {
            throw new IllegalArgumentException("codes of " + what + " must be " + sz.codeBytes + " bytes ("
                    + n + " rows x " + sz.rowBytes + "), got " + codes.byteSize());
        }
        if (scales.byteSize() != sz.scaleBytes) {
            throw new IllegalArgumentException(sz.scaleBytes == 0
                    ? "scales of " + what + " must be MemorySegment.NULL (dense formats have no scales), got "
                    + scales.byteSize() + " bytes"
                    : "scales of " + what + " must be " + sz.scaleBytes + " bytes (fp16 [" + n + "][" + sz.groups
                    + "]), got " + scales.byteSize());
        }
        if (zeros.byteSize() != sz.zeroBytes) {
            throw new IllegalArgumentException(sz.zeroBytes == 0
                    ? "zeros of " + what + " must be MemorySegment.NULL (only int4 has zero points), got "
                    + zeros.byteSize() + " bytes"
                    : "zeros of " + what + " must be " + sz.zeroBytes + " bytes (uint8 [" + n + "][" + sz.groups
                    + "]), got " + zeros.byteSize());
        }
        checkZeroPoints(what, zeros, sz.zeroBytes, sz.groups);
        return new QuantizedMatrix(config, n, k, codes,
                sz.scaleBytes == 0 ? MemorySegment.NULL : scales,
                sz.zeroBytes == 0 ? MemorySegment.NULL : zeros);
    }

    /**
     * Bytes a matrix of this id and shape packs into (codes + scales + zero points), without allocating it: what a
     * kernel reads per call.
     */
    public static long packedBytes(ConfigId config, int n, int k) {
        Objects.requireNonNull(config, "config");
        checkShape(n, k);
        Sizes sz = Sizes.of(config, n, k);
        return sz.codeBytes + sz.scaleBytes + sz.zeroBytes;
    }

    /**
     * Packs codes chosen elsewhere (GPTQ, importance-weighted search) into the layout of SPEC §1.
     *
     * @param codes     {@code [n][k]} row-major: nibbles 0..15 for 4-bit formats, −127..127 for int8
     * @param scaleBits {@code [n][groups]} fp16 bits
     * @param zeros     {@code [n][groups]} int4 zero points 0..15; null for other formats
     * @throws IllegalArgumentException when a size or a code is out of range
     */
    public static QuantizedMatrix pack(ConfigId config, int n, int k, int[] codes, short[] scaleBits, byte[] zeros,
                                       Arena arena) {
        WeightFormat f = config.format();
        if (f.isDense()) {
            throw new IllegalArgumentException("dense " + config + " has no codes to pack");
        }
        QuantizedMatrix m = allocate(config, n, k, arena);
        int groups = m.groupsPerRow;
        if (codes.length != (long) n * k || scaleBits.length != (long) n * groups
                || (f == WeightFormat.INT4) != (zeros != null) || (zeros != null && zeros.length != (long) n * groups)) {
            throw new IllegalArgumentException("codes/scales/zeros of " + config + " " + n + "x" + k + " must hold "
                    + ((long) n * k) + "/" + ((long) n * groups) + "/" + (f == WeightFormat.INT4 ? n * groups : 0)
                    + " values, got " + codes.length + "/" + scaleBits.length + "/" + (zeros == null ? 0 : zeros.length));
        }
        long rowBytes = m.rowBytes();
        for (int r = 0; r < n; r++) {
            long row = r * rowBytes;
            int word = 0;
            for (int c = 0; c < k; c++) {
                int code = codes[r * k + c];
                if (f == WeightFormat.INT8) {
                    if (code < -127 || code > 127) {
                        throw new IllegalArgumentException("int8 code " + code + " at (" + r + ", " + c + ") is outside -127..127");
                    }
                    m.codes.set(ValueLayout.JAVA_BYTE, row + c, (byte) code);
                } else {
                    if (code < 0 || code > 15) {
                        throw new IllegalArgumentException("4-bit code " + code + " at (" + r + ", " + c + ") is outside 0..15");
                    }
                    word |= code << ((c & 7) << 2);
                    if ((c & 7) == 7 || c == k - 1) {
                        m.codes.set(LE_INT, row + 4L * (c >>> 3), word);
                        word = 0;
                    }
                }
            }
        }
        MemorySegment.copy(scaleBits, 0, m.scales, LE_SHORT, 0, scaleBits.length);
        if (zeros != null) {
            MemorySegment.copy(zeros, 0, m.zeros, ValueLayout.JAVA_BYTE, 0, zeros.length);
            checkZeroPoints(config + " " + n + "x" + k, m.zeros, zeros.length, groups);
        }
        return m;
    }

    /** Every int4 zero point is 0..15 (SPEC §1; the native panel kernel folds them into 0..30 bytes, q - z + 15). */
    private static void checkZeroPoints(String what, MemorySegment zeros, long count, int groups) {
        for (long i = 0; i < count; i++) {
            int z = Byte.toUnsignedInt(zeros.get(ValueLayout.JAVA_BYTE, i));
            if (z > 15) {
                throw new IllegalArgumentException("zeros of " + what + ": int4 zero point " + z + " at row "
                        + i / groups + ", group " + i % groups + " is outside 0..15");
            }
        }
    }

    /**
     * Allocates zero-filled, 64-byte aligned segments of the right sizes (all codes 0, scales 0). A caller that writes
     * int4 zero points into {@link #zeros()} writes values 0..15 (SPEC §1); {@link #of} and {@link #pack} check them.
     */
    public static QuantizedMatrix allocate(ConfigId config, int n, int k, Arena arena) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(arena, "arena");
        checkShape(n, k);
        Sizes sz = Sizes.of(config, n, k);
        MemorySegment c = arena.allocate(sz.codeBytes, ALIGNMENT);
        MemorySegment s = sz.scaleBytes == 0 ? MemorySegment.NULL : arena.allocate(sz.scaleBytes, ALIGNMENT);
        MemorySegment z = sz.zeroBytes == 0 ? MemorySegment.NULL : arena.allocate(sz.zeroBytes, ALIGNMENT);
        return new QuantizedMatrix(config, n, k, c, s, z);
    }

    /**
     * Random but valid content for throughput benchmarks, where quantizing hundreds of MB of synthetic
     * weights would dominate setup time and the values do not matter. Codes are bulk-filled with random
     * longs (masked so that every value is one the quantizer could produce or at least a finite weight),
     * scales are positive fp16 in [2^-7, 2^-5) (around 0.01), zeros 0..15, padding nibbles 0.
     * Deterministic for a given seed.
     */
    public static QuantizedMatrix random(ConfigId config, int n, int k, long seed, Arena arena) {
        QuantizedMatrix m = allocate(config, n, k, arena);
        SplittableRandom rnd = new SplittableRandom(seed);
        WeightFormat f = config.format();
        // fp32: clear exponent bit 30 of each float → |v| < 2, never Inf/NaN.
        // fp16/bf16: clear bit 14 (top exponent bit) of each half → |v| < 2, finite.
        long codeMask = switch (f) {
            case FP32 -> 0xBFFF_FFFF_BFFF_FFFFL;
            case FP16, BF16 -> 0xBFFF_BFFF_BFFF_BFFFL;
            default -> -1L;
        };
        fillRandom(m.codes, rnd, codeMask, 0L, f == WeightFormat.INT8);
        if (f.isFourBit() && k % 8 != 0) {
            int keep = (k % 8) * 4;
            int mask = (int) ((1L << keep) - 1);
            long rowBytes = m.rowBytes();
            for (long r = 0; r < n; r++) {
                long off = r * rowBytes + rowBytes - 4;
                m.codes.set(LE_INT, off, m.codes.get(LE_INT, off) & mask);
            }
        }
        if (m.scales.byteSize() > 0) {
            // exponent field 8 or 9 (bits 0x2000..0x27FF): 2^-7 <= s < 2^-5, positive and normal
            fillRandom(m.scales, rnd, 0x07FF_07FF_07FF_07FFL, 0x2000_2000_2000_2000L, false);
        }
        if (m.zeros.byteSize() > 0) {
            fillRandom(m.zeros, rnd, 0x0F0F_0F0F_0F0F_0F0FL, 0L, false);
        }
        return m;
    }

    /**
     * Bulk fill with {@code (random & mask) | set}; the 8-byte pattern keeps alignment with 2- and 4-byte
     * elements because every segment starts 64-byte aligned. {@code noInt8Min} turns byte 0x80 (-128,
     * which int8 quantization never produces) into 0x81 with a SWAR zero-byte test.
     */
    private static void fillRandom(MemorySegment seg, SplittableRandom rnd, long mask, long set, boolean noInt8Min) {
        long size = seg.byteSize();
        long full = size & ~7L;
        for (long off = 0; off < full; off += 8) {
            long v = (rnd.nextLong() & mask) | set;
            if (noInt8Min) {
                v = fixInt8Min(v);
            }
            seg.set(LE_LONG, off, v);
        }
        if (full < size) {
            long v = (rnd.nextLong() & mask) | set;
            if (noInt8Min) {
                v = fixInt8Min(v);
            }
            for (long off = full; off < size; off++) {
                seg.set(ValueLayout.JAVA_BYTE, off, (byte) (v >>> (8 * (off - full))));
            }
        }
    }

    private static long fixInt8Min(long v) {
        final long lo7 = 0x7F7F_7F7F_7F7F_7F7FL;
        long t = v ^ 0x8080_8080_8080_8080L;            // bytes that were 0x80 are now 0x00
        long nonZero = ((t & lo7) + lo7) | t;             // high bit set in every non-zero byte
        long isMin = ~(nonZero | lo7);                    // 0x80 exactly where the byte was 0x80
        return v | (isMin >>> 7);                         // 0x80 -> 0x81
    }

    static void checkShape(int n, int k) {
        if (n <= 0 || k <= 0) {
            throw new IllegalArgumentException("matrix shape must be positive, got " + n + "x" + k);
        }
    }

    /** Byte sizes implied by (config, N, K); one place so allocation and validation cannot disagree. */
    record Sizes(long rowBytes, long codeBytes, int groups, long scaleBytes, long zeroBytes) {
        static Sizes of(ConfigId config, int n, int k) {
            WeightFormat f = config.format();
            long rowBytes = f.rowBytes(k);
            int g = config.effectiveGroup(k);
            int groups = f.isDense() ? 0 : (int) ((k + (long) g - 1) / g);
            long scaleBytes = 2L * n * groups;
            long zeroBytes = f == WeightFormat.INT4 ? (long) n * groups : 0;
            return new Sizes(rowBytes, rowBytes * n, groups, scaleBytes, zeroBytes);
        }
    }

    // ---------------------------------------------------------------- accessors

    public ConfigId config() {
        return config;
    }

    public WeightFormat format() {
        return config.format();
    }

    /** N, the number of output rows. */
    public int rows() {
        return rows;
    }

    /** K, the number of inputs per row. */
    public int cols() {
        return cols;
    }

    /** The effective group size along K (≤ K; K itself for per-row and clamped groups; K for dense). */
    public int groupSize() {
        return groupSize;
    }

    /** G = ceil(K / groupSize); 0 for dense formats. */
    public int groupsPerRow() {
        return groupsPerRow;
    }

    /**
     * The shape checks of {@code y = x · Wᵀ} over these weights for {@code m} activation rows {@code ldx} floats apart
     * and output rows {@code ldy} floats apart: m ≥ 1, ldx ≥ K, ldy ≥ N. Shared by every GEMM entry point (the
     * {@code Linear} wrapper and the native bindings), so they reject the same calls with the same words.
     */
    public void checkGemmShape(int m, long ldx, long ldy) {
        if (m < 1) {
            throw new IllegalArgumentException("batch m must be >= 1, got " + m);
        }
        if (ldx < cols || ldy < rows) {
            throw new IllegalArgumentException("leading dimensions too small: ldx=" + ldx + " < K=" + cols + " or ldy="
                    + ldy + " < N=" + rows);
        }
    }

    /** True when the config's group exceeded K and was clamped to one group per row (to be reported). */
    public boolean groupClamped() {
        return config.clampsGroup(cols);
    }

    public MemorySegment codes() {
        return codes;
    }

    /** fp16 scales {@code [N][G]}, or {@link MemorySegment#NULL} for dense formats. */
    public MemorySegment scales() {
        return scales;
    }

    /** uint8 zero points {@code [N][G]} for int4, else {@link MemorySegment#NULL}. */
    public MemorySegment zeros() {
        return zeros;
    }

    public long rowBytes() {
        return config.format().rowBytes(cols);
    }

    public long codeBytes() {
        return rowBytes() * rows;
    }

    public long scaleBytes() {
        return 2L * rows * groupsPerRow;
    }

    public long zeroBytes() {
        return config.format() == WeightFormat.INT4 ? (long) rows * groupsPerRow : 0;
    }

    /** Everything a kernel has to read: codes + scales + zeros. */
    public long packedBytes() {
        return codeBytes() + scaleBytes() + zeroBytes();
    }

    /** fp16 size over packed size (SPEC §1), so fp16 itself is exactly 1.0 and fp32 0.5. */
    public double compressionRatio() {
        return 2.0 * rows * cols / packedBytes();
    }

    /** The stored fp16 scale bits of group {@code g} of row {@code r}. */
    public short scaleBits(int r, int g) {
        checkGroup(r, g);
        return scales.get(LE_SHORT, 2L * ((long) r * groupsPerRow + g));
    }

    /** The stored scale of group {@code g} of row {@code r}, as the fp32 value used for codes and dequant. */
    public float scale(int r, int g) {
        return Fp16.toFloat(scaleBits(r, g));
    }

    /** The int4 zero point (0..15) of group {@code g} of row {@code r}; 0 for formats without zeros. */
    public int zero(int r, int g) {
        checkGroup(r, g);
        if (config.format() != WeightFormat.INT4) {
            return 0;
        }
        return zeros.get(ValueLayout.JAVA_BYTE, (long) r * groupsPerRow + g) & 0xFF;
    }

    /**
     * The raw stored code of element (r, k): the nibble 0..15 for 4-bit formats, the signed int8 for
     * int8, the unsigned 16-bit pattern for fp16/bf16 and the raw int bits for fp32. Tests compare these
     * bit-exactly against the native kernels' expectations.
     */
    public int code(int r, int k) {
        checkElement(r, k);
        long row = (long) r * rowBytes();
        return switch (config.format()) {
            case FP32 -> codes.get(LE_INT, row + 4L * k);
            case FP16, BF16 -> codes.get(LE_SHORT, row + 2L * k) & 0xFFFF;
            case INT8 -> codes.get(ValueLayout.JAVA_BYTE, row + k);
            case INT4, INT4S, FP4, NF4 -> Nibbles.get(codes, row, k);
        };
    }

    /** Row {@code r} dequantized to fp32 exactly as docs/formats.md defines (product in fp32). */
    public float[] dequantizeRow(int r) {
        if (r < 0 || r >= rows) {
            throw new IndexOutOfBoundsException("row " + r + " outside 0.." + (rows - 1));
        }
        float[] out = new float[cols];
        dequantizeRowInto(r, out, 0);
        return out;
    }

    /** The whole matrix, row-major; only for matrices that fit a Java array. */
    public float[] dequantize() {
        long total = (long) rows * cols;
        if (total > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("cannot dequantize " + rows + "x" + cols + " (" + total
                    + " values) into one float[]; use dequantizeRow");
        }
        float[] out = new float[(int) total];
        for (int r = 0; r < rows; r++) {
            dequantizeRowInto(r, out, r * cols);
        }
        return out;
    }

    private void dequantizeRowInto(int r, float[] out, int base) {
        long row = (long) r * rowBytes();
        WeightFormat f = config.format();
        switch (f) {
            case FP32 -> {
                for (int k = 0; k < cols; k++) {
                    out[base + k] = codes.get(LE_FLOAT, row + 4L * k);
                }
            }
            case FP16 -> {
                for (int k = 0; k < cols; k++) {
                    out[base + k] = Fp16.toFloat(codes.get(LE_SHORT, row + 2L * k));
                }
            }
            case BF16 -> {
                for (int k = 0; k < cols; k++) {
                    out[base + k] = Bf16.toFloat(codes.get(LE_SHORT, row + 2L * k));
                }
            }
            default -> {
                for (int g = 0; g < groupsPerRow; g++) {
                    float s = scale(r, g);
                    int z = zero(r, g);
                    int from = g * groupSize;
                    int to = Math.min(cols, from + groupSize);
                    for (int k = from; k < to; k++) {
                        out[base + k] = switch (f) {
                            case INT8 -> codes.get(ValueLayout.JAVA_BYTE, row + k) * s;
                            case INT4 -> (Nibbles.get(codes, row, k) - z) * s;
                            case INT4S -> ((Nibbles.get(codes, row, k) << 28) >> 28) * s;
                            case FP4 -> Fp4E2M1.decode(Nibbles.get(codes, row, k)) * s;
                            case NF4 -> Nf4.decode(Nibbles.get(codes, row, k)) * s;
                            default -> throw new AssertionError(f);
                        };
                    }
                }
            }
        }
    }

    private void checkGroup(int r, int g) {
        if (config.format().isDense()) {
            throw new IllegalStateException(config + " is dense and has no groups");
        }
        if (r < 0 || r >= rows || g < 0 || g >= groupsPerRow) {
            throw new IndexOutOfBoundsException("group (" + r + ", " + g + ") outside [" + rows + "][" + groupsPerRow + "]");
        }
    }

    private void checkElement(int r, int k) {
        if (r < 0 || r >= rows || k < 0 || k >= cols) {
            throw new IndexOutOfBoundsException("element (" + r + ", " + k + ") outside " + rows + "x" + cols);
        }
    }

    @Override
    public String toString() {
        return "QuantizedMatrix[" + config + " " + rows + "x" + cols + ", g=" + groupSize
                + (groupClamped() ? " (clamped from " + config.group() + ")" : "") + ", " + packedBytes() + " bytes]";
    }
}
