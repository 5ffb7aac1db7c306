package io.quantgate.reports;

import java.util.Comparator;
import java.util.List;

/**
 * The order quantizations are listed in across tables and charts: from the widest format to the narrowest
 * (fp32, bf16, fp16, int8, the 4-bit formats, mixed), then by group size, then by name. Formats this project does
 * not know (another backend's own quantization names) come last, by name, so their position is stable.
 */
final class QuantOrder {
    private static final List<String> FORMATS = List.of("fp32", "bf16", "fp16", "int8", "int4", "int4s", "nf4", "fp4",
            "mixed");

    private QuantOrder() {
    }

    static int rank(String format) {
        int i = format == null ? -1 : FORMATS.indexOf(format);
        return i < 0 ? FORMATS.size() : i;
    }

    /** Orders configuration ids, given a way to find each one's format and group. */
    static Comparator<String> configs(java.util.function.Function<String, String> format,
                                      java.util.function.Function<String, Integer> group) {
        return Comparator.<String>comparingInt(c -> rank(format.apply(c)))
                .thenComparingInt(c -> group.apply(c) == null ? Integer.MAX_VALUE : group.apply(c))
                .thenComparing(c -> c);
    }

    /** The format of a config id when a record does not say it: the part before the group ({@code fp4-g32}). */
    static String formatOf(String config) {
        if (config.startsWith("mixed:")) {
            return "mixed";
        }
        String c = config.startsWith("uniform:") ? config.substring("uniform:".length()) : config;
        int dash = c.indexOf("-g");
        return dash > 0 ? c.substring(0, dash) : c;
    }
}
