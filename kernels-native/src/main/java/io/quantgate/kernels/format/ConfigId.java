package io.quantgate.kernels.format;

import java.util.Objects;

/**
 * One config id of SPEC §2: a weight format plus its group size along K.
 *
 * <p>{@code group == 0} means "per row" (g = K). It is used only by {@code int8} (its default) and
 * by the dense formats, which have no groups at all; keeping 0 instead of a concrete K lets one id
 * describe tensors of every shape.
 *
 * @param format the weight format
 * @param group  32, 64, 128 or 256; 0 for per-row int8 and always 0 for dense formats
 */
public record ConfigId(WeightFormat format, int group) {

    /** The default group of the 4-bit formats (SPEC §2). */
    public static final int DEFAULT_FOUR_BIT_GROUP = 128;

    public ConfigId {
        Objects.requireNonNull(format, "format");
        if (format.isDense()) {
            if (group != 0) {
                throw new IllegalArgumentException(
                        "dense format '" + format.id() + "' takes no group (got group " + group + ")");
            }
        } else if (group == 0) {
            if (format != WeightFormat.INT8) {
                throw new IllegalArgumentException("format '" + format.id()
                        + "' needs a group of 32, 64, 128 or 256 (per-row groups are only defined for int8)");
            }
        } else if (!isAllowedGroup(group)) {
            throw new IllegalArgumentException("group " + group + " is not one of 32, 64, 128, 256");
        }
    }

    /** The id a bare format name means: g128 for 4-bit formats, per row for int8, no group for dense. */
    public static ConfigId of(WeightFormat format) {
        return new ConfigId(format, format.isFourBit() ? DEFAULT_FOUR_BIT_GROUP : 0);
    }

    public static ConfigId of(WeightFormat format, int group) {
        return new ConfigId(format, group);
    }

    /**
     * Parses {@code <format>[-g<group>]}. Every error message quotes the whole id and names the part
     * that failed, because these strings usually arrive from a command line or a test annotation where
     * the user needs to see exactly what to fix.
     */
    public static ConfigId parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("empty config id (expected <format>[-g<group>], e.g. fp4-g128)");
        }
        String id = text.strip();
        int dash = id.indexOf('-');
        String formatPart = dash < 0 ? id : id.substring(0, dash);
        WeightFormat format = null;
        for (WeightFormat f : WeightFormat.values()) {
            if (f.id().equals(formatPart)) {
                format = f;
            }
        }
        if (format == null) {
            throw new IllegalArgumentException("unknown format '" + formatPart + "' in config id '" + id
                    + "' (valid: " + WeightFormat.validIds() + ")");
        }
        if (dash < 0) {
            return of(format);
        }
        String groupPart = id.substring(dash + 1);
        if (format.isDense()) {
            throw new IllegalArgumentException("bad config id '" + id + "': dense format '" + format.id()
                    + "' takes no group, but '-" + groupPart + "' was given");
        }
        if (groupPart.length() < 2 || groupPart.charAt(0) != 'g' || !allDigits(groupPart.substring(1))) {
            throw new IllegalArgumentException("bad config id '" + id + "': group part '-" + groupPart
                    + "' is not -g<group> with group one of 32, 64, 128, 256");
        }
        String digits = groupPart.substring(1);
        int group;
        try {
            group = Integer.parseInt(digits);
        } catch (NumberFormatException e) {
            group = -1;
        }
        if (!isAllowedGroup(group)) {
            throw new IllegalArgumentException("bad config id '" + id + "': group " + digits
                    + " is not one of 32, 64, 128, 256");
        }
        return new ConfigId(format, group);
    }

    /**
     * The group actually used for a tensor with {@code k} inputs. A group larger than K cannot hold
     * more than K values, so it becomes one group per row; callers report that via
     * {@link #clampsGroup(int)}.
     */
    public int effectiveGroup(int k) {
        return group == 0 || group > k ? k : group;
    }

    /** True when this id's group had to be clamped to K for such a tensor (worth reporting to the user). */
    public boolean clampsGroup(int k) {
        return group > k;
    }

    /** The canonical id, which {@link #parse(String)} reads back to an equal record. */
    @Override
    public String toString() {
        if (group == 0) {
            return format.id();
        }
        return format.id() + "-g" + group;
    }

    private static boolean isAllowedGroup(int g) {
        return g == 32 || g == 64 || g == 128 || g == 256;
    }

    private static boolean allDigits(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }
}
