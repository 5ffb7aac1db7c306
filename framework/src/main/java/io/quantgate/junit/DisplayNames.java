package io.quantgate.junit;

import io.quantgate.evaluation.ComparisonResult;
import io.quantgate.results.model.ThroughputRow;

import java.util.Locale;

/**
 * The invocation's name ({@code fp4-g128}, or {@code fp4-g128 on llamacpp} with several backends) and the one-line
 * summary of its figures and verdict ({@code fp4-g128 · ΔPPL +30.00% [+18.87, +42.17] · KLD 0.43 · top 57.0% · FAIL}),
 * which the console progress and the {@code quantgate.summary} report entry show.
 */
final class DisplayNames {
    private DisplayNames() {
    }

    static String base(String config, String backend, boolean showBackend) {
        return showBackend ? config + " on " + backend : config;
    }

    static String summary(QuantResult r, boolean showBackend) {
        StringBuilder s = new StringBuilder(base(r.config(), r.backend(), showBackend));
        r.perplexity().ifPresent(c -> s.append(perplexity(c)));
        r.throughput().ifPresent(t -> s.append(throughput(t)));
        s.append(" · ").append(r.verdict().map(Enum::name).orElse("NOT GATED"));
        return s.toString();
    }

    private static String perplexity(ComparisonResult c) {
        return String.format(Locale.ROOT, " · ΔPPL %+.2f%% [%s, %s] · KLD %.4g · top %.1f%%", c.deltaPercent(),
                signed(c.deltaPercentCi().low()), signed(c.deltaPercentCi().high()), c.meanKld(), c.sameTopPercent());
    }

    private static String throughput(ThroughputResult t) {
        if (t.rows().size() == 1) {
            ThroughputRow r = t.rows().get(0);
            return String.format(Locale.ROOT, " · %s %.4g %s · %.2fx %s [%.2f, %.2f]", r.label(), r.medianRate(),
                    r.unit(), r.medianSpeedup(), t.reference(), r.speedupCi().low(), r.speedupCi().high());
        }
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (ThroughputRow r : t.rows()) {
            lo = Math.min(lo, r.medianSpeedup());
            hi = Math.max(hi, r.medianSpeedup());
        }
        return String.format(Locale.ROOT, " · %d rows · %.2f-%.2fx %s", t.rows().size(), lo, hi, t.reference());
    }

    private static String signed(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%+.2f", v) : (v > 0 ? "+inf" : "-inf");
    }
}
