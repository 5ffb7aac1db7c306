package io.quantgate.results.model;

/**
 * The distribution of the per-token KL divergence and of the change in the probability of the right token, with
 * llama.cpp's statistics ({@code llama-perplexity --kl-divergence}), so figures compare with its output. KLD in nats;
 * Δp = p_quant(next token) − p_base(next token) in percentage points.
 *
 * @param p99_9       99.9th percentile of the per-token KLD (llama.cpp's "99.9%")
 * @param meanDeltaP  mean Δp
 * @param rmsDeltaP   root mean square of Δp
 */
public record KldDistribution(double max, double p99_9, double p99, double p95, double p90, double median, double p10,
                              double p5, double p1, double p0_1, double min, double meanDeltaP, double rmsDeltaP) {

    /** Absent (a record written before these were kept). */
    public static final KldDistribution NONE = new KldDistribution(Double.NaN, Double.NaN, Double.NaN, Double.NaN,
            Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);

    /**
     * From every scored token's KLD and Δp (fractions 0…1, converted to percentage points here); percentiles
     * interpolate linearly ({@link SampleStats#quantile}), where llama.cpp takes the nearest rank, a difference that
     * vanishes at the token counts perplexity scores.
     */
    public static KldDistribution of(double[] kld, double[] deltaP) {
        if (kld.length == 0 || kld.length != deltaP.length) {
            throw new IllegalArgumentException("need one Δp per KLD and at least one token, got " + kld.length + " and "
                    + deltaP.length);
        }
        double[] s = kld.clone();
        java.util.Arrays.sort(s);
        double sum = 0, sq = 0;
        for (double d : deltaP) {
            sum += d;
            sq += d * d;
        }
        int n = deltaP.length;
        return new KldDistribution(s[s.length - 1], SampleStats.quantile(s, 0.999), SampleStats.quantile(s, 0.99),
                SampleStats.quantile(s, 0.95), SampleStats.quantile(s, 0.90), SampleStats.quantile(s, 0.5),
                SampleStats.quantile(s, 0.10), SampleStats.quantile(s, 0.05), SampleStats.quantile(s, 0.01),
                SampleStats.quantile(s, 0.001), s[0], 100 * sum / n, 100 * Math.sqrt(sq / n));
    }

    /** Whether these were measured (false for {@link #NONE}). */
    public boolean present() {
        return !Double.isNaN(median);
    }
}
