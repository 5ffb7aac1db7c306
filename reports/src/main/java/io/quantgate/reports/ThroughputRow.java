package io.quantgate.reports;

/**
 * One measured row of a throughput record: a kernel shape × batch ({@code 4096x4096 M=1}, rate in weight GB/s)
 * or a whole-model workload ({@code pp512}, {@code tg128}, rate in tokens/s).
 *
 * @param rate    median rate with the bootstrap interval of the median ({@code rate.median}, {@code rate_ci})
 * @param speedup median paired speedup over the record's reference with its interval
 * @param rounds  measured rounds (the raw samples behind the intervals)
 */
public record ThroughputRow(String label, String level, String unit, Integer batch, Integer tokens, int rounds,
                            Interval rate, Interval speedup, double fractionOfBandwidth, double gflops,
                            double ceilingRate) {

    public boolean isTokensPerSecond() {
        return "tokens/s".equals(unit);
    }

    public boolean isDecode() {
        return "decode".equals(level);
    }

    public boolean isPrefill() {
        return "prefill".equals(level);
    }

    public boolean isKernel() {
        return "kernel".equals(level);
    }
}
