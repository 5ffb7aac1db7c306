package io.quantgate.cli;

import io.quantgate.backend.Backend;
import io.quantgate.backend.BackendModel;
import io.quantgate.backend.BackendOptions;
import io.quantgate.backend.Backends;
import io.quantgate.backend.EngineFiles;
import io.quantgate.backend.RunPlan;
import io.quantgate.evaluation.ComparisonResult;
import io.quantgate.evaluation.PerplexityOptions;
import io.quantgate.harness.Harness;
import io.quantgate.harness.ModelCost;
import io.quantgate.harness.ModelPool;
import io.quantgate.harness.PerplexityPlan;
import io.quantgate.harness.Sampling;
import io.quantgate.harness.Subject;
import io.quantgate.harness.ThroughputPlan;
import io.quantgate.harness.ThroughputRun;
import io.quantgate.harness.Workload;
import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.results.Records;
import io.quantgate.results.model.Inputs;
import io.quantgate.results.model.ResultRecord;
import io.quantgate.results.model.TestInfo;
import io.quantgate.results.model.ThroughputRow;
import io.quantgate.runtime.FileHashes;
import io.quantgate.runtime.ModelFiles;
import io.quantgate.runtime.model.ModelWeights;
import io.quantgate.runtime.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code quantgate bench backends}: every backend × config on the same weights, each workload (pp, tg) one interleaved
 * group of every cell with the bandwidth probe; ratios to the reference backend on the same config, paired over
 * rounds; each cell says exactly what ran, or why it cannot. Optionally the perplexity of one config on every backend
 * that gives logits, compared chunk by chunk with the reference backend's.
 */
@Command(name = "backends", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Every backend x config interleaved: tokens/s, paired ratios to the reference, perplexity "
                + "agreement (docs/backends.md).")
