package io.quantgate.kernels.reference;

import java.util.Objects;

/**
 * Per-block int8 quantization of activations, the operand of the int8-activation kernels.
 *
 * <p>The expression {@code (int)(Math.abs(x / sx) + 0.5f)} is taken verbatim from docs/formats.md and
 * evaluated in fp32 so the native side (which does exactly this with SIMD fp32 ops) matches bit for
 * bit; "better" rounding here would make the oracle disagree with a correct kernel.
 */
public final class ActivationQuantizer {
    /** K values per activation scale. */
    public static final int BLOCK = 32;

    private ActivationQuantizer() {
    }

    public static QuantizedActivations quantize(float[] x, int m, int k) {
        Objects.requireNonNull(x, "x");
        if (m <= 0 || k <= 0) {
            throw new IllegalArgumentException("activation shape must be positive, got " + m + "x" + k);
        }
        if ((long) m * k != x.length) {
            throw new IllegalArgumentException(x.length + " activations given for shape " + m + "x" + k);
        }
        int blocks = (k + BLOCK - 1) / BLOCK;
        byte[] q = new byte[m * k];
        float[] scales = new float[m * blocks];
        for (int row = 0; row < m; row++) {
            int base = row * k;
            for (int b = 0; b < blocks; b++) {
                int from = b * BLOCK;
                int to = Math.min(k, from + BLOCK);
                float absmax = 0f;
                boolean finite = true;
                for (int c = from; c < to; c++) {
                    float v = x[base + c];
                    if (!Float.isFinite(v)) {
                        finite = false;
                        break;
                    }
                    absmax = Math.max(absmax, Math.abs(v));
                }
                if (!finite) {
                    // a NaN must not hide behind a clamp: every output reading this block becomes NaN
                    scales[row * blocks + b] = Float.NaN;
                    continue;
                }
                float sx = absmax / 127f;
                scales[row * blocks + b] = sx;
                if (sx == 0f) {
                    continue;
                }
                for (int c = from; c < to; c++) {
                    float v = x[base + c];
                    int mag = Math.min(127, (int) (Math.abs(v / sx) + 0.5f));
                    q[base + c] = (byte) (v < 0 ? -mag : mag);
                }
            }
        }
        return new QuantizedActivations(m, k, q, scales);
    }
}
