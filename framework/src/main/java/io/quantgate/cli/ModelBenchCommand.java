package io.quantgate.cli;

import io.quantgate.backend.BackendOptions;
import io.quantgate.backend.EngineFiles;
import io.quantgate.harness.DecodeBreakdown;
import io.quantgate.harness.Harness;
import io.quantgate.harness.ModelCost;
import io.quantgate.harness.ModelPool;
import io.quantgate.harness.Sampling;
import io.quantgate.harness.Subject;
import io.quantgate.harness.ThroughputPlan;
import io.quantgate.harness.Workload;
import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.results.Records;
import io.quantgate.results.model.Inputs;
import io.quantgate.results.model.ResultRecord;
import io.quantgate.results.model.TestInfo;
import io.quantgate.results.model.ThroughputRecord;
import io.quantgate.results.model.ThroughputRow;
import io.quantgate.runtime.ModelFiles;
import io.quantgate.runtime.model.ModelWeights;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code quantgate bench model}: prefill and decode speed of a whole model as llama-bench defines them (pp512: a
 * 512-token prompt in one batch from an empty cache; tg128: 128 single-token steps from an empty cache) for one or more
 * configs, all configs of a workload in the same interleaved rounds with the bandwidth probe; the decode ceiling is the
 * probe's bandwidth ÷ the bytes a decode step reads.
 */
@Command(name = "model", mixinStandardHelpOptions = true, sortOptions = false,
        description = "pp / tg tokens/s of a model and the bandwidth-bound decode ceiling.",
        footer = "synthetic specs: synthetic:llama-1b, synthetic:llama-7b, synthetic:llama3-8b, synthetic:tiny, or "
                + "synthetic:dim=..,layers=..,heads=..,kv=..,hidden=..,vocab=..")
