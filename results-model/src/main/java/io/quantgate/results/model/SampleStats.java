package io.quantgate.results.model;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Summary of timing samples per SPEC §4: runs more than {@code outlierSigma} standard deviations
 * from the mean are dropped (once), then median, mean, sd, min, max, p5, p95 and n kept.
 */
public record SampleStats(int n, int dropped, double median, double mean, double sd, double min, double max,
                          double p5, double p95) {

    public static final double DEFAULT_OUTLIER_SIGMA = 2.0;

    public static SampleStats of(double[] samples) {
        return of(samples, DEFAULT_OUTLIER_SIGMA);
    }

    public static SampleStats of(double[] samples, double outlierSigma) {
        if (samples.length == 0) {
            throw new IllegalArgumentException("no samples");
        }
        double[] kept = dropOutliers(samples, outlierSigma);
        double[] s = kept.clone();
        Arrays.sort(s);
        double mean = mean(s);
        return new SampleStats(s.length, samples.length - s.length, quantile(s, 0.5), mean, sd(s, mean), s[0],
                s[s.length - 1], quantile(s, 0.05), quantile(s, 0.95));
    }

    /** Samples within {@code sigma} standard deviations of the mean (all of them when sd is 0 or n < 3). */
    public static double[] dropOutliers(double[] samples, double sigma) {
        if (samples.length < 3 || sigma <= 0) {
            return samples.clone();
        }
        double mean = mean(samples);
        double sd = sd(samples, mean);
        if (sd == 0) {
            return samples.clone();
        }
        return Arrays.stream(samples).filter(v -> Math.abs(v - mean) <= sigma * sd).toArray();
    }

    static double mean(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return s / v.length;
    }

    static double sd(double[] v, double mean) {
        if (v.length < 2) {
            return 0;
        }
        double s = 0;
        for (double x : v) {
            s += (x - mean) * (x - mean);
        }
        return Math.sqrt(s / (v.length - 1));
    }

    /** Linear-interpolated quantile of sorted values (type 7, as R and NumPy default). */
    public static double quantile(double[] sorted, double q) {
        if (sorted.length == 1) {
            return sorted[0];
        }
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(lo + 1, sorted.length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }

    public static double median(double[] values) {
        double[] s = values.clone();
        Arrays.sort(s);
        return quantile(s, 0.5);
    }

    /** Percentile-bootstrap confidence interval of the median; seeded so a report is reproducible. */
    public static double[] bootstrapMedianCi(double[] values, double level, int resamples, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        double[] meds = new double[resamples];
        double[] buf = new double[values.length];
        for (int b = 0; b < resamples; b++) {
            for (int i = 0; i < buf.length; i++) {
                buf[i] = values[rnd.nextInt(values.length)];
            }
            Arrays.sort(buf);
            meds[b] = quantile(buf, 0.5);
        }
        Arrays.sort(meds);
        double a = (1 - level) / 2;
        return new double[] {quantile(meds, a), quantile(meds, 1 - a)};
    }
}
