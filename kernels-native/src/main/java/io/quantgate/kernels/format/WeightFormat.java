package io.quantgate.kernels.format;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The weight formats of SPEC §1.
 *
 * <p>The declaration order is part of the native ABI: {@link #nativeCode()} is the ordinal and the C
 * kernels switch on it, so new formats may only be appended.
 */
public enum WeightFormat {
    FP32, FP16, BF16, INT8, INT4, INT4S, FP4, NF4;

    private static final String VALID_IDS =
            Arrays.stream(values()).map(WeightFormat::id).collect(Collectors.joining(", "));

    /** The integer the native kernels receive; kept equal to the ordinal so both sides agree by construction. */
    public int nativeCode() {
        return ordinal();
    }

    /** The spelling used in config ids (SPEC §2), e.g. {@code "int4s"}. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Dense formats store each weight directly and therefore have no scales, zeros or group size. */
    public boolean isDense() {
        return this == FP32 || this == FP16 || this == BF16;
    }

    /** Four-bit formats share the packed-nibble layout (8 codes per little-endian uint32). */
    public boolean isFourBit() {
        return this == INT4 || this == INT4S || this == FP4 || this == NF4;
    }

    /** Quantized formats carry per-group fp16 scales and can feed the int8-activation path. */
    public boolean isQuantized() {
        return !isDense();
    }

    /** Bytes one stored row of {@code k} weights occupies (padding of the last 4-bit word included). */
    public long rowBytes(long k) {
        return switch (this) {
            case FP32 -> 4L * k;
            case FP16, BF16 -> 2L * k;
            case INT8 -> k;
            case INT4, INT4S, FP4, NF4 -> 4L * ((k + 7) / 8);
        };
    }

    /**
     * Inverse of {@link #id()}; the error lists every valid id because a typo in a config string is
     * by far the most common way to get here.
     */
    public static WeightFormat fromId(String id) {
        if (id != null) {
            for (WeightFormat f : values()) {
                if (f.id().equals(id)) {
                    return f;
                }
            }
        }
        throw new IllegalArgumentException("unknown weight format '" + id + "' (valid: " + VALID_IDS + ")");
    }

    /** The comma-separated list of valid ids, for error messages elsewhere. */
    public static String validIds() {
        return VALID_IDS;
    }
}
