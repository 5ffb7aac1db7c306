package io.quantgate.gate;

/**
 * The three-way decision of SPEC §5 on a confidence interval {@code [low, high]} against a threshold t.
 *
 * <table>
 *   <caption>verdicts</caption>
 *   <tr><th>bound</th><th>PASS when</th><th>FAIL when</th><th>else</th></tr>
 *   <tr><td>at most t</td><td>high ≤ t</td><td>low &gt; t</td><td>INCONCLUSIVE</td></tr>
 *   <tr><td>at least t</td><td>low ≥ t</td><td>high &lt; t</td><td>INCONCLUSIVE</td></tr>
 * </table>
 * An interval with a NaN end (nothing to decide on) is INCONCLUSIVE. An unbounded interval (fewer than
 * two chunks or rounds) can still FAIL when its finite end is beyond the threshold, never PASS.
 */
public final class IntervalGate {
    private IntervalGate() {
    }

    public static Verdict decide(GateResult.Bound bound, double threshold, double low, double high) {
        if (Double.isNaN(low) || Double.isNaN(high) || Double.isNaN(threshold)) {
            return Verdict.INCONCLUSIVE;
        }
        if (low > high) {
            throw new IllegalArgumentException("interval [" + low + ", " + high + "] has low > high");
        }
        return switch (bound) {
            case AT_MOST -> high <= threshold ? Verdict.PASS : low > threshold ? Verdict.FAIL : Verdict.INCONCLUSIVE;
            case AT_LEAST -> low >= threshold ? Verdict.PASS : high < threshold ? Verdict.FAIL : Verdict.INCONCLUSIVE;
        };
    }

    /** A gate result with the verdict of {@link #decide}. */
    public static GateResult evaluate(String name, String subject, GateResult.Bound bound, double threshold,
                                      double estimate, double low, double high, double level, String comparedWith,
                                      String note) {
        Verdict v = decide(bound, threshold, low, high);
        return new GateResult(name, subject, bound, threshold, estimate, low, high, level, comparedWith, v, note);
    }
}
