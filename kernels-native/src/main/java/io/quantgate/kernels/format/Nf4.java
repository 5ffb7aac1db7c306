package io.quantgate.kernels.format;

/**
 * The 16 NormalFloat4 levels of QLoRA. The nibble is simply the level index (index 7 is 0.0), which
 * keeps the native lookup a single 16-entry table.
 */
public final class Nf4 {
    /** The QLoRA levels, as the fp32 constants bitsandbytes uses. */
    public static final float[] LEVELS = {
            -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
            -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
            0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
            0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f};

    /**
     * {@code round(127·level)} per index: the int8-activation path multiplies these small integers
     * instead of the irrational levels, trading an error of at most 0.5/127 of the scale for an exact
     * integer dot product.
     */
    public static final int[] INT8_TABLE = {-127, -88, -67, -50, -36, -23, -12, 0, 10, 20, 31, 43, 56, 71, 92, 127};

    private static final Levels SEARCH = new Levels(LEVELS);

    private Nf4() {
    }

    /** Index of the level nearest to {@code v = w / s} (ties to even index, clamped to [-1, 1]). */
    public static int encode(float v) {
        return SEARCH.nearest(v);
    }

    public static float decode(int nibble) {
        return LEVELS[nibble & 15];
    }
}
