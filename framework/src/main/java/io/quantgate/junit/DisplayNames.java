package io.quantgate.junit;

import io.quantgate.evaluation.ComparisonResult;
import io.quantgate.evaluation.throughput.ThroughputRow;

import java.util.Locale;

/**
 * Invocation display names with the figures that matter, so that the IDE's test tree reads like a report:
 * {@code fp4-g32 · ΔPPL +2.31% [+1.90, +2.72] · KLD 0.0123 · top 91.2% · PASS}.
 */
final class DisplayNames {
    private DisplayNames() {
    }

    static String base(String config, String backend, boolean showBackend) {
        return showBackend ? config + " on " + backend : config;
    }

    static String of(QuantResult r, boolean showBackend) {
        StringBuilder s = new StringBuilder(base(r.config(), r.backend(), showBackend));
        r.perplexity().ifPresent(c -> s.append(perplexity(c)));
        r.throughput().ifPresent(t -> s.append(throughput(t)));
        r.verdict().ifPresent(v -> s.append(" · ").append(v));
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
                    r.unit(), r.medianSpeedup(), r.reference(), r.speedupCi()[0], r.speedupCi()[1]);
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
