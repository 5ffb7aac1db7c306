package io.quantgate.kernels.format;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.IntStream;

/**
 * Quantizes (or converts, for dense formats) fp32 weights exactly as docs/formats.md specifies. This is
 * the reference the native kernels' formats are defined by, so every operation is spelled out in fp32
 * in the documented order rather than "simplified".
 *
 * <p>Rows are independent, so large tensors are quantized in parallel. The result is bit-identical to
 * the sequential order because no value depends on another row. Parallel work writes into heap buffers
 * that are then copied into the caller's segments on the calling thread: the caller's arena may be
 * confined, and confined segments must not be touched by pool threads.
 */
public final class GroupQuantizer {
    /** Below this many weights the fork/join overhead outweighs the work. */
    private static final long PARALLEL_THRESHOLD = 1L << 16;
    /** Bound on the heap staging buffer per batch of rows. */
    private static final long BATCH_BYTES = 32L << 20;

    private GroupQuantizer() {
    }

    public static QuantizedMatrix quantize(ConfigId id, int n, int k, float[] w, Arena arena) {
        return quantize(id, n, k, w, arena, "tensor");
    }

    /**
     * @param tensorName named in every error so that a bad weight can be traced to its tensor in a model
     * @throws IllegalArgumentException on a shape mismatch, a NaN/Inf weight, or a value/scale beyond fp16
     */
    public static QuantizedMatrix quantize(ConfigId id, int n, int k, float[] w, Arena arena, String tensorName) {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(w, "w");
        Objects.requireNonNull(arena, "arena");
        String name = tensorName == null ? "tensor" : tensorName;
        if (n <= 0 || k <= 0) {
            throw new IllegalArgumentException("tensor '" + name + "': shape must be positive, got " + n + "x" + k);
        }
        if ((long) n * k != w.length) {
            throw new IllegalArgumentException("tensor '" + name + "': " + w.length + " weights given for shape "
                    + n + "x" + k + " (expected " + ((long) n * k) + ")");
        }
        QuantizedMatrix out = QuantizedMatrix.allocate(id, n, k, arena);
        RowWriter writer = new RowWriter(id, k, w, name);
        long rowBytes = out.rowBytes();
        if (rowBytes > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("tensor '" + name + "': one row of " + k + " " + id
                    + " values needs " + rowBytes + " bytes, more than a staging buffer holds");
        }
        int groups = out.groupsPerRow();
        int batchRows = (int) Math.max(1, Math.min(n, BATCH_BYTES / Math.max(1, rowBytes)));
        boolean parallel = (long) n * k >= PARALLEL_THRESHOLD;

        byte[] codeBuf = new byte[(int) (batchRows * rowBytes)];
        byte[] scaleBuf = new byte[2 * batchRows * groups];
        byte[] zeroBuf = new byte[out.zeroBytes() > 0 ? batchRows * groups : 0];
        MemorySegment codeSeg = MemorySegment.ofArray(codeBuf);
        MemorySegment scaleSeg = MemorySegment.ofArray(scaleBuf);
        MemorySegment zeroSeg = MemorySegment.ofArray(zeroBuf);

        for (int r0 = 0; r0 < n; r0 += batchRows) {
            final int first = r0;
            int count = Math.min(batchRows, n - r0);
            IntStream rowsInBatch = IntStream.range(0, count);
            if (parallel) {
                rowsInBatch = rowsInBatch.parallel();
            }
            // findFirst keeps encounter order, so the reported error is the first bad row even in parallel
            Optional<String> error = rowsInBatch
                    .mapToObj(i -> writer.row(first + i, codeSeg, i * rowBytes, scaleSeg, 2L * i * groups,
                            zeroSeg, (long) i * groups))
                    .filter(Objects::nonNull)
                    .findFirst();
            if (error.isPresent()) {
                throw new IllegalArgumentException(error.get());
            }
            MemorySegment.copy(codeSeg, 0, out.codes(), first * rowBytes, count * rowBytes);
            if (groups > 0) {
                MemorySegment.copy(scaleSeg, 0, out.scales(), 2L * first * groups, 2L * count * groups);
            }
            if (zeroBuf.length > 0) {
                MemorySegment.copy(zeroSeg, 0, out.zeros(), (long) first * groups, (long) count * groups);
            }
        }
        return out;
    }

    /** {@code roundAway(v)}: nearest integer, ties away from zero (in double, so |v|+0.5 is exact). */
    static int roundAway(float v) {
        double a = Math.floor(Math.abs((double) v) + 0.5);
        return (int) Math.copySign(a, v);
    }

