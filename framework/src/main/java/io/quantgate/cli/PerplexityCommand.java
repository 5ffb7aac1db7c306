package io.quantgate.cli;

import io.quantgate.backend.BackendOptions;
import io.quantgate.evaluation.ComparisonResult;
import io.quantgate.evaluation.PerplexityOptions;
import io.quantgate.evaluation.PerplexityResult;
import io.quantgate.harness.Harness;
import io.quantgate.harness.MemorySizing;
import io.quantgate.harness.ModelPool;
import io.quantgate.harness.PerplexityPlan;
import io.quantgate.harness.Subject;
import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.results.model.ResultsJson;
import io.quantgate.runtime.ModelFiles;
import io.quantgate.runtime.model.ModelWeights;
import io.quantgate.runtime.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code quantgate perplexity}: llama.cpp-compatible perplexity of a model under a config id, optionally against a
 * baseline config on the same tokens (KLD, Δppl, ratio, same-top with paired intervals), through the harness like
 * every other measurement.
 */
@Command(name = "perplexity", mixinStandardHelpOptions = true, sortOptions = false,
        description = "llama.cpp-compatible perplexity of a model under a config id (vs a baseline).")
final class PerplexityCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "PATH|synthetic:SPEC", description = "the model")
    String model;

    @Option(names = "--text", required = true, paramLabel = "PATH", description = "the text to evaluate (read whole)")
    Path text;

    @Option(names = "--tokenizer", paramLabel = "PATH", description = "tokenizer file (default: the model's own)")
    Path tokenizer;

    @Option(names = "--ctx", paramLabel = "N", defaultValue = "512", description = "tokens per chunk (default "
            + "${DEFAULT-VALUE})")
    int ctx;

    @Option(names = "--chunks", paramLabel = "N", defaultValue = "0", description = "evaluate at most N chunks "
            + "(default all)")
    int chunks;

    @Option(names = "--config", paramLabel = "ID", converter = Converters.Config.class, defaultValue = "fp32",
            description = "quantization of the model, SPEC §2 (default ${DEFAULT-VALUE})")
    QuantizationConfig config;

    @Option(names = "--baseline", paramLabel = "ID", converter = Converters.Config.class,
            description = "also run this config on the same tokens and compare (KLD, same-top, Δppl)")
    QuantizationConfig baseline;

    @Option(names = "--backend", paramLabel = "NAME", defaultValue = "native",
            description = "the engine that runs --config (default ${DEFAULT-VALUE}; the baseline runs on native)")
    String backend;

    @Option(names = "--kernel", paramLabel = "NAME",
            description = "run every linear layer of --config on this kernel (a provider name, "
                    + "external-kernel:<command>, class:<name>); the baseline stays on native")
    String kernel;

    @Option(names = "--activations", paramLabel = "A", converter = Converters.Activations.class, defaultValue = "fp32",
            description = "fp32 (default), int8 or bf16 activations for quantized weights")
    ActivationMode activations;

    @Option(names = "--mode", paramLabel = "M", defaultValue = "chunked",
            description = "chunked (default: llama.cpp, a partial run takes the first --chunks), spread (--chunks "
                    + "spread evenly over the text, as @Perplexity gates do by default) or sliding")
    String mode;

    @Option(names = "--stride", paramLabel = "N", defaultValue = "0", description = "sliding-window stride (default ctx/2)")
    int stride;

    @picocli.CommandLine.Mixin
    CalibrationMixin calibration;

    @Option(names = "--json", description = "print one JSON object on stdout (progress on stderr)")
    boolean json;

    @Option(names = "--quiet", description = "no progress lines")
    boolean quiet;

    /** What the command reports, field names as in its JSON. */
    record Report(String model, String architecture, String text, String config, String backend, String ran,
                  String activations, String mode, int ctx, int tokens, double tokenizeSeconds, int chunks, long scored,
                  double ppl, double pplSe, double seconds, double tokensPerSecond, String baseline, Double pplBase,
                  Double pplBaseSe, Double delta, Double deltaPercent, double[] deltaPercentCi, Double ratio,
                  double[] ratioCi, Double kld, Double kldSe, double[] kldCi, Double sameTop, double[] sameTopCi,
                  io.quantgate.results.model.KldDistribution kldDistribution, Double confidenceLevel,
                  double wallSeconds) {
    }

    @Override
    public Integer call() {
        long t0 = System.nanoTime();
        if (ctx < 4 || chunks < 0 || stride < 0) {
            throw new IllegalArgumentException("--ctx must be >= 4, --chunks and --stride >= 0");
        }
        if (!Files.isRegularFile(text)) {
            throw new IllegalArgumentException("text file " + text.toAbsolutePath() + " does not exist");
        }
        PerplexityOptions options = PerplexityOptions.chunked(ctx).withChunks(chunks);
        switch (mode) {
            case "chunked" -> { }
            case "spread" -> options = options.withMode(PerplexityOptions.Mode.SPREAD);
            case "sliding" -> options = options.withMode(PerplexityOptions.Mode.SLIDING).withStride(stride);
            default -> throw new IllegalArgumentException("--mode must be chunked, spread or sliding, got '" + mode
                    + "'");
        }
        PrintWriter err = spec.commandLine().getErr();
        if (!quiet) {
            options = options.withProgress(p -> {
                if (p.chunk() == p.chunks() || p.chunk() % Math.max(1, p.chunks() / 20) == 0) {
                    err.printf(Locale.ROOT, "[%d/%d] ppl %.4f%s  %.1f s%n", p.chunk(), p.chunks(), p.runningPpl(),
                            Double.isNaN(p.runningKld()) ? "" : String.format(Locale.ROOT, "  base %.4f  kld %.5f",
                                    p.runningBasePpl(), p.runningKld()), p.elapsedSeconds());
                    err.flush();
                }
            });
        }
        Report r;
        try (ModelWeights opened = ModelFiles.open(model)) {
            Tokenizer tok = ModelFiles.tokenizer(opened, tokenizer == null ? null : tokenizer.toString());
            if (ctx > opened.config().seqLen()) {
                throw new IllegalArgumentException("--ctx " + ctx + " exceeds the model's context of "
                        + opened.config().seqLen());
            }
            ModelWeights weights = Calibrations.open(opened, tok, calibration.file, calibration.options(ctx), text,
                    quiet ? null : err, config, baseline);
            long tt = System.nanoTime();
            // llama.cpp reads the whole file as one string and tokenizes it in one piece, BOS first
            int[] tokens = tok.encode(read(text), true);
            double tokenizeSeconds = (System.nanoTime() - tt) / 1e9;
            Subject subject = Subject.model(backend, kernel, config, activations);
            try (ModelPool pool = new ModelPool(weights, BackendOptions.defaults(), ctx, 0);
                 Harness harness = new Harness(MemorySizing.defaults(), null)) {
                pool.plan(subject).requireRunnable();
                String ran = pool.open(subject, ctx).plan().describe();
                if (baseline == null) {
                    PerplexityResult p = harness.perplexity(subject, pool, tokens, options);
                    r = new Report(weights.source().toString(), weights.architecture(), text.toString(), config.label(),
                            backend, ran, activations.id(), mode, ctx, tokens.length, tokenizeSeconds, p.chunks(),
                            p.scored(), p.ppl(), p.pplStdErr(), p.seconds(), p.tokensPerSecond(), null, null, null,
                            null, null, null, null, null, null, null, null, null, null, null, null, 0);
                } else {
                    Subject base = Subject.model("native", baseline, activations);
                    ComparisonResult c = harness.perplexity(new PerplexityPlan(subject, base, options, chunks,
                            chunks), pool, tokens, Harness.PerplexityPolicy.NEVER).comparison();
                    r = new Report(weights.source().toString(), weights.architecture(), text.toString(), config.label(),
                            backend, ran, activations.id(), mode, ctx, tokens.length, tokenizeSeconds, c.chunks(),
                            c.quant().scored(), c.pplQuant(), c.quant().pplStdErr(), c.seconds(),
                            c.quant().tokensPerSecond(), baseline.label(), c.pplBase(), c.base().pplStdErr(), c.delta(),
                            c.deltaPercent(), pair(c.deltaPercentCi().low(), c.deltaPercentCi().high()), c.ratio(),
                            pair(c.ratioCi().low(), c.ratioCi().high()), c.meanKld(), c.kldStdErr(),
                            pair(c.kldCi().low(), c.kldCi().high()), c.sameTopPercent(),
                            pair(c.sameTopCi().low(), c.sameTopCi().high()), c.kldDistribution(),
                            c.confidenceLevel(), 0);
                }
            }
        }
        r = withWall(r, (System.nanoTime() - t0) / 1e9);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.print(ResultsJson.toJson(r));
        } else {
            ResultsJson.mapper().valueToTree(r).properties().forEach(e -> {
                if (!e.getValue().isNull()) {
                    out.println(e.getKey() + ": " + e.getValue());
                }
            });
        }
        out.flush();
        return 0;
    }

    private static double[] pair(double a, double b) {
        return new double[] {a, b};
    }

    private static Report withWall(Report r, double wall) {
        return new Report(r.model(), r.architecture(), r.text(), r.config(), r.backend(), r.ran(), r.activations(),
                r.mode(), r.ctx(), r.tokens(), r.tokenizeSeconds(), r.chunks(), r.scored(), r.ppl(), r.pplSe(),
                r.seconds(), r.tokensPerSecond(), r.baseline(), r.pplBase(), r.pplBaseSe(), r.delta(), r.deltaPercent(),
                r.deltaPercentCi(), r.ratio(), r.ratioCi(), r.kld(), r.kldSe(), r.kldCi(), r.sameTop(), r.sameTopCi(),
                r.kldDistribution(), r.confidenceLevel(), wall);
    }

    private static String read(Path p) {
        return io.quantgate.runtime.TextFiles.readUtf8(p, "--text file");
    }
}