final class BackendBenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "PATH|synthetic:SPEC", description = "the model")
    String model;

    @Option(names = "--configs", required = true, paramLabel = "ID,...", converter = Converters.ConfigList.class,
            description = "config ids, comma separated")
    Converters.Configs configs;

    @Option(names = "--backends", required = true, paramLabel = "B,...", split = ",",
            description = "backend names; external:<command> for an external engine")
    List<String> backends;

    @Option(names = "--reference", paramLabel = "B", defaultValue = "native",
            description = "the backend ratios are taken against (default ${DEFAULT-VALUE})")
    String reference;

    @Option(names = "--pp", paramLabel = "N", defaultValue = "512", description = "prompt tokens (default ${DEFAULT-VALUE})")
    int pp;

    @Option(names = "--tg", paramLabel = "N", defaultValue = "128", description = "decode steps (default ${DEFAULT-VALUE})")
    int tg;

    @Option(names = "--depth", paramLabel = "N", defaultValue = "0", description = "decode after a prompt of N tokens "
            + "(untimed, as llama-bench's -d) on every backend; one that cannot is reported as not run "
            + "(default ${DEFAULT-VALUE}: from an empty cache)")
    int depth;

    @Option(names = "--tokenizer", paramLabel = "PATH", description = "vocabulary for GGUF files of models without one "
            + "(synthetic:*), and for --ppl-text")
    Path tokenizer;

    @Option(names = "--work-dir", paramLabel = "DIR", description = "where files for other engines are written "
            + "(default $TMP/quantgate-backends)")
    Path workDir;

    @Option(names = "--activations", paramLabel = "A", converter = Converters.Activations.class, defaultValue = "int8",
            description = "activations for throughput: int8 (default), bf16 or fp32")
    ActivationMode activations;

    @Option(names = "--timeout", paramLabel = "S", defaultValue = "120",
            description = "seconds an external engine may take per answer (default ${DEFAULT-VALUE})")
    int timeout;

    @Option(names = "--ppl-text", paramLabel = "FILE", description = "also compare perplexity on this text")
    Path pplText;

    @Option(names = "--ppl-config", paramLabel = "ID,...", converter = Converters.ConfigList.class,
            defaultValue = "fp16", description = "the configs whose perplexity is compared across engines (default "
            + "${DEFAULT-VALUE}); each engine runs the same weights as the reference does")
    Converters.Configs pplConfigs;

    @Option(names = "--ppl-chunks", paramLabel = "N", defaultValue = "4", description = "chunks of 512 tokens "
            + "(default ${DEFAULT-VALUE})")
    int pplChunks;

    @Option(names = "--ppl-tolerance", paramLabel = "R", defaultValue = "5e-3",
            description = "agreement threshold on |ppl/ppl_reference - 1| (default ${DEFAULT-VALUE}); a "
                    + "disagreement makes the command exit with 1")
    double pplTolerance;

    @Mixin
    CalibrationMixin calibration;

    @Mixin
    BenchOptions.SamplingOptions sampling;

    @Mixin
    BenchOptions.MemoryOptions memory;

    @Mixin
    BenchOptions.ThreadOptions threads;

    @Mixin
    BenchOptions.OutputOptions output;

    /** One backend × config and what became of it. */
    private static final class Cell {
        final Subject subject;
        String ran;
        String failure;
        final List<ThroughputRow> rows = new ArrayList<>();

        Cell(Subject subject) {
            this.subject = subject;
        }
    }

    @Override
    public Integer call() {
        Instant started = Instant.now();
        threads.apply();
        Sampling plan = sampling.sampling(1, 5, 600);
        if (pp < 1 || tg < 1 || timeout < 1 || depth < 0) {
            throw new IllegalArgumentException("--pp, --tg and --timeout must be >= 1 and --depth >= 0");
        }
        for (String b : backends) {
            Backends.byName(b); // an unknown name stops here, listing the available ones
        }
        if (!backends.contains(reference)) {
            throw new IllegalArgumentException("the reference backend '" + reference + "' is not among --backends "
                    + backends);
        }
        PrintWriter log = BenchOutput.log(spec, output);
        BackendOptions o = BackendOptions.defaults().withTimeout(Duration.ofSeconds(timeout))
                .withThreads(threads.threads == null ? 0 : threads.threads);
        if (workDir != null) {
            o = o.withWorkDir(workDir.toAbsolutePath());
        }
        if (tokenizer != null) {
            o = o.with(EngineFiles.TOKENIZER, tokenizer.toAbsolutePath().toString());
        }
        List<ResultRecord> records = new ArrayList<>();
        List<String> disagreements = new ArrayList<>();
        String command = spec.qualifiedName(" ");
        StringBuilder table = new StringBuilder();
        try (ModelWeights opened = ModelFiles.open(model)) {
            ModelWeights weights = Calibrations.open(opened, calibration.file == null ? null
                    : ModelFiles.tokenizer(opened, tokenizer == null ? null : tokenizer.toString()), calibration.file,
                    calibration.options(512), null, log, Calibrations.with(configs.list(), null));
            int seq = weights.config().seqLen();
            if (pp > seq || (long) depth + tg > seq) {
                throw new IllegalArgumentException("pp " + pp + " / depth " + depth + " + tg " + tg
                        + " exceed the context of " + seq);
            }
            int ctx = Math.max(pp, depth + tg);
            Inputs inputs = BenchOutput.inputs(weights, model);
            List<Cell> cells = new ArrayList<>();
            try (ModelPool pool = new ModelPool(weights, o, ctx, 0);
                 Harness harness = new Harness(memory.sizing(), log::println)) {
                for (QuantizationConfig c : configs.list()) {
                    for (String b : backends) {
                        Cell cell = new Cell(Subject.model(b, c, activations));
                        cells.add(cell);
                        open(pool, cell, ctx, depth, log);
                    }
                }
                for (Workload w : List.of(new Workload.Prefill(pp), new Workload.Decode(tg, depth))) {
                    measure(harness, pool, cells, w, plan, log);
                }
                for (Cell cell : cells) {
                    Subject s = cell.subject;
                    TestInfo test = TestInfo.command(command, s.describe());
                    if (cell.failure != null) {
                        records.add(BenchOutput.notRun(Records.error(test, s.configLabel(), null, s.runnerName(),
                                new IllegalStateException(cell.failure))).withRan(cell.failure));
                        continue;
                    }
                    ModelCost cost = ModelCost.of(weights, s.config());
                    for (ThroughputRow row : cell.rows) {
                        records.add(BenchOutput.done(Records.withCalibration(Records.record(TestInfo.command(command,
                                        s.describe() + " " + row.label()), s.config(), null, s.runnerName(), null,
                                cell.ran, s.effectiveActivations().id(), inputs, cost.compressionRatio(),
                                cost.weightBytesPerToken(), null, Records.throughput(row.level(), s.configLabel(),
                                        row.hasReference() ? s.configLabel() : null, s.effectiveActivations().id(), plan,
                                        0, List.of(row)), List.of(), null, started, Instant.now()), weights,
                                s.config())));
                    }
                }
                table.append(throughputTable(cells, pp, new Workload.Decode(tg, depth).label(), reference));
                if (pplText != null) {
                    table.append('\n').append(perplexity(harness, pool, weights, inputs, command, records,
                            disagreements, log));
                }
            }
        }
        BenchOutput.finish(spec, output, started, records, table.toString());
        for (String d : disagreements) {
            spec.commandLine().getErr().println(spec.qualifiedName(" ") + ": engines disagree: " + d);
        }
        return disagreements.isEmpty() ? 0 : 1;
    }

    private static void open(ModelPool pool, Cell cell, int ctx, int depth, PrintWriter log) {
        Subject s = cell.subject;
        try {
            RunPlan p = pool.plan(s);
            if (!p.runnable()) {
                cell.failure = p.describe();
                return;
            }
            long t0 = System.nanoTime();
            BackendModel m = pool.open(s, ctx);
            cell.ran = m.plan().describe();
            log.printf(Locale.ROOT, "loaded %s in %.1f s: %s%n", s.describe(), (System.nanoTime() - t0) / 1e9, cell.ran);
            if (depth > 0) { // before any round: such an engine is not measured at all, rather than measured in part
                m.cannotDecodeAfterPrompt().ifPresent(why -> cell.failure = "cannot run: --depth " + depth + ": " + why);
            }
        } catch (ModelPool.BackendUnavailableException e) {
            cell.failure = "unavailable: " + e.getMessage();
        } catch (RuntimeException e) {
            cell.failure = "failed: " + e.getMessage();
            log.println(s.describe() + " failed to load: " + e.getMessage());
        }
    }

    /**
     * One interleaved group of every live cell; a cell whose engine fails mid-run is dropped (its row says why) and
     * the group is measured again without it.
     */
    private void measure(Harness harness, ModelPool pool, List<Cell> cells, Workload w, Sampling plan,
                         PrintWriter log) {
        while (true) {
            List<Cell> live = cells.stream().filter(c -> c.failure == null).toList();
            if (live.isEmpty()) {
                return;
            }
            List<Subject> subjects = live.stream().map(c -> c.subject).toList();
            List<ThroughputPlan.Comparison> pairs = new ArrayList<>();
            for (int i = 0; i < live.size(); i++) {
                Subject s = subjects.get(i);
                int ref = -1;
                if (!s.backend().equals(reference)) {
                    ref = subjects.indexOf(Subject.model(reference, s.config(), s.activations()));
                }
                pairs.add(new ThroughputPlan.Comparison(i, ref));
            }
            try {
                List<ThroughputRow> rows = harness.throughput(new ThroughputPlan(w, subjects, pairs, plan), pool,
                        Harness.RemeasurePolicy.NEVER).rows();
                for (int i = 0; i < live.size(); i++) {
                    live.get(i).rows.add(rows.get(i));
                }
                return;
            } catch (ThroughputRun.SubjectFailedException e) {
                Cell failed = live.get(e.index());
                failed.failure = "failed: " + e.getCause().getMessage();
                failed.rows.clear();
                log.println(e.getMessage() + "; measuring the others again without it");
            }
        }
    }

    /**
     * Every --ppl-config on every backend against the same config on the reference backend, paired on the same chunks:
     * perplexity, its ratio to the reference's, and llama.cpp's KLD statistics between the two engines' logits. The
     * reference runs with the same activations as the others (--activations), so an engine that quantizes activations
     * itself (llama.cpp: Q8_0 for Q4_0/Q8_0 weights) meets native doing the same.
     */
    private String perplexity(Harness harness, ModelPool pool, ModelWeights weights, Inputs modelInputs, String command,
                              List<ResultRecord> records, List<String> disagreements, PrintWriter log) {
        Tokenizer tok = ModelFiles.tokenizer(weights, tokenizer == null ? null : tokenizer.toString());
        String text = io.quantgate.runtime.TextFiles.readUtf8(pplText, "--ppl-text file");
        int[] tokens = tok.encode(text, true);
        PerplexityOptions po = PerplexityOptions.defaults().withCtx(Math.min(512, weights.config().seqLen()))
                .withChunks(pplChunks);
        Inputs inputs = new Inputs(modelInputs.model(), modelInputs.modelSha256(), modelInputs.architecture(),
                tokenizer == null ? null : tokenizer.toString(), tokenizer == null ? null : FileHashes.sha256(tokenizer),
                pplText.toString(), FileHashes.sha256(pplText), (long) tokens.length);
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "Perplexity on %s (%d chunks × %d), each engine "
                + "against %s on the same config and chunks; KLD between the two engines' logits (nats)%n%n"
                + "| config | backend | PPL | vs %s (95%% CI) | agrees (|Δ| ≤ %.1e) | KLD mean | KLD p99 | KLD max "
                + "| Δp RMS | same top | what ran |%n|---|---|---:|---:|---|---:|---:|---:|---:|---:|---|%n",
                pplText.getFileName(), pplChunks, po.ctx(), reference, reference, pplTolerance));
        for (QuantizationConfig cfg : pplConfigs.list()) {
            Subject base = Subject.model(reference, cfg, activations);
            for (String b : backends) {
                Subject subject = Subject.model(b, cfg, activations);
                String name = subject.runnerName();
                TestInfo test = TestInfo.command(command, "perplexity of " + subject.describe());
                try {
                    RunPlan p = pool.plan(subject);
                    if (!p.runnable() || !p.givesLogits()) {
                        String why = p.runnable() ? "no perplexity: " + p.noLogits() : p.describe();
                        s.append(String.format(Locale.ROOT, "| %s | %s | – | – | – | – | – | – | – | – | %s |%n",
                                cfg.label(), name, why));
                        records.add(BenchOutput.notRun(Records.error(test, cfg.label(), cfg.label(), name,
                                new IllegalStateException(why))).withRan(why));
                        continue;
                    }
                    Instant t0 = Instant.now();
                    ComparisonResult c = harness.perplexity(new PerplexityPlan(subject, base, po, pplChunks,
                            pplChunks), pool, tokens, Harness.PerplexityPolicy.NEVER).comparison();
                    double rel = c.ratio() - 1;
                    boolean agrees = Math.abs(rel) <= pplTolerance;
                    String what = pool.open(subject, po.ctx()).plan().describe();
                    log.printf(Locale.ROOT, "perplexity %s: %.6f (%s: %.6f)%n", subject.describe(), c.pplQuant(),
                            reference, c.pplBase());
                    var d = c.kldDistribution();
                    s.append(String.format(Locale.ROOT, "| %s | %s | %.4f ± %.4f | %s | %s | %.2e | %.2e | %.2e | "
                                    + "%.3f %% | %.2f %% | %s |%n", cfg.label(), name, c.pplQuant(),
                            c.quant().pplStdErr(), b.equals(reference) ? "(reference)" : String.format(Locale.ROOT,
                                    "%+.3f %% [%+.3f, %+.3f]", c.deltaPercent(), c.deltaPercentCi().low(),
                                    c.deltaPercentCi().high()), agrees ? "yes" : "**NO**", c.meanKld(), d.p99(),
                            d.max(), d.rmsDeltaP(), c.sameTopPercent(), what));
                    if (!agrees) {
                        disagreements.add(String.format(Locale.ROOT, "%s on %s: PPL %.6f, %s: PPL %.6f (%+.4f %%, "
                                        + "tolerance %.1e) on %d chunks of %s; %s ran %s; %s ran %s", name,
                                cfg.label(), c.pplQuant(), reference, c.pplBase(), 100 * rel, pplTolerance, pplChunks,
                                pplText, name, what, reference, pool.open(base, po.ctx()).plan().describe()));
                    }
                    records.add(BenchOutput.done(Records.record(test, cfg, cfg.label(), name, null,
                            what, subject.effectiveActivations().id(), inputs, Double.NaN, null,
                            Records.perplexity(c, 0), null, List.of(), null, t0, Instant.now())));
                } catch (RuntimeException e) {
                    String why = "failed: " + e.getMessage();
                    s.append(String.format(Locale.ROOT, "| %s | %s | – | – | – | – | – | – | – | – | %s |%n",
                            cfg.label(), name, why));
                    records.add(BenchOutput.notRun(Records.error(test, cfg.label(), cfg.label(), name, e))
                            .withRan(why));
                }
            }
        }
        return s.toString();
    }

    /** One row per backend × config: what ran, pp and tg with their paired ratios to the reference backend. */
    static String throughputTable(List<Cell> cells, int pp, String tg, String reference) {
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "| config | backend | what ran | pp%d tok/s | "
                + "%s tok/s | pp vs %s (95%% CI) | tg vs %s (95%% CI) | decode GB/s |%n"
                + "|---|---|---|---:|---:|---:|---:|---:|%n", pp, tg, reference, reference));
        for (Cell c : cells) {
            String config = c.subject.configLabel();
            if (c.failure != null || c.rows.size() < 2) {
                s.append(String.format(Locale.ROOT, "| %s | %s | %s | – | – | – | – | – |%n", config,
                        c.subject.runnerName(),
                        c.failure != null ? c.failure : "not measured"));
                continue;
            }
            ThroughputRow p = c.rows.get(0);
            ThroughputRow d = c.rows.get(1);
            s.append(String.format(Locale.ROOT, "| %s | %s | %s | %.0f ± %.0f | %.2f ± %.2f | %s | %s | %.1f |%n", config,
                    c.subject.runnerName(), c.ran, p.medianRate(), p.rate().sd(), d.medianRate(), d.rate().sd(), ratio(p),
                    ratio(d), d.medianRate() * d.bytesPerCall() / d.tokens() / 1e9));
        }
        return s.toString();
    }

    private static String ratio(ThroughputRow r) {
        return r.hasReference() ? String.format(Locale.ROOT, "%.2fx [%.2f, %.2f]", r.medianSpeedup(),
                r.speedupCi().low(), r.speedupCi().high()) : "(reference)";
    }
}
