package io.quantgate.evaluation;

/**
 * Small statistics toolbox for the evaluation package: mean, sample standard deviation, normal and
 * Student-t quantiles, and the chunk-clustered confidence interval used for paired comparisons.
 * ({@code io.quantgate.results.model.SampleStats} summarizes timing samples; it has no quantile
 * functions of distributions, hence this class.)
 */
public final class Statistics {

    private Statistics() {
    }

    public static double mean(double[] v) {
        if (v.length == 0) {
            return Double.NaN;
        }
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return s / v.length;
    }

    /** Sample standard deviation (n − 1 denominator); NaN for fewer than 2 values. */
    public static double sd(double[] v) {
        if (v.length < 2) {
            return Double.NaN;
        }
        double m = mean(v);
        double s = 0;
        for (double x : v) {
            s += (x - m) * (x - m);
        }
        return Math.sqrt(s / (v.length - 1));
    }

    /** Standard error of the mean, sd / √n; NaN for fewer than 2 values. */
    public static double stdErr(double[] v) {
        return sd(v) / Math.sqrt(v.length);
    }

    /**
     * Quantile of the standard normal distribution (Acklam's rational approximation, relative error
     * below 1.2e-9).
     */
    public static double normalQuantile(double p) {
        if (!(p > 0 && p < 1)) {
            if (p == 0) {
                return Double.NEGATIVE_INFINITY;
            }
            if (p == 1) {
                return Double.POSITIVE_INFINITY;
            }
            throw new IllegalArgumentException("probability must be in [0, 1], got " + p);
        }
        final double[] a = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
            1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
        final double[] b = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
            6.680131188771972e+01, -1.328068155288572e+01};
        final double[] c = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
            -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00};
        final double[] d = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
            3.754408661907416e+00};
        double pLow = 0.02425;
        if (p < pLow) {
            double q = Math.sqrt(-2 * Math.log(p));
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
                    / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }
        if (p > 1 - pLow) {
            return -normalQuantile(1 - p);
        }
        double q = p - 0.5;
        double r = q * q;
        return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
                / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    }

    /** CDF of Student's t distribution with {@code df} degrees of freedom (df > 0, may be fractional). */
    public static double tCdf(double t, double df) {
        if (!(df > 0)) {
            throw new IllegalArgumentException("degrees of freedom must be > 0, got " + df);
        }
        if (Double.isNaN(t)) {
            return Double.NaN;
        }
        if (Double.isInfinite(t)) {
            return t > 0 ? 1 : 0;
        }
        double x = df / (df + t * t);
        double tail = 0.5 * regularizedIncompleteBeta(df / 2, 0.5, x);
        return t > 0 ? 1 - tail : tail;
    }

    /** Quantile of Student's t distribution with {@code df} degrees of freedom (bisection on the CDF). */
    public static double tQuantile(double p, double df) {
        if (!(df > 0)) {
            throw new IllegalArgumentException("degrees of freedom must be > 0, got " + df);
        }
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException("probability must be in [0, 1], got " + p);
        }
        if (p == 0.5) {
            return 0;
        }
        if (p < 0.5) {
            return -tQuantile(1 - p, df);
        }
        if (p == 1) {
            return Double.POSITIVE_INFINITY;
        }
        if (Double.isInfinite(df) || df > 1e7) {
            return normalQuantile(p);
        }
        double lo = 0;
        double hi = Math.max(1, normalQuantile(p));
        while (tCdf(hi, df) < p) {
            lo = hi;
            hi *= 2;
            if (hi > 1e300) {
                return Double.POSITIVE_INFINITY;
            }
        }
        for (int i = 0; i < 200 && hi - lo > 1e-13 * hi; i++) {
            double mid = 0.5 * (lo + hi);
            if (tCdf(mid, df) < p) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return 0.5 * (lo + hi);
    }

    /**
     * Confidence interval of a ratio-of-sums mean over clusters (chunks): estimate
     * {@code Σ sums / Σ counts}, with the cluster-robust standard error
     * {@code sqrt(C/(C−1) · Σ (sums_c − est·counts_c)²) / Σ counts} and a Student-t quantile with
     * C − 1 degrees of freedom. With equal counts per chunk this is exactly the t interval of the
     * mean of the C per-chunk means. Fewer than 2 chunks give an unbounded interval.
     */
    public static ConfidenceInterval clusteredMean(double[] sums, int[] counts, double level) {
        if (sums.length != counts.length) {
            throw new IllegalArgumentException("sums and counts differ in length");
        }
        int c = sums.length;
        double total = 0;
        long n = 0;
        for (int i = 0; i < c; i++) {
            total += sums[i];
            n += counts[i];
        }
        if (n == 0) {
            throw new IllegalArgumentException("no observations");
        }
        double est = total / n;
        if (c < 2) {
            return new ConfidenceInterval(est, Double.NaN, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY, level);
        }
        double ss = 0;
        for (int i = 0; i < c; i++) {
            double r = sums[i] - est * counts[i];
            ss += r * r;
        }
        double se = Math.sqrt(ss * c / (c - 1)) / n;
        double q = tQuantile(0.5 + level / 2, c - 1);
        return new ConfidenceInterval(est, se, est - q * se, est + q * se, level);
    }

    /**
     * Interval of {@code a − b} when the two estimates are treated as independent (an unpaired
     * comparison): standard error {@code sqrt(se_a² + se_b²)}, t quantile with {@code chunks − 1}
     * degrees of freedom. Reported only for contrast with the paired interval.
     */
    static ConfidenceInterval independentDifference(ConfidenceInterval a, ConfidenceInterval b, int chunks,
                                                    double level) {
        double est = a.estimate() - b.estimate();
        if (chunks < 2) {
            return new ConfidenceInterval(est, Double.NaN, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY, level);
        }
        double se = Math.sqrt(a.stdErr() * a.stdErr() + b.stdErr() * b.stdErr());
        double q = tQuantile(0.5 + level / 2, chunks - 1);
        return new ConfidenceInterval(est, se, est - q * se, est + q * se, level);
    }

    // ---- special functions -------------------------------------------------------------------

    static double lnGamma(double x) {
        // Lanczos approximation (g = 7, n = 9), accurate to ~1e-15 for x > 0.
        final double[] g = {0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
            -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
            1.5056327351493116e-7};
        if (x < 0.5) {
            return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lnGamma(1 - x);
        }
        x -= 1;
        double a = g[0];
        double t = x + 7.5;
        for (int i = 1; i < 9; i++) {
            a += g[i] / (x + i);
        }
        return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
    }

    static double regularizedIncompleteBeta(double a, double b, double x) {
        if (x <= 0) {
            return 0;
        }
        if (x >= 1) {
            return 1;
        }
        double lbt = lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log1p(-x);
        double bt = Math.exp(lbt);
        if (x < (a + 1) / (a + b + 2)) {
            return bt * betaContinuedFraction(a, b, x) / a;
        }
        return 1 - bt * betaContinuedFraction(b, a, 1 - x) / b;
    }

    private static double betaContinuedFraction(double a, double b, double x) {
        final double eps = 1e-16;
        final double tiny = 1e-300;
        double qab = a + b;
        double qap = a + 1;
        double qam = a - 1;
        double c = 1;
        double d = 1 - qab * x / qap;
        if (Math.abs(d) < tiny) {
            d = tiny;
        }
        d = 1 / d;
        double h = d;
        for (int m = 1; m <= 1000; m++) {
            int m2 = 2 * m;
            double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
            d = 1 + aa * d;
            if (Math.abs(d) < tiny) {
                d = tiny;
            }
            c = 1 + aa / c;
            if (Math.abs(c) < tiny) {
                c = tiny;
            }
            d = 1 / d;
            h *= d * c;
            aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
            d = 1 + aa * d;
            if (Math.abs(d) < tiny) {
                d = tiny;
            }
            c = 1 + aa / c;
            if (Math.abs(c) < tiny) {
                c = tiny;
            }
            d = 1 / d;
            double del = d * c;
            h *= del;
            if (Math.abs(del - 1) < eps) {
                break;
            }
        }
        return h;
    }
}
