package io.quantgate.reports;

import io.quantgate.results.model.Interval;

import java.util.Locale;

/**
 * How numbers appear in the report: fixed decimals per kind of figure (so columns line up and a change between
 * two reports is visible), "—" for what was not measured, intervals as {@code [low, high]}. Locale-independent.
 */
final class Fmt {
    static final String NONE = "—";

    private Fmt() {
    }

    static String fixed(double v, int decimals) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%." + decimals + "f", v) : NONE;
    }

    static String signed(double v, int decimals) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%+." + decimals + "f", v) : NONE;
    }

    /** Rates from 0.01 to 100000 with three significant figures or more: 12345, 123.4, 1.23. */
    static String rate(double v) {
        if (!Double.isFinite(v)) {
            return NONE;
        }
        double a = Math.abs(v);
        return fixed(v, a >= 100 ? 0 : a >= 10 ? 1 : 2);
    }

    static String ratio(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.2f×", v) : NONE;
    }

    /** {@code +1.23 [+0.80, +1.70]}: the estimate with its interval when both bounds are known. */
    static String withCi(Interval i, int decimals, boolean signed) {
        if (!i.hasEstimate()) {
            return NONE;
        }
        String e = signed ? signed(i.estimate(), decimals) : fixed(i.estimate(), decimals);
        if (!i.hasBounds()) {
            return e;
        }
        return e + " [" + (signed ? signed(i.low(), decimals) : fixed(i.low(), decimals)) + ", "
                + (signed ? signed(i.high(), decimals) : fixed(i.high(), decimals)) + "]";
    }

    static String rateWithCi(Interval i) {
        if (!i.hasEstimate()) {
            return NONE;
        }
        return i.hasBounds() ? rate(i.estimate()) + " [" + rate(i.low()) + ", " + rate(i.high()) + "]"
                : rate(i.estimate());
    }

    /** Text for a Markdown table cell: pipes escaped, line breaks folded, so a config id or message cannot break it. */
    static String cell(String s) {
        if (s == null) {
            return NONE;
        }
        return s.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ").strip();
    }

    /** Inline code in a table cell. */
    static String code(String s) {
        return s == null ? NONE : "`" + cell(s).replace("`", "'") + "`";
    }

    static String firstLine(String s, int max) {
        if (s == null) {
            return null;
        }
        String line = s.strip().lines().findFirst().orElse("");
        return line.length() > max ? line.substring(0, max - 1) + "…" : line;
    }
}
