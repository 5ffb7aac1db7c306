package io.quantgate.reports;

import io.quantgate.results.model.Interval;
import io.quantgate.results.model.PerplexityRecord;
import io.quantgate.results.model.ResultRecord;
import io.quantgate.results.model.ThroughputRecord;
import io.quantgate.results.model.ThroughputRow;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code results.csv}: every record of every results file, one line per throughput row (one line for a record
 * without rows), with the record's quality figures repeated on each of its lines so that every line stands alone in
 * a spreadsheet. RFC 4180 quoting; numbers in full precision; empty cells for what was not measured.
 */
final class CsvExport {
    static final List<String> COLUMNS = List.of("file", "index", "test", "model", "model_sha256", "config", "format",
            "group", "backend", "activations", "status", "verdict", "error", "compression_ratio",
            "weight_bytes_per_token", "calibration_dataset", "ppl_ctx", "ppl_chunks", "ppl_scored", "ppl_base",
            "ppl_quant", "ppl_delta_percent", "ppl_delta_percent_low", "ppl_delta_percent_high", "kld", "kld_low",
            "kld_high", "same_top_percent", "same_top_percent_low", "same_top_percent_high", "throughput_level",
            "throughput_reference", "row_label", "row_batch", "row_tokens", "unit", "rounds", "rate_median", "rate_low",
            "rate_high", "speedup_median", "speedup_low", "speedup_high", "fraction_of_bandwidth", "gflops");

    private CsvExport() {
    }

    static String render(ResultsSet set) {
        StringBuilder out = new StringBuilder();
        line(out, COLUMNS);
        for (BenchmarkRecord r : set.records()) {
            List<String> base = new ArrayList<>();
            base.add(r.file().toString());
            base.add(String.valueOf(r.index()));
            base.add(r.test());
            base.add(r.modelName());
            base.add(r.modelSha256());
            base.add(r.config());
            ResultRecord rec = r.record();
            base.add(rec.configFormat());
            base.add(rec.configGroup() == null ? null : rec.configGroup().toString());
            base.add(r.backend());
            base.add(rec.activations());
            base.add(rec.status());
            base.add(rec.verdict());
            base.add(rec.error());
            base.add(num(rec.compressionRatio()));
            base.add(rec.weightBytesPerToken() == null ? null : rec.weightBytesPerToken().toString());
            base.add(r.calibrationDataset());
            PerplexityRecord p = r.perplexity();
            if (p == null) {
                for (int i = 0; i < 14; i++) {
                    base.add(null);
                }
            } else {
                base.add(String.valueOf(p.ctx()));
                base.add(String.valueOf(p.chunks()));
                base.add(String.valueOf(p.scored()));
                base.add(num(p.pplBase()));
                base.add(num(p.pplQuant()));
                interval(base, p.deltaPercent());
                interval(base, p.kldMean());
                interval(base, p.sameTopPercent());
            }
            ThroughputRecord t = r.throughput();
            if (t == null || t.rows().isEmpty()) {
                List<String> l = new ArrayList<>(base);
                l.add(t == null ? null : t.level());
                l.add(t == null ? null : t.reference());
                while (l.size() < COLUMNS.size()) {
                    l.add(null);
                }
                line(out, l);
                continue;
            }
            for (ThroughputRow row : t.rows()) {
                List<String> l = new ArrayList<>(base);
                l.add(t.level());
                l.add(t.reference());
                l.add(row.label());
                l.add(row.batch() == null ? null : row.batch().toString());
                l.add(row.tokens() == null ? null : row.tokens().toString());
                l.add(row.unit());
                l.add(String.valueOf(row.rounds()));
                interval(l, RowFigures.rate(row));
                interval(l, RowFigures.speedup(row));
                l.add(num(RowFigures.fractionOfBandwidth(row)));
                l.add(num(row.gflops()));
                line(out, l);
            }
        }
        return out.toString();
    }

    private static void interval(List<String> l, Interval i) {
        l.add(num(i.estimate()));
        l.add(num(i.low()));
        l.add(num(i.high()));
    }

    private static String num(double v) {
        return Double.isFinite(v) ? Double.toString(v) : null;
    }

    private static void line(StringBuilder out, List<String> cells) {
        for (int i = 0; i < cells.size(); i++) {
            if (i > 0) {
                out.append(',');
            }
            out.append(quote(cells.get(i)));
        }
        out.append("\r\n");
    }

    /** RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. */
    static String quote(String s) {
        if (s == null) {
            return "";
        }
        if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\n') < 0 && s.indexOf('\r') < 0) {
            return s;
        }
        return "\"" + s.replace("\"", "\"\"") + "\"";
    }
}
