package io.quantgate.gate;

import java.util.Locale;
import java.util.Objects;

/**
 * One gate decided on one interval.
 *
 * @param name         gate name as in the annotation, e.g. {@code maxDeltaPercent}
 * @param subject      what was measured, e.g. {@code "PPL delta %"} or {@code "speedup over fp16 (4096x4096 b1)"}
 * @param bound        whether the threshold is an upper ({@link Bound#AT_MOST}) or lower limit
 * @param threshold    the limit
 * @param estimate     point estimate of the measured quantity
 * @param low          lower end of its confidence interval (may be −∞)
 * @param high         upper end (may be +∞)
 * @param level        confidence level of the interval, e.g. 0.95
 * @param comparedWith what the measurement was compared with (baseline config, reference, stored baseline)
 * @param verdict      the decision
 * @param note         extra context (re-measurements, why inconclusive, baseline file); may be empty
 */
public record GateResult(String name, String subject, Bound bound, double threshold, double estimate, double low,
                         double high, double level, String comparedWith, Verdict verdict, String note) {

    /** Direction of a threshold. */
    public enum Bound {
        /** The quantity must not exceed the threshold (PPL delta, KLD, regression). */
        AT_MOST,
        /** The quantity must reach the threshold (same-top %, speedup, tokens/s). */
        AT_LEAST
    }

    public GateResult {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(bound, "bound");
        Objects.requireNonNull(verdict, "verdict");
        comparedWith = comparedWith == null ? "" : comparedWith;
        note = note == null ? "" : note;
    }

    /** The same result with a different verdict and note (used when a gate cannot compare at all). */
    public GateResult withVerdict(Verdict v, String newNote) {
        return new GateResult(name, subject, bound, threshold, estimate, low, high, level, comparedWith, v, newNote);
    }

    /**
     * One sentence with everything a reader needs: e.g. {@code maxDeltaPercent FAIL: PPL delta % = 30.00,
     * 95% CI [18.87, 42.17], limit ≤ 10.00, compared with fp32 (same 4 chunks)}.
     */
    public String message() {
        String ci = Double.isFinite(low) || Double.isFinite(high)
                ? String.format(Locale.ROOT, "%s%% CI [%s, %s]", levelPercent(level), fmt(low), fmt(high))
                : "no confidence interval (too few samples)";
        String s = String.format(Locale.ROOT, "%s %s: %s = %s, %s, limit %s %s", name, verdict, subject, fmt(estimate),
                ci, bound == Bound.AT_MOST ? "<=" : ">=", fmt(threshold));
        if (!comparedWith.isEmpty()) {
            s += ", compared with " + comparedWith;
        }
        if (!note.isEmpty()) {
            s += " (" + note + ")";
        }
        return s;
    }

    static String fmt(double v) {
        if (Double.isNaN(v)) {
            return "n/a";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "+inf" : "-inf";
        }
        double a = Math.abs(v);
        if (a != 0 && (a < 1e-3 || a >= 1e6)) {
            return String.format(Locale.ROOT, "%.4g", v);
        }
        return String.format(Locale.ROOT, a < 1 ? "%.5f" : "%.3f", v);
    }

    @Override
    public String toString() {
        return message();
    }

    /** 95 → "95", 0.995 → "99.5": the level as people write it. */
    static String levelPercent(double level) {
        double p = level * 100;
        return Math.abs(p - Math.rint(p)) < 1e-9 ? String.format(Locale.ROOT, "%.0f", p)
                : String.format(Locale.ROOT, "%s", new java.math.BigDecimal(p).round(new java.math.MathContext(4))
                .stripTrailingZeros().toPlainString());
    }
}
