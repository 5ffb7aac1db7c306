package io.quantgate.kernels.format;

/**
 * IEEE binary16 helpers. Scales are stored as fp16 and the stored value is the one used to compute
 * codes, so every conversion goes through the JDK's round-to-nearest-even {@link Float#floatToFloat16}
 * to match the C side's {@code _cvtss_sh}/{@code F16C} rounding bit for bit.
 */
public final class Fp16 {
    /** The largest finite binary16 value; anything larger in magnitude would become infinity. */
    public static final float MAX = 65504f;

    private Fp16() {
    }

    /** Round-to-nearest-even fp32 → fp16 bits. */
    public static short toBits(float v) {
        return Float.floatToFloat16(v);
    }

    public static float toFloat(short bits) {
        return Float.float16ToFloat(bits);
    }

    /** The fp32 value a float becomes after a round trip through fp16 ("fp16(v)" in docs/formats.md). */
    public static float round(float v) {
        return Float.float16ToFloat(Float.floatToFloat16(v));
    }

    /** True when {@code v} is finite and within the fp16 range, i.e. storing it loses no magnitude to Inf. */
    public static boolean fits(float v) {
        return Math.abs(v) <= MAX;
    }
}
