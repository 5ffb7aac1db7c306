package io.quantgate.kernels.format;

/**
 * The per-group arithmetic of SPEC §1 in one place: the scale a group's statistics give, the int4 zero point, the
 * stored code of one weight under a scale, and its dequantized value. {@link GroupQuantizer} (round to nearest)
 * and the calibrated quantizers (GPTQ, importance-weighted) share it, so a code means the same whoever chose it.
 */
public final class GroupCodec {
    private GroupCodec() {
    }

    /**
     * The fp32 scale before fp16 rounding, from a group's largest magnitude and its min/max (both taken with 0
     * included, so the int4 range always contains 0).
     */
    public static float rawScale(WeightFormat f, float absmax, float min, float max) {
        return switch (f) {
            case INT8 -> absmax / 127f;
            case INT4 -> (max - min) / 15f;
            case INT4S -> absmax / 7f;
            case FP4 -> absmax / Fp4E2M1.MAX;
            case NF4 -> absmax;
            default -> throw new IllegalArgumentException("dense format " + f + " has no scale");
        };
    }

    /** The int4 zero point for a group of minimum {@code min} (≤ 0) under the stored scale {@code s}. */
    public static int zeroPoint(float s, float min) {
        return s == 0f ? 0 : clamp(GroupQuantizer.roundAway(-min / s), 0, 15);
    }

    /**
     * The stored code of weight {@code w} under stored scale {@code s} (and zero {@code z} for int4): the nibble for
     * 4-bit formats, the signed value for int8. Values beyond the range clamp to its ends.
     */
    public static int encode(WeightFormat f, float w, float s, int z) {
        if (s == 0f) {
            return 0; // a zero scale dequantizes to zeros whatever the code; 0 is what round to nearest stores
        }
        float v = w / s;
        return switch (f) {
            case INT8 -> clamp(GroupQuantizer.roundAway(v), -127, 127);
            case INT4 -> clamp(GroupQuantizer.roundAway(v) + z, 0, 15);
            case INT4S -> clamp(GroupQuantizer.roundAway(v), -8, 7) & 0xF;
            case FP4 -> Fp4E2M1.encode(v);
            case NF4 -> Nf4.encode(v);
            default -> throw new IllegalArgumentException("dense format " + f + " has no codes");
        };
    }

    /** The value a stored code stands for, computed in fp32 exactly as {@link QuantizedMatrix#dequantize} does. */
    public static float decode(WeightFormat f, int code, float s, int z) {
        return switch (f) {
            case INT8 -> code * s;
            case INT4 -> (code - z) * s;
            case INT4S -> ((code << 28) >> 28) * s;
            case FP4 -> Fp4E2M1.decode(code) * s;
            case NF4 -> Nf4.decode(code) * s;
            default -> throw new IllegalArgumentException("dense format " + f + " has no codes");
        };
    }

    static int clamp(int v, int lo, int hi) {
        return Math.max(lo, Math.min(hi, v));
    }
}
