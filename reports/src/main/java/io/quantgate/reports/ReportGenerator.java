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
 * file. The report is written whole into a fresh directory and switched in at once ({@link ReportDirectory}): a
 * reader, or a run killed at any instant, sees the old report or the new one, never a mix. A chart that is not drawn
 * this time disappears with the old report, so the directory never shows a chart the report does not describe.
 */
public final class ReportGenerator {
    public static final String BENCHMARKS_MD = "BENCHMARKS.md";
    public static final String RESULTS_CSV = "results.csv";
    public static final String STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY";

    private ReportGenerator() {
    }

    public static Report generate(ResultsSet set, ReportOptions o) {
        Path out = o.outDir().toAbsolutePath().normalize();
        ReportDirectory dir = new ReportDirectory(out);
        Path gen = dir.stage();
        List<String> exportNames = List.of(RESULTS_CSV, BenchmarkExports.BENCHER, BenchmarkExports.GITHUB_BIGGER,
                BenchmarkExports.GITHUB_SMALLER);
        List<String> names = new ArrayList<>();
        if (set.isEmpty()) {
            write(gen, names, BENCHMARKS_MD, MarkdownReport.noResults(set, o.command(), out));
            writeExports(set, ReportModel.of(set, null), gen, names);
            List<Path> written = dir.publish(gen, names);
            appendStepSummary(o, "No benchmark results yet: see " + BENCHMARKS_MD + " for the commands that produce "
                    + "them.\n");
            return new Report(written.getFirst(), written, List.of(), true);
        }
        ReportModel m = ReportModel.of(set, o.referenceBackend());
        List<ChartOutcome> charts = o.charts() ? ReportCharts.all(m) : List.of();
        write(gen, names, BENCHMARKS_MD, MarkdownReport.render(m, charts, exportNames, o.command(), out));
        for (ChartOutcome c : charts) {
            if (c.drawn()) {
                AtomicFiles.writeBytes(gen.resolve(c.file()), png(c));
                names.add(c.file());
            }
        }
        writeExports(set, m, gen, names);
        List<Path> written = dir.publish(gen, names);
        appendStepSummary(o, MarkdownReport.summaryBody(m));
        return new Report(written.getFirst(), written, charts, false);
    }

    private static void write(Path gen, List<String> names, String name, String text) {
        AtomicFiles.writeString(gen.resolve(name), text);
        names.add(name);
    }

    static byte[] png(ChartOutcome c) {
        try {
            return BitmapEncoder.getBitmapBytes(c.chart(), BitmapEncoder.BitmapFormat.PNG);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot render " + c.file() + ": " + e.getMessage(), e);
        }
    }

    private static void writeExports(ResultsSet set, ReportModel m, Path gen, List<String> names) {
        write(gen, names, RESULTS_CSV, CsvExport.render(set));
        write(gen, names, BenchmarkExports.BENCHER, BenchmarkExports.bencher(m));
        write(gen, names, BenchmarkExports.GITHUB_BIGGER, BenchmarkExports.githubBigger(m));
        write(gen, names, BenchmarkExports.GITHUB_SMALLER, BenchmarkExports.githubSmaller(m));
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
