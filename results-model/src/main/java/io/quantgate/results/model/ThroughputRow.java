package io.quantgate.results.model;

import java.util.Locale;

/**
 * One measured row of a throughput benchmark: a subject timed against its reference with the bandwidth probe, all in
 * the same interleaved rounds. Rates are "higher is better": weight GB/s at kernel level, tokens/s at model level.
 * The sample arrays hold every measured round in order (outliers included); the statistics drop outliers beyond the
 * sampling plan's sigma.
 *
 * @param label               {@code 4096x11008 M=1}, {@code pp512}, {@code tg128}
 * @param level               {@code kernel}, {@code prefill} or {@code decode}
 * @param subject             what was timed, e.g. {@code int4-g128 (int8 activations) on native}
 * @param referenceSubject    what it was compared with in the same rounds; null without a reference
 * @param n                   kernel: output rows N (null at model level)
 * @param k                   kernel: inputs K (null at model level)
 * @param batch               kernel: activation rows M (null at model level)
 * @param tokens              model level: prompt or generated tokens (null at kernel level)
 * @param unit                unit of the rates: {@code GB/s} or {@code tokens/s}
 * @param bytesPerCall        bytes of weights (and KV cache) one timed call reads, as QuantGate packs them
 * @param warmupRounds        unmeasured rounds run
 * @param rounds              measured rounds
 * @param budgetCut           whether the time budget ended the measurement before its round count
 * @param confidenceLevel     level of the intervals
 * @param rate                statistics of the per-round rates
 * @param rateCi              bootstrap interval of the median rate
 * @param referenceRate       statistics of the reference's per-round rates (null without a reference)
 * @param speedup             statistics of the per-round paired ratios time(reference) / time(subject): both do the
 *                            same work (null without a reference)
 * @param speedupCi           bootstrap interval of the median paired ratio
 * @param probeGbs            statistics of the bandwidth probe's GB/s in the same rounds (model workloads: per round, the
 *                            mean of the reads just before and just after this subject's sample)
 * @param fractionOfBandwidth statistics of (bytes_per_call / seconds) / probe GB/s, per round
 * @param gflops              kernel: 2·M·N·K / median seconds / 1e9 (NaN otherwise)
 * @param ceilingRate         decode: tokens/s the probe's median bandwidth allows, bytes per token read once
 * @param samples             the raw per-round arrays
 */
public record ThroughputRow(String label, String level, String subject, String referenceSubject, Integer n, Integer k,
                            Integer batch, Integer tokens, String unit, double bytesPerCall, int warmupRounds,
                            int rounds, boolean budgetCut, double confidenceLevel, SampleStats rate, Range rateCi,
                            SampleStats referenceRate, SampleStats speedup, Range speedupCi, SampleStats probeGbs,
                            SampleStats fractionOfBandwidth, double gflops, double ceilingRate, RowSamples samples) {

    public ThroughputRow {
        rateCi = rateCi == null ? Range.NONE : rateCi;
        speedupCi = speedupCi == null ? Range.NONE : speedupCi;
        samples = samples == null ? RowSamples.NONE : samples;
    }

    /** The same row with other raw samples and unit (e.g. rates divided by the probe of their round). */
    public ThroughputRow withSamples(RowSamples newSamples, String newUnit) {
        return new ThroughputRow(label, level, subject, referenceSubject, n, k, batch, tokens, newUnit, bytesPerCall,
                warmupRounds, rounds, budgetCut, confidenceLevel, rate, rateCi, referenceRate, speedup, speedupCi,
                probeGbs, fractionOfBandwidth, gflops, ceilingRate, newSamples);
    }

    /** Median rate in {@link #unit()}. */
    public double medianRate() {
        return rate == null ? Double.NaN : rate.median();
    }

    /** Median of the paired per-round speedups over the reference (NaN without a reference). */
    public double medianSpeedup() {
        return speedup == null ? Double.NaN : speedup.median();
    }

    public boolean hasReference() {
        return speedup != null;
    }

    /** One line for logs and failure messages. */
    public String summary() {
        String s = String.format(Locale.ROOT, "%s %s: %.2f %s (median of %d, sd %.2f)", subject, label, medianRate(),
                unit, rate == null ? 0 : rate.n(), rate == null ? Double.NaN : rate.sd());
        if (hasReference()) {
            s += String.format(Locale.ROOT, ", speedup over %s %.3fx [%.3f, %.3f]", referenceSubject, medianSpeedup(),
                    speedupCi.low(), speedupCi.high());
        }
        if (fractionOfBandwidth != null && probeGbs != null) {
            s += String.format(Locale.ROOT, ", %.0f%% of %.1f GB/s probe", 100 * fractionOfBandwidth.median(),
                    probeGbs.median());
        }
        return s;
    }

    /**
     * Every measured round, in round order (all arrays have {@code rounds} entries; the reference arrays are empty
     * without a reference).
     *
     * @param speedups referenceSeconds[r] / seconds[r]
     */
    public record RowSamples(double[] seconds, double[] referenceSeconds, double[] probeGbs, double[] rates,
                             double[] referenceRates, double[] speedups) {
        public static final RowSamples NONE = new RowSamples(null, null, null, null, null, null);

        public RowSamples {
            seconds = orEmpty(seconds);
            referenceSeconds = orEmpty(referenceSeconds);
            probeGbs = orEmpty(probeGbs);
            rates = orEmpty(rates);
            referenceRates = orEmpty(referenceRates);
            speedups = orEmpty(speedups);
        }

        private static double[] orEmpty(double[] a) {
            return a == null ? new double[0] : a;
        }
    }
}
