package io.quantgate.evaluation.throughput;

import io.quantgate.results.model.SampleStats;

/**
 * One measured row of a throughput benchmark: a configuration against its reference and the bandwidth probe,
 * all three in the same interleaved rounds. Rates are "higher is better": weight GB/s at kernel level,
 * tokens/s at model level. Arrays hold every measured round in order (raw samples, outliers included);
 * the {@link SampleStats} drop outliers beyond {@code outlierSigma}.
 *
 * @param label               e.g. {@code 4096x11008 M=1}, {@code pp512}, {@code tg128}
 * @param level               {@code kernel}, {@code prefill} or {@code decode}
 * @param config              the configuration measured
 * @param reference           the configuration it is compared with in the same rounds
 * @param activations         {@code fp32} or {@code int8}
 * @param n                   kernel: output rows N (0 at model level)
 * @param k                   kernel: inputs K (0 at model level)
 * @param batch               kernel: activation rows M (0 at model level)
 * @param tokens              model level: prompt or generated tokens (0 at kernel level)
 * @param unit                unit of the rates: {@code GB/s} or {@code tokens/s}
 * @param bytesPerCall        bytes of weights (and KV cache) one timed call of the config reads
 * @param seconds             seconds per timed call of the config, per round
 * @param referenceSeconds    the same for the reference
 * @param probeGbs            GB/s of the bandwidth probe, per round
 * @param rates               rate of the config, per round
 * @param referenceRates      rate of the reference, per round
 * @param speedups            referenceSeconds[r] / seconds[r]: the paired speedup of every round (both calls do
 *                            the same work, so at model level it equals rates[r] / referenceRates[r])
 * @param rate                statistics of {@code rates}
 * @param rateCi              bootstrap interval of the median rate, {@code {low, high}}
 * @param referenceRate       statistics of {@code referenceRates}
 * @param probe               statistics of {@code probeGbs}
 * @param speedup             statistics of {@code speedups} (outliers dropped)
 * @param speedupCi           bootstrap interval of the median paired speedup, {@code {low, high}}
 * @param fractionOfBandwidth statistics of (bytesPerCall / seconds) / probe GB/s, per round
 * @param gflops              kernel: median GFLOP/s (2·M·N·K / t); NaN at model level
 * @param ceilingRate         decode: tokens/s the probe's median bandwidth allows (bytes per token read once);
 *                            NaN otherwise
 * @param warmupRounds        unmeasured rounds run
 * @param rounds              measured rounds
 * @param budgetCut           whether the time budget ended the measurement early
 * @param outlierSigma        outlier threshold of the statistics
 * @param confidenceLevel     level of the intervals
 */
public record ThroughputRow(String label, String level, String config, String reference, String activations, int n,
                            int k, int batch, int tokens, String unit, double bytesPerCall, double[] seconds,
                            double[] referenceSeconds, double[] probeGbs, double[] rates, double[] referenceRates,
                            double[] speedups, SampleStats rate, double[] rateCi, SampleStats referenceRate,
                            SampleStats probe, SampleStats speedup, double[] speedupCi,
                            SampleStats fractionOfBandwidth, double gflops, double ceilingRate, int warmupRounds,
                            int rounds, boolean budgetCut, double outlierSigma, double confidenceLevel) {

    /** Median rate in {@link #unit()} (tokens/s at model level). */
    public double medianRate() {
        return rate.median();
    }

    /** Median of the paired per-round speedups over the reference. */
    public double medianSpeedup() {
        return speedup.median();
    }

    public String summary() {
        return String.format(java.util.Locale.ROOT,
                "%s %s: %.2f %s (median of %d, sd %.2f), speedup over %s %.3fx [%.3f, %.3f], %.0f%% of %.1f GB/s probe",
                config, label, rate.median(), unit, rate.n(), rate.sd(), reference, speedup.median(), speedupCi[0],
                speedupCi[1], 100 * fractionOfBandwidth.median(), probe.median());
    }
}
