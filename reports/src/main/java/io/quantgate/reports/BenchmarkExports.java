package io.quantgate.reports;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.quantgate.results.model.Interval;
import io.quantgate.results.model.ThroughputRow;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The exports for benchmark-tracking services, one entry per {@link ConfigRow} (so a figure measured by two records
 * appears once, as in the report):
 * <ul>
 * <li>{@code bencher.json}, Bencher Metric Format: {@code {benchmark: {measure: {value, lower_value, upper_value}}}}.
 *     Benchmarks are {@code model/config/backend} for quality and compression, {@code model/config/backend/row} for
 *     throughput rows; measures {@code ppl-delta-percent}, {@code kld}, {@code same-top-percent},
 *     {@code compression-ratio}, {@code tokens-per-second}, {@code weight-gb-per-second}, {@code speedup}.</li>
 * <li>github-action-benchmark's custom tools, one file per direction, since a file has one tool:
 *     {@code github-benchmark-bigger.json} ({@code customBiggerIsBetter}: tokens/s, weight GB/s, speedup, same-top %)
 *     and {@code github-benchmark-smaller.json} ({@code customSmallerIsBetter}: PPL delta %, KLD), each an array of
 *     {@code {name, unit, value, range, extra}}.</li>
 * </ul>
 */
final class BenchmarkExports {
    static final String BENCHER = "bencher.json";
    static final String GITHUB_BIGGER = "github-benchmark-bigger.json";
    static final String GITHUB_SMALLER = "github-benchmark-smaller.json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private BenchmarkExports() {
    }

    static String bencher(ReportModel m) {
        Map<String, Map<String, Map<String, Double>>> out = new LinkedHashMap<>();
        for (ConfigRow r : m.rows()) {
            String name = r.model() + "/" + r.config() + "/" + r.backend();
            Map<String, Map<String, Double>> measures = new LinkedHashMap<>();
            if (r.ppl() != null) {
                measure(measures, "ppl-delta-percent", r.ppl().deltaPercent());
                measure(measures, "kld", r.ppl().kldMean());
                measure(measures, "same-top-percent", r.ppl().sameTopPercent());
            }
            if (Double.isFinite(r.compression())) {
                measure(measures, "compression-ratio",
                        new Interval(r.compression(), Double.NaN, Double.NaN, Double.NaN));
            }
            if (!measures.isEmpty()) {
                out.put(name, measures);
            }
            for (ThroughputRow row : rows(r)) {
                Map<String, Map<String, Double>> tm = new LinkedHashMap<>();
                measure(tm, RowFigures.isTokensPerSecond(row) ? "tokens-per-second" : "weight-gb-per-second",
                        RowFigures.rate(row));
                measure(tm, "speedup", RowFigures.speedup(row));
                if (!tm.isEmpty()) {
                    out.put(name + "/" + row.label(), tm);
                }
            }
        }
        return write(out);
    }

    private static void measure(Map<String, Map<String, Double>> measures, String name, Interval i) {
        if (!i.hasEstimate()) {
            return;
        }
        Map<String, Double> v = new LinkedHashMap<>();
        v.put("value", i.estimate());
        if (i.hasBounds()) {
            v.put("lower_value", i.low());
            v.put("upper_value", i.high());
        }
        measures.put(name, v);
    }

    private static List<ThroughputRow> rows(ConfigRow r) {
        List<ThroughputRow> rows = new ArrayList<>();
        if (r.prefill() != null) {
            rows.add(r.prefill());
        }
        if (r.decode() != null) {
            rows.add(r.decode());
        }
        rows.addAll(r.kernelRows().values());
        return rows;
    }

    static String githubBigger(ReportModel m) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (ConfigRow r : m.rows()) {
            String name = r.model() + " " + r.config() + " on " + r.backend();
            if (r.ppl() != null) {
                entry(out, name + ": same-top %", "%", r.ppl().sameTopPercent(), "");
            }
            for (ThroughputRow row : rows(r)) {
                entry(out, name + " " + row.label() + ": " + row.unit(), row.unit(), RowFigures.rate(row),
                        row.rounds() + " rounds");
                entry(out, name + " " + row.label() + ": speedup", "x", RowFigures.speedup(row),
                        row.rounds() + " paired rounds");
            }
        }
        return write(out);
    }

    static String githubSmaller(ReportModel m) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (ConfigRow r : m.rows()) {
            if (r.ppl() == null) {
                continue;
            }
            String name = r.model() + " " + r.config() + " on " + r.backend();
            String chunks = r.ppl().chunks() + " chunks of " + r.ppl().ctx();
            entry(out, name + ": PPL delta %", "%", r.ppl().deltaPercent(), chunks);
            entry(out, name + ": KLD", "nats", r.ppl().kldMean(), chunks);
        }
        return write(out);
    }

    private static void entry(List<Map<String, Object>> out, String name, String unit, Interval i, String extra) {
        if (!i.hasEstimate()) {
            return;
        }
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("name", name);
        e.put("unit", unit);
        e.put("value", i.estimate());
        if (i.hasBounds()) {
            // the tool shows range as text; ours is an interval, not a symmetric ±, so it is written as one
            e.put("range", String.format(Locale.ROOT, "[%.6g, %.6g]", i.low(), i.high()));
        }
        if (!extra.isEmpty()) {
            e.put("extra", extra);
        }
        out.add(e);
    }

    private static String write(Object o) {
        try {
            return JSON.writeValueAsString(o) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize an export: " + e.getMessage(), e);
        }
    }
}
