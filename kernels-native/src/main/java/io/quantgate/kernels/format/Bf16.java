package io.quantgate.kernels.format;

/**
 * bfloat16 helpers (the upper 16 bits of an fp32). The JDK has no bf16 conversion, and plain truncation
 * would bias every weight toward zero, so this rounds to nearest even like PyTorch and the C kernels.
 */
public final class Bf16 {
    private Bf16() {
    }

    /** Round-to-nearest-even fp32 → bf16 bits; a NaN stays a (quiet) NaN instead of rounding into Inf. */
    public static short toBits(float v) {
        int bits = Float.floatToRawIntBits(v);
        if (Float.isNaN(v)) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int rounded = bits + 0x7FFF + ((bits >>> 16) & 1);
        return (short) (rounded >>> 16);
    }

    public static float toFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** The fp32 value after a round trip through bf16. */
    public static float round(float v) {
        return toFloat(toBits(v));
    }
}
