package io.quantgate.backend;

import io.quantgate.evaluation.ConfidenceInterval;
import io.quantgate.evaluation.Statistics;

/**
 * The ratio of two throughputs measured in the same rounds: the geometric mean of the per-round ratios with a
 * Student-t interval on their logarithms (paired: each round's machine state cancels, which is why comparisons
 * are interleaved), mapped back by exp.
 */
public final class PairedRatio {
    private PairedRatio() {
    }

    public static ConfidenceInterval of(double[] subject, double[] reference, double level) {
        if (subject.length != reference.length || subject.length == 0) {
            throw new IllegalArgumentException("paired samples must have the same, non-zero length ("
                    + subject.length + " vs " + reference.length + ")");
        }
        int n = subject.length;
        double[] logs = new double[n];
        for (int i = 0; i < n; i++) {
            if (!(subject[i] > 0) || !(reference[i] > 0)) {
                throw new IllegalArgumentException("throughputs must be positive, round " + i + ": " + subject[i]
                        + " vs " + reference[i]);
            }
            logs[i] = Math.log(subject[i] / reference[i]);
        }
        double mean = Statistics.mean(logs);
        if (n < 2) {
            return new ConfidenceInterval(Math.exp(mean), Double.NaN, 0, Double.POSITIVE_INFINITY, level);
        }
        double se = Statistics.sd(logs) / Math.sqrt(n);
        double t = Statistics.tQuantile(0.5 + level / 2, n - 1);
        return new ConfidenceInterval(Math.exp(mean), Double.NaN, Math.exp(mean - t * se), Math.exp(mean + t * se), level);
    }
}