final class ModelBenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "PATH|synthetic:SPEC", description = "the model")
    String model;

    @Option(names = "--config", required = true, paramLabel = "ID,...", converter = Converters.ConfigList.class,
            description = "config ids, comma separated (a mixed: config keeps its own commas)")
    Converters.Configs configs;

    @Option(names = "--reference", paramLabel = "ID", converter = Converters.Config.class,
            description = "also time this config in the same rounds and report each config's paired speedup over it")
    QuantizationConfig reference;

    @Option(names = "--backend", paramLabel = "NAME", defaultValue = "native",
            description = "the engine (default ${DEFAULT-VALUE}; see bench backends to compare engines)")
    String backend;

    @Option(names = "--kernel", paramLabel = "NAME",
            description = "run every linear layer on this kernel (a provider name, external-kernel:<command>, "
                    + "class:<name>); each config is then compared with the same config on native in the same rounds")
    String kernel;

    @Option(names = "--activations", paramLabel = "A", converter = Converters.Activations.class, defaultValue = "int8",
            description = "int8 (default: the fast path for quantized weights), bf16 or fp32")
    ActivationMode activations;

    @Option(names = "--pp", paramLabel = "N", defaultValue = "512", description = "prompt tokens (default ${DEFAULT-VALUE})")
    int pp;

    @Option(names = "--tg", paramLabel = "N", defaultValue = "128", description = "decode steps (default ${DEFAULT-VALUE})")
    int tg;

    @Option(names = "--depth", paramLabel = "N", defaultValue = "0", description = "decode after a prompt of N tokens "
            + "(untimed, as llama-bench's -d): tg then reads an N-position KV cache each step; the ceiling counts its "
            + "bytes (default ${DEFAULT-VALUE}: from an empty cache)")
    int depth;

    @Option(names = "--breakdown", description = "after the measurements, run tg once more with the native library's "
            + "call timeline on and print where a token's time goes: each GEMV shape, attention, the KV stores, norms, "
            + "RoPE, SwiGLU and the time between calls (native backend)")
    boolean breakdown;

    @Option(names = "--tokenizer", paramLabel = "PATH", description = "vocabulary for files other engines load")
    Path tokenizer;

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

    @Override
    public Integer call() {
        Instant started = Instant.now();
        threads.apply();
        Sampling plan = sampling.sampling(1, 5, 600);
        if (pp < 1 || tg < 1 || depth < 0) {
            throw new IllegalArgumentException("--pp and --tg must be >= 1 and --depth >= 0, got " + pp + ", " + tg
                    + " and " + depth);
        }
        PrintWriter log = BenchOutput.log(spec, output);
        List<ResultRecord> records = new ArrayList<>();
        StringBuilder breakdowns = new StringBuilder();
        try (ModelWeights opened = ModelFiles.open(model)) {
            ModelWeights weights = Calibrations.open(opened, calibration.file == null ? null
                    : ModelFiles.tokenizer(opened, tokenizer == null ? null : tokenizer.toString()), calibration.file,
                    calibration.options(512), null, log, Calibrations.with(configs.list(), reference));
            int seq = weights.config().seqLen();
            if (pp > seq || (long) depth + tg > seq) {
                throw new IllegalArgumentException("pp " + pp + " / depth " + depth + " + tg " + tg
                        + " exceed the context of " + seq);
            }
            int ctx = Math.max(pp, depth + tg);
            BackendOptions o = BackendOptions.defaults();
            if (tokenizer != null) {
                o = o.with(EngineFiles.TOKENIZER, tokenizer.toAbsolutePath().toString());
            }
            List<Subject> subjects = new ArrayList<>();
            for (QuantizationConfig c : configs.list()) {
                subjects.add(Subject.model(backend, kernel, c, activations));
            }
            Subject ref = reference == null ? null : Subject.model(backend, reference, activations);
            // with a kernel under test and no reference: each config against itself on the engine's own kernels
            List<Subject> natives = new ArrayList<>();
            if (kernel != null && ref == null) {
                for (QuantizationConfig c : configs.list()) {
                    natives.add(Subject.model(backend, c, activations));
                }
            }
            Inputs inputs = BenchOutput.inputs(weights, model);
            List<List<ThroughputRow>> byLevel = new ArrayList<>();
            try (ModelPool pool = new ModelPool(weights, o, ctx, 0);
                 Harness harness = new Harness(memory.sizing(), log::println)) {
                List<String> ran = new ArrayList<>();
                for (Subject s : subjects) {
                    long t0 = System.nanoTime();
                    pool.plan(s).requireRunnable();
                    var loaded = pool.open(s, ctx);
                    if (depth > 0) { // before any round, not after pp was measured
                        loaded.cannotDecodeAfterPrompt().ifPresent(why -> {
                            throw new IllegalArgumentException("--depth " + depth + ": " + why);
                        });
                    }
                    ran.add(loaded.plan().describe());
                    log.printf(Locale.ROOT, "loaded %s in %.1f s%n", s.describe(), (System.nanoTime() - t0) / 1e9);
                }
                for (Workload w : List.of(new Workload.Prefill(pp), new Workload.Decode(tg, depth))) {
                    ThroughputPlan p;
                    if (!natives.isEmpty()) {
                        List<Subject> all = new ArrayList<>(subjects);
                        all.addAll(natives);
                        List<ThroughputPlan.Comparison> pairs = new ArrayList<>();
                        for (int i = 0; i < subjects.size(); i++) {
                            pairs.add(new ThroughputPlan.Comparison(i, subjects.size() + i));
                        }
                        p = new ThroughputPlan(w, all, pairs, plan);
                    } else {
                        p = ref == null ? ThroughputPlan.alone(w, subjects, plan)
                                : ThroughputPlan.against(w, ref, subjects, plan);
                    }
                    List<ThroughputRow> rows = harness.throughput(p, pool, Harness.RemeasurePolicy.NEVER).rows();
                    rows.forEach(r -> log.println("  " + r.summary()));
                    byLevel.add(rows);
                }
                if (breakdown) {
                    for (Subject s : subjects) {
                        if (!"native".equals(s.backend()) || s.kernel() != null) {
                            log.println("breakdown: only the native engine on its own kernels calls the traced library; "
                                    + s.describe() + " skipped");
                            continue;
                        }
                        breakdowns.append(DecodeBreakdown.measure(pool.open(s, ctx), depth, tg,
                                weights.config().vocabSize()).table(s.describe(), new Workload.Decode(tg, depth).label()))
                                .append('\n');
                    }
                }
                String command = spec.qualifiedName(" ");
                for (int i = 0; i < subjects.size(); i++) {
                    Subject s = subjects.get(i);
                    ModelCost cost = ModelCost.of(weights, s.config());
                    for (List<ThroughputRow> rows : byLevel) {
                        ThroughputRow row = rows.get(i);
                        ThroughputRecord t = Records.throughput(row.level(), s.configLabel(),
                                ref != null ? ref.configLabel() : natives.isEmpty() ? null : s.configLabel(),
                                s.effectiveActivations().id(), plan, 0, List.of(row));
                        records.add(BenchOutput.done(Records.withCalibration(Records.record(TestInfo.command(command,
                                        s.describe() + " " + row.label()), s.config(), null, backend, s.kernelName(),
                                ran.get(i), s.effectiveActivations().id(), inputs, cost.compressionRatio(),
                                cost.weightBytesPerToken(), null, t, List.of(), null, started, Instant.now()), weights,
                                s.config())));
                    }
                }
            }
        }
        BenchOutput.finish(spec, output, started, records, table(records, pp, new Workload.Decode(tg, depth).label())
                + (breakdowns.isEmpty() ? "" : "\n" + breakdowns));
        return 0;
    }

    /** One Markdown row per config: compression, pp and tg with their paired ratios, and the decode ceiling. */
    static String table(List<ResultRecord> records, int pp, String tg) {
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "| config | compression | weight MB/token | pp%d tok/s | %s tok/s | tg "
                + "ceiling tok/s | tg / ceiling | decode GB/s |%n|---|---:|---:|---:|---:|---:|---:|---:|%n", pp, tg));
        for (int i = 0; i + 1 < records.size(); i += 2) {
            ResultRecord prefill = records.get(i);
            ResultRecord decode = records.get(i + 1);
            ThroughputRow p = prefill.throughput().rows().getFirst();
            ThroughputRow d = decode.throughput().rows().getFirst();
            s.append(String.format(Locale.ROOT, "| %s | %.2f | %.1f | %s | %s | %.2f | %.2f | %.1f |%n",
                    prefill.config(), prefill.compressionRatio(), prefill.weightBytesPerToken() / 1e6, rate(p),
                    rate(d), d.ceilingRate(), d.fractionOfBandwidth().median(),
                    d.medianRate() * d.bytesPerCall() / d.tokens() / 1e9));
        }
        return s.toString();
    }

    /** {@code 123.4 ± 0.6}, with {@code (1.23x [1.20, 1.25])} when the row has a reference. */
    static String rate(ThroughputRow r) {
        String s = String.format(Locale.ROOT, "%.2f ± %.2f", r.medianRate(), r.rate().sd());
        if (r.hasReference()) {
            s += String.format(Locale.ROOT, " (%.2fx [%.2f, %.2f])", r.medianSpeedup(), r.speedupCi().low(),
                    r.speedupCi().high());
        }
        return s;
    }
}
