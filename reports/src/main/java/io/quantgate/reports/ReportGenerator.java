package io.quantgate.reports;

import io.quantgate.results.model.AtomicFiles;
import org.knowm.xchart.BitmapEncoder;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Generates the report of a {@link ResultsSet} into a directory: {@code BENCHMARKS.md}, the six PNG charts (those
 * the results have data for), {@code results.csv}, {@code bencher.json}, {@code github-benchmark-bigger.json} and
 * {@code github-benchmark-smaller.json}; with {@code GITHUB_STEP_SUMMARY} set, the summary table is appended to that
 * file. Every file is written with {@link AtomicFiles} (a reader sees the old file or the whole new one; rw-r--r--).
 * A chart that is not drawn this time is removed from the directory if an earlier report left it there, so the
 * directory never shows a chart the report does not describe.
 */
public final class ReportGenerator {
    public static final String BENCHMARKS_MD = "BENCHMARKS.md";
    public static final String RESULTS_CSV = "results.csv";
    public static final String STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY";

    private ReportGenerator() {
    }

    public static Report generate(ResultsSet set, ReportOptions o) {
        Path out = o.outDir().toAbsolutePath().normalize();
        List<Path> written = new ArrayList<>();
        List<String> exportNames = List.of(RESULTS_CSV, BenchmarkExports.BENCHER, BenchmarkExports.GITHUB_BIGGER,
                BenchmarkExports.GITHUB_SMALLER);
        if (set.isEmpty()) {
            written.add(AtomicFiles.writeString(out.resolve(BENCHMARKS_MD),
                    MarkdownReport.noResults(set, o.command(), out)));
            ReportModel empty = ReportModel.of(set, null);
            written.addAll(writeExports(set, empty, out));
            removeStaleCharts(out, List.of());
            appendStepSummary(o, "No benchmark results yet: see " + BENCHMARKS_MD + " for the commands that produce "
                    + "them.\n");
            return new Report(written.getFirst(), List.copyOf(written), List.of(), true);
        }
        ReportModel m = ReportModel.of(set, o.referenceBackend());
        List<ChartOutcome> charts = o.charts() ? ReportCharts.all(m) : List.of();
        List<Path> pngs = new ArrayList<>();
        for (ChartOutcome c : charts) {
            if (c.drawn()) {
                pngs.add(AtomicFiles.writeBytes(out.resolve(c.file()), png(c)));
            }
        }
        removeStaleCharts(out, charts);
        List<Path> exports = writeExports(set, m, out);
        written.add(AtomicFiles.writeString(out.resolve(BENCHMARKS_MD),
                MarkdownReport.render(m, charts, exportNames, o.command(), out)));
        written.addAll(pngs);
        written.addAll(exports);
        appendStepSummary(o, MarkdownReport.summaryBody(m));
        return new Report(written.getFirst(), List.copyOf(written), charts, false);
    }

    static byte[] png(ChartOutcome c) {
        try {
            return BitmapEncoder.getBitmapBytes(c.chart(), BitmapEncoder.BitmapFormat.PNG);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot render " + c.file() + ": " + e.getMessage(), e);
        }
    }

    private static List<Path> writeExports(ResultsSet set, ReportModel m, Path out) {
        return List.of(AtomicFiles.writeString(out.resolve(RESULTS_CSV), CsvExport.render(set)),
                AtomicFiles.writeString(out.resolve(BenchmarkExports.BENCHER), BenchmarkExports.bencher(m)),
                AtomicFiles.writeString(out.resolve(BenchmarkExports.GITHUB_BIGGER), BenchmarkExports.githubBigger(m)),
                AtomicFiles.writeString(out.resolve(BenchmarkExports.GITHUB_SMALLER),
                        BenchmarkExports.githubSmaller(m)));
    }

    private static void removeStaleCharts(Path out, List<ChartOutcome> charts) {
        for (String name : List.of(ReportCharts.PPL_VS_COMPRESSION, ReportCharts.THROUGHPUT_COMPARISON,
                ReportCharts.BACKEND_COMPARISON, ReportCharts.SPEEDUP_COMPARISON, ReportCharts.SUMMARY_STATS,
                ReportCharts.QUANTIZATION_IMPACT)) {
            boolean drawn = charts.stream().anyMatch(c -> c.drawn() && c.file().equals(name));
            if (!drawn) {
                try {
                    Files.deleteIfExists(out.resolve(name));
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot remove the stale chart " + out.resolve(name) + ": "
                            + e.getMessage(), e);
                }
            }
        }
    }

    /** GitHub Actions shows the Markdown appended to this file on the job's page; appending is its protocol. */
    private static void appendStepSummary(ReportOptions o, String body) {
        String target = o.environment() == null ? null : o.environment().get(STEP_SUMMARY_ENV);
        if (target == null || target.isBlank()) {
            return;
        }
        try {
            Files.writeString(Path.of(target), "### QuantGate benchmarks\n\n" + body + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append the summary to " + STEP_SUMMARY_ENV + "=" + target + ": "
                    + e.getMessage(), e);
        }
    }
}
