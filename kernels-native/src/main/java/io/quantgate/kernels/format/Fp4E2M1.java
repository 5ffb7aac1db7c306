package io.quantgate.kernels.format;

/**
 * FP4 E2M1 codes: nibble = 8·sign + index into {@link #LEVELS}.
 *
 * <p>Zero always encodes as nibble 0 (never the "negative zero" nibble 8) so that the code of a value
 * does not depend on the sign of something that rounds to zero; nibble 8 still decodes, to -0.0.
 */
public final class Fp4E2M1 {
    /** The non-negative E2M1 magnitudes, indexed by the low 3 bits of a nibble. */
    public static final float[] LEVELS = {0f, 0.5f, 1f, 1.5f, 2f, 3f, 4f, 6f};

    /** The largest magnitude; the fp4 scale is {@code absmax / MAX} so the group's absmax maps here. */
    public static final float MAX = 6f;

    private static final Levels SEARCH = new Levels(LEVELS);

    private Fp4E2M1() {
    }

    /** Index 0..7 of the magnitude nearest to {@code |v|} (ties to even index, clamped at 6). */
    public static int index(float v) {
        return SEARCH.nearest(Math.abs(v));
    }

    /** The nibble of {@code v = w / s}. */
    public static int encode(float v) {
        int idx = index(v);
        return (v < 0 && idx > 0) ? 8 | idx : idx;
    }

    /** The signed level a nibble stands for. */
    public static float decode(int nibble) {
        float m = LEVELS[nibble & 7];
        return (nibble & 8) != 0 ? -m : m;
    }
}
