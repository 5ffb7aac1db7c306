package io.quantgate.harness;

import io.quantgate.results.model.SampleStats;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Percentile-bootstrap confidence intervals for timing samples, seeded so that a report is reproducible.
 * Timing samples are skewed and heavy-tailed (a descheduled thread, a page fault), so intervals are taken
 * on medians, not means, and by resampling rather than a normal approximation.
 */
public final class Bootstrap {
    /** Resamples per interval: enough for stable 2.5% / 97.5% percentiles. */
    public static final int DEFAULT_RESAMPLES = 2000;
    static final long SEED = 0x5eed_9a7eL;

    private Bootstrap() {
    }

    /**
     * Interval of the median of {@code values} (e.g. per-round paired ratios), as {@code {low, high}};
     * {@code {NaN, NaN}} for an empty array, the single value twice for one sample.
     */
    public static double[] medianCi(double[] values, double level) {
        if (values.length == 0) {
            return new double[] {Double.NaN, Double.NaN};
        }
        if (values.length == 1) {
            return new double[] {values[0], values[0]};
        }
        return SampleStats.bootstrapMedianCi(values, level, DEFAULT_RESAMPLES, SEED);
    }

    /**
     * Interval of {@code median(a) / median(b)} for two independent samples (unpaired: a stored baseline and
     * a new run), each resampled on its own.
     */
    public static double[] ratioOfMediansCi(double[] a, double[] b, double level) {
        if (a.length == 0 || b.length == 0) {
            return new double[] {Double.NaN, Double.NaN};
        }
        SplittableRandom rnd = new SplittableRandom(SEED);
        double[] ratios = new double[DEFAULT_RESAMPLES];
        double[] ba = new double[a.length];
        double[] bb = new double[b.length];
        for (int r = 0; r < ratios.length; r++) {
            for (int i = 0; i < ba.length; i++) {
                ba[i] = a[rnd.nextInt(a.length)];
            }
            for (int i = 0; i < bb.length; i++) {
                bb[i] = b[rnd.nextInt(b.length)];
            }
            Arrays.sort(ba);
            Arrays.sort(bb);
            ratios[r] = SampleStats.quantile(ba, 0.5) / SampleStats.quantile(bb, 0.5);
        }
        Arrays.sort(ratios);
        double alpha = (1 - level) / 2;
        return new double[] {SampleStats.quantile(ratios, alpha), SampleStats.quantile(ratios, 1 - alpha)};
    }

    /**
     * Two-sided p-value of the Mann–Whitney U test (normal approximation with tie correction and
     * continuity correction) that {@code a} and {@code b} come from the same distribution. Reported next to
     * the bootstrap interval of a regression gate as a second, rank-based opinion; NaN with fewer than 2
     * samples on a side.
     */
    public static double mannWhitneyP(double[] a, double[] b) {
        int n1 = a.length;
        int n2 = b.length;
        if (n1 < 2 || n2 < 2) {
            return Double.NaN;
        }
        int n = n1 + n2;
        double[] all = new double[n];
        boolean[] fromA = new boolean[n];
        Integer[] idx = new Integer[n];
        for (int i = 0; i < n; i++) {
            all[i] = i < n1 ? a[i] : b[i - n1];
            fromA[i] = i < n1;
            idx[i] = i;
        }
        Arrays.sort(idx, (x, y) -> Double.compare(all[x], all[y]));
        double rankSumA = 0;
        double tieTerm = 0;
        for (int i = 0; i < n; ) {
            int j = i;
            while (j + 1 < n && all[idx[j + 1]] == all[idx[i]]) {
                j++;
            }
            double rank = (i + j) / 2.0 + 1; // average rank of the tie group, 1-based
            for (int t = i; t <= j; t++) {
                if (fromA[idx[t]]) {
                    rankSumA += rank;
                }
            }
            double tSize = j - i + 1;
            tieTerm += tSize * tSize * tSize - tSize;
            i = j + 1;
        }
        double u = rankSumA - n1 * (n1 + 1) / 2.0;
        double mu = n1 * (double) n2 / 2;
        double sigma = Math.sqrt(n1 * (double) n2 / 12 * ((n + 1) - tieTerm / (n * (double) (n - 1))));
        if (sigma == 0) {
            return 1.0;
        }
        double z = (Math.abs(u - mu) - 0.5) / sigma;
        if (z < 0) {
            z = 0;
        }
        return Math.min(1.0, 2 * (1 - normalCdf(z)));
    }

    static double normalCdf(double z) {
        return 0.5 * erfc(-z / Math.sqrt(2));
    }

    /** Complementary error function (Numerical Recipes' Chebyshev fit, relative error below 1.2e-7). */
    static double erfc(double x) {
        double z = Math.abs(x);
        double t = 1 / (1 + 0.5 * z);
        double r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
                + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? r : 2 - r;
    }
}
