package io.quantgate.runtime.gguf;

import io.quantgate.kernels.format.Fp16;
import io.quantgate.kernels.format.QuantizedMatrix;
import io.quantgate.kernels.format.WeightFormat;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/**
 * ggml's {@code block_q4_0}: 32 values as an fp16 scale {@code d} (little-endian) and 16 bytes {@code qs};
 * byte {@code j} holds element {@code j} in its low nibble and element {@code j+16} in its high nibble, and
 * a nibble {@code n} means {@code (n − 8) · d}. QuantGate's {@code int4s-g32} (codes −8..7, fp16 scale) is
 * the same set of values with nibble {@code q + 8}, so it converts bit for bit ({@link #encode(QuantizedMatrix)}).
 */
public final class BlockQ4_0 {
    public static final int VALUES = 32;
    public static final int BYTES = 2 + VALUES / 2;

    private BlockQ4_0() {
    }

    public static void decode(MemorySegment src, long offset, int blocks, float[] out, int outOffset) {
        byte[] b = new byte[BYTES];
        for (int i = 0; i < blocks; i++) {
            MemorySegment.copy(src, ValueLayout.JAVA_BYTE, offset + (long) i * BYTES, b, 0, BYTES);
            float d = Fp16.toFloat(Blocks.le16(b, 0));
            int o = outOffset + i * VALUES;
            for (int j = 0; j < VALUES / 2; j++) {
                int q = b[2 + j] & 0xFF;
                out[o + j] = ((q & 0x0F) - 8) * d;
                out[o + j + VALUES / 2] = ((q >>> 4) - 8) * d;
            }
        }
    }

    /**
     * Quantizes as ggml's {@code quantize_row_q4_0_ref}: {@code d = m / −8} where {@code m} is the first
     * value of largest magnitude (sign kept, so that value lands exactly on code −8), codes
     * {@code min(15, trunc(x · (1/d) + 8.5))} with the unrounded {@code d}, then {@code d} stored as fp16.
     *
     * @throws IllegalArgumentException when {@code n} is not a multiple of 32, a value is NaN/Inf, or a
     *                                  scale overflows fp16
     */
    public static byte[] quantize(float[] x, int offset, int n, String what) {
        Blocks.checkWhole(n, VALUES, "Q4_0", what);
        byte[] out = new byte[n / VALUES * BYTES];
        for (int i = 0; i < n / VALUES; i++) {
            int base = offset + i * VALUES;
            float amax = 0f, max = 0f;
            for (int j = 0; j < VALUES; j++) {
                float v = Blocks.finite(x[base + j], base + j, what);
                if (amax < Math.abs(v)) {
                    amax = Math.abs(v);
                    max = v;
                }
            }
            float d = max / -8;
            float id = d != 0f ? 1.0f / d : 0.0f;
            int o = i * BYTES;
            Blocks.putLe16(out, o, Blocks.fp16Scale(d, base, what));
            for (int j = 0; j < VALUES / 2; j++) {
                // x·id lies in [−8, 8], so the sum is positive and the int cast is C's truncation
                int lo = Math.min(15, (int) (x[base + j] * id + 8.5f));
                int hi = Math.min(15, (int) (x[base + VALUES / 2 + j] * id + 8.5f));
                out[o + 2 + j] = (byte) (lo | hi << 4);
            }
        }
        return out;
    }

    /**
     * Packs signed codes (−8..7) and fp16 scales computed elsewhere: block {@code i} gets
     * {@code fp16Scales[i]} and {@code codes[32i .. 32i+31]}; decoded values are exactly {@code codes[j] · fp16(scale)}.
     */
    public static byte[] encode(byte[] codes, short[] fp16Scales) {
        Objects.requireNonNull(codes, "codes");
        Objects.requireNonNull(fp16Scales, "fp16Scales");
        if (codes.length != (long) fp16Scales.length * VALUES) {
            throw new IllegalArgumentException("Q4_0 needs 32 codes per scale: " + codes.length + " codes, "
                    + fp16Scales.length + " scales");
        }
        byte[] out = new byte[fp16Scales.length * BYTES];
        for (int i = 0; i < fp16Scales.length; i++) {
            Blocks.checkScale(fp16Scales[i], i);
            Blocks.putLe16(out, i * BYTES, fp16Scales[i]);
            for (int j = 0; j < VALUES / 2; j++) {
                int lo = nibble(codes, i * VALUES + j);
                int hi = nibble(codes, i * VALUES + VALUES / 2 + j);
                out[i * BYTES + 2 + j] = (byte) (lo | hi << 4);
            }
        }
        return out;
    }

    private static int nibble(byte[] codes, int index) {
        int q = codes[index];
        if (q < -8 || q > 7) {
            throw new IllegalArgumentException("Q4_0 code " + q + " at index " + index + " is outside −8..7");
        }
        return q + 8;
    }

    /**
     * The Q4_0 blocks of a QuantGate {@code int4s-g32} matrix (rows of a multiple of 32 columns), row-major:
     * they dequantize to exactly {@link QuantizedMatrix#dequantize()}.
     */
    public static byte[] encode(QuantizedMatrix m) {
        Blocks.checkGroup32(m, WeightFormat.INT4S, "Q4_0", "int4s-g32");
        int rows = m.rows(), cols = m.cols(), groups = cols / VALUES;
        byte[] codes = new byte[Math.multiplyExact(rows, cols)];
        short[] scales = new short[rows * groups];
        for (int r = 0; r < rows; r++) {
            for (int k = 0; k < cols; k++) {
                codes[r * cols + k] = (byte) ((m.code(r, k) << 28) >> 28); // two's-complement nibble → −8..7
            }
            for (int g = 0; g < groups; g++) {
                scales[r * groups + g] = m.scaleBits(r, g);
            }
        }
        return encode(codes, scales);
    }
}
