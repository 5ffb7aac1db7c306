package io.quantgate.reports;

import io.quantgate.results.model.Interval;
import io.quantgate.results.model.PerplexityRecord;
import io.quantgate.results.model.ThroughputRow;

import java.util.List;
import java.util.Map;

/**
 * Everything the results say about one configuration of one model on one backend, merged across the records that
 * measured it (a quality test and a throughput test usually are different records). When several records measured
 * the same figure, the one with the most samples is shown (most tokens scored, most rounds), the later one on a tie.
 *
 * @param pplRecord    the record the perplexity figures come from (null without any)
 * @param decode       the decode row ({@code tg128}) in tokens/s, or null
 * @param prefill      the prefill row ({@code pp512}) in tokens/s, or null
 * @param kernelRows   kernel rows by label ({@code 4096x4096 M=1}), weight GB/s
 */
public record ConfigRow(String model, String config, String format, Integer group, String backend,
                        double compression, Long weightBytesPerToken, PerplexityRecord ppl,
                        BenchmarkRecord pplRecord, ThroughputRow decode, ThroughputRow prefill,
                        Map<String, ThroughputRow> kernelRows, String calibrationDataset, List<BenchmarkRecord> records) {

    /**
     * This row with its perplexity figures taken from the record that was evaluated like {@code other} (same ctx,
     * chunks, mode and baseline), so the two can be paired; empty when none of its records was. A config measured
     * by several suites (all chunks in one, 200 in another) has one record per evaluation.
     */
    public java.util.Optional<ConfigRow> evaluatedLike(ConfigRow other) {
        if (pplRecord != null && PairedDifference.comparable(this, other)) {
            return java.util.Optional.of(this);
        }
        for (BenchmarkRecord r : records) {
            if (r.perplexity() == null || !r.perplexity().deltaPercent().hasEstimate()) {
                continue;
            }
            ConfigRow candidate = new ConfigRow(model, config, format, group, backend, compression, weightBytesPerToken,
                    r.perplexity(), r, decode, prefill, kernelRows, calibrationDataset, records);
            if (PairedDifference.comparable(candidate, other)) {
                return java.util.Optional.of(candidate);
            }
        }
        return java.util.Optional.empty();
    }

    /** The config as tables name it: with {@code @ <calibration text>} when it was fitted on one. */
    public String label() {
        return calibrationDataset == null ? config : config + " @ " + calibrationDataset;
    }

    public boolean hasPplDelta() {
        return ppl != null && ppl.deltaPercent().hasEstimate();
    }

    public double pplDeltaPercent() {
        return hasPplDelta() ? ppl.deltaPercent().estimate() : Double.NaN;
    }

    /**
     * Weight bytes read per second: while decoding, {@code weight_bytes_per_token} × decode tokens/s; without a
     * decode row, the median over the batch-1 kernel rows of their median weight GB/s. NaN without either.
     */
    public double weightGbPerSecond() {
        if (decode != null && weightBytesPerToken != null && RowFigures.rate(decode).hasEstimate()) {
            return weightBytesPerToken * RowFigures.rate(decode).estimate() / 1e9;
        }
        double[] m = kernelRows.values().stream()
                .filter(r -> r.batch() != null && r.batch() == 1 && RowFigures.rate(r).hasEstimate())
                .mapToDouble(r -> RowFigures.rate(r).estimate()).sorted().toArray();
        if (m.length == 0) {
            return Double.NaN;
        }
        return m.length % 2 == 1 ? m[m.length / 2] : (m[m.length / 2 - 1] + m[m.length / 2]) / 2;
    }

    /** Tokens/s for the summary: decode if measured, else prefill, else the perplexity evaluation's; null if none. */
    public Rate tokensPerSecond() {
        if (decode != null && RowFigures.rate(decode).hasEstimate()) {
            return new Rate(RowFigures.rate(decode), decode.label());
        }
        if (prefill != null && RowFigures.rate(prefill).hasEstimate()) {
            return new Rate(RowFigures.rate(prefill), prefill.label());
        }
        if (ppl != null && Double.isFinite(ppl.quantTokensPerSecond())) {
            return new Rate(new Interval(ppl.quantTokensPerSecond(), Double.NaN, Double.NaN, Double.NaN), "eval");
        }
        return null;
    }
}
