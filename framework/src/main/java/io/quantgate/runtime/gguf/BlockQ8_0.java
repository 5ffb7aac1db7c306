package io.quantgate.runtime.gguf;

import io.quantgate.kernels.format.Fp16;
import io.quantgate.kernels.format.QuantizedMatrix;
import io.quantgate.kernels.format.WeightFormat;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/**
 * ggml's {@code block_q8_0}: 32 values as an fp16 scale {@code d} (little-endian) followed by 32 signed
 * bytes {@code qs}; value {@code j} is {@code qs[j] · d}. This is QuantGate's {@code int8-g32} with codes in
 * −127..127 and the same fp16 scale, so an int8-g32 matrix converts to Q8_0 bit for bit ({@link #encode(QuantizedMatrix)}).
 */
public final class BlockQ8_0 {
    public static final int VALUES = 32;
    public static final int BYTES = 2 + VALUES;

    private BlockQ8_0() {
    }

    /** Decodes {@code blocks} blocks at {@code offset} of {@code src} into {@code out[outOffset ..]}. */
    public static void decode(MemorySegment src, long offset, int blocks, float[] out, int outOffset) {
        byte[] b = new byte[BYTES];
        for (int i = 0; i < blocks; i++) {
            MemorySegment.copy(src, ValueLayout.JAVA_BYTE, offset + (long) i * BYTES, b, 0, BYTES);
            float d = Fp16.toFloat(Blocks.le16(b, 0));
            int o = outOffset + i * VALUES;
            for (int j = 0; j < VALUES; j++) {
                out[o + j] = b[2 + j] * d;
            }
        }
    }

    /**
     * Quantizes {@code n} values (a multiple of 32) from {@code x[offset ..]} as ggml's
     * {@code quantize_row_q8_0_ref} does: {@code d = absmax/127} in fp32, codes {@code roundf(x · (1/d))}
     * computed with that unrounded {@code d}, then {@code d} stored as fp16.
     *
     * @param what names the tensor in errors
     * @throws IllegalArgumentException when {@code n} is not a multiple of 32, a value is NaN/Inf, or a
     *                                  scale overflows fp16
     */
    public static byte[] quantize(float[] x, int offset, int n, String what) {
        Blocks.checkWhole(n, VALUES, "Q8_0", what);
        byte[] out = new byte[n / VALUES * BYTES];
        for (int i = 0; i < n / VALUES; i++) {
            int base = offset + i * VALUES;
            float amax = 0f;
            for (int j = 0; j < VALUES; j++) {
                float v = Blocks.finite(x[base + j], base + j, what);
                amax = Math.max(amax, Math.abs(v));
            }
            float d = amax / 127;
            float id = d != 0f ? 1.0f / d : 0.0f;
            int o = i * BYTES;
            Blocks.putLe16(out, o, Blocks.fp16Scale(d, base, what));
            for (int j = 0; j < VALUES; j++) {
                out[o + 2 + j] = (byte) Blocks.roundHalfAway(x[base + j] * id);
            }
        }
        return out;
    }

    /**
     * Packs codes and fp16 scales computed elsewhere: block {@code i} gets {@code fp16Scales[i]} and
     * {@code codes[32i .. 32i+31]}; the decoded values are exactly {@code codes[j] · fp16(scale)}.
     */
    public static byte[] encode(byte[] codes, short[] fp16Scales) {
        Objects.requireNonNull(codes, "codes");
        Objects.requireNonNull(fp16Scales, "fp16Scales");
        if (codes.length != (long) fp16Scales.length * VALUES) {
            throw new IllegalArgumentException("Q8_0 needs 32 codes per scale: " + codes.length + " codes, "
                    + fp16Scales.length + " scales");
        }
        byte[] out = new byte[fp16Scales.length * BYTES];
        for (int i = 0; i < fp16Scales.length; i++) {
            Blocks.checkScale(fp16Scales[i], i);
            Blocks.putLe16(out, i * BYTES, fp16Scales[i]);
            System.arraycopy(codes, i * VALUES, out, i * BYTES + 2, VALUES);
        }
        return out;
    }

    /**
     * The Q8_0 blocks of a QuantGate {@code int8-g32} matrix (rows of a multiple of 32 columns), row-major:
     * they dequantize to exactly {@link QuantizedMatrix#dequantize()}.
     */
    public static byte[] encode(QuantizedMatrix m) {
        Blocks.checkGroup32(m, WeightFormat.INT8, "Q8_0", "int8-g32");
        int rows = m.rows(), cols = m.cols(), groups = cols / VALUES;
        byte[] codes = new byte[Math.multiplyExact(rows, cols)];
        short[] scales = new short[rows * groups];
        for (int r = 0; r < rows; r++) {
            for (int k = 0; k < cols; k++) {
                codes[r * cols + k] = (byte) m.code(r, k);
            }
            for (int g = 0; g < groups; g++) {
                scales[r * groups + g] = m.scaleBits(r, g);
            }
        }
        return encode(codes, scales);
    }
}