    /** Quantizes single rows into staging segments; returns an error message instead of throwing. */
    private static final class RowWriter {
        private final WeightFormat f;
        private final int k;
        private final int g;
        private final float[] w;
        private final String name;

        RowWriter(ConfigId id, int k, float[] w, String name) {
            this.f = id.format();
            this.k = k;
            this.g = id.effectiveGroup(k);
            this.w = w;
            this.name = name;
        }

        String row(int r, MemorySegment codes, long codeOff, MemorySegment scales, long scaleOff,
                   MemorySegment zeros, long zeroOff) {
            int base = r * k;
            for (int c = 0; c < k; c++) {
                float v = w[base + c];
                if (!Float.isFinite(v)) {
                    return "tensor '" + name + "': non-finite weight " + v + " at row " + r + ", column " + c;
                }
            }
            switch (f) {
                case FP32 -> {
                    for (int c = 0; c < k; c++) {
                        codes.set(QuantizedMatrix.LE_FLOAT, codeOff + 4L * c, w[base + c]);
                    }
                    return null;
                }
                case FP16 -> {
                    for (int c = 0; c < k; c++) {
                        float v = w[base + c];
                        if (!Fp16.fits(v)) {
                            return "tensor '" + name + "': weight " + v + " at row " + r + ", column " + c
                                    + " overflows fp16 (|v| > 65504)";
                        }
                        codes.set(QuantizedMatrix.LE_SHORT, codeOff + 2L * c, Fp16.toBits(v));
                    }
                    return null;
                }
                case BF16 -> {
                    for (int c = 0; c < k; c++) {
                        float v = w[base + c];
                        short b = Bf16.toBits(v);
                        if (Float.isInfinite(Bf16.toFloat(b))) {
                            return "tensor '" + name + "': weight " + v + " at row " + r + ", column " + c
                                    + " overflows bf16 (rounds to infinity)";
                        }
                        codes.set(QuantizedMatrix.LE_SHORT, codeOff + 2L * c, b);
                    }
                    return null;
                }
                default -> {
                    return quantizedRow(r, base, codes, codeOff, scales, scaleOff, zeros, zeroOff);
                }
            }
        }

        private String quantizedRow(int r, int base, MemorySegment codes, long codeOff, MemorySegment scales,
                                    long scaleOff, MemorySegment zeros, long zeroOff) {
            int groups = (k + g - 1) / g;
            int word = 0;
            for (int gi = 0; gi < groups; gi++) {
                int from = gi * g;
                int to = Math.min(k, from + g);
                float absmax = 0f;
                float min = 0f;
                float max = 0f;
                int argmax = from;
                for (int c = from; c < to; c++) {
                    float v = w[base + c];
                    float a = Math.abs(v);
                    if (a > absmax) {
                        absmax = a;
                        argmax = c;
                    }
                    min = Math.min(min, v);
                    max = Math.max(max, v);
                }
                float raw = GroupCodec.rawScale(f, absmax, min, max); // min/max start at 0: the range includes 0
                if (!Fp16.fits(raw)) {
                    return "tensor '" + name + "': scale " + raw + " of row " + r + ", columns " + from + ".." + (to - 1)
                            + " (largest weight " + w[base + argmax] + " at column " + argmax
                            + ") overflows fp16 (|v| > 65504)";
                }
                short sBits = Fp16.toBits(raw);
                float s = Fp16.toFloat(sBits);
                scales.set(QuantizedMatrix.LE_SHORT, scaleOff + 2L * gi, sBits);
                int z = 0;
                if (f == WeightFormat.INT4) {
                    z = GroupCodec.zeroPoint(s, min);
                    zeros.set(ValueLayout.JAVA_BYTE, zeroOff + gi, (byte) z);
                }
                for (int c = from; c < to; c++) {
                    int code = GroupCodec.encode(f, w[base + c], s, z);
                    if (f == WeightFormat.INT8) {
                        codes.set(ValueLayout.JAVA_BYTE, codeOff + c, (byte) code);
                    } else {
                        word |= code << ((c & 7) << 2);
                        if ((c & 7) == 7 || c == k - 1) {
                            codes.set(QuantizedMatrix.LE_INT, codeOff + 4L * (c >>> 3), word);
                            word = 0;
                        }
                    }
                }
            }
            return null;
        }
    }
}
