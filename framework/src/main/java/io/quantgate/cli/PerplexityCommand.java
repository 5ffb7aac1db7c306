package io.quantgate.cli;

import io.quantgate.evaluation.ComparisonResult;
import io.quantgate.evaluation.LlamaLogitsModel;
import io.quantgate.evaluation.PerplexityComparison;
import io.quantgate.evaluation.PerplexityEvaluator;
import io.quantgate.evaluation.PerplexityOptions;
import io.quantgate.evaluation.PerplexityResult;
import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.runtime.ModelFiles;
import io.quantgate.runtime.model.LlamaModel;
import io.quantgate.runtime.model.ModelWeights;
import io.quantgate.runtime.tokenizer.Tokenizer;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code quantgate perplexity}: llama.cpp-compatible perplexity of a model under a config id, optionally
 * against a baseline config on the same tokens (KLD, Δppl, ratio, same-top with paired intervals).
 */
final class PerplexityCommand {
    static final String USAGE = """
            usage: quantgate perplexity --model PATH|synthetic:<spec> --text PATH [options]
              --tokenizer PATH      tokenizer file (default: the one that belongs to the model)
              --ctx N               tokens per chunk (default 512)
              --chunks N            evaluate at most N chunks (default all)
              --config ID           quantization of the model, SPEC §2 (default fp32)
              --baseline ID         also run this config on the same tokens and compare (KLD, same-top, Δppl)
              --activations A       fp32 (default) or int8 activations for quantized weights
              --mode M              chunked (default, llama.cpp) or sliding
              --stride N            sliding-window stride (default ctx/2)
              --json                print one JSON object on stdout (progress on stderr)
              --quiet               no progress lines
            """;

    private PerplexityCommand() {
    }

    static int run(String[] args, PrintStream out, PrintStream err) throws IOException {
        CliArgs a = new CliArgs("perplexity", args,
                Set.of("--model", "--tokenizer", "--text", "--ctx", "--chunks", "--config", "--baseline",
                        "--activations", "--mode", "--stride"),
                Set.of("--json", "--quiet"));
        String config = a.get("--config", "fp32");
        String baseline = a.get("--baseline", null);
        QuantizationConfig.parse(config); // fail before any loading
        if (baseline != null) {
            QuantizationConfig.parse(baseline);
        }
        ActivationMode act = Commands.activations(a.get("--activations", "fp32"));
        Path text = Path.of(a.require("--text"));
        if (!Files.isRegularFile(text)) {
            throw new IllegalArgumentException("text file " + text.toAbsolutePath() + " does not exist");
        }
        int ctx = a.getInt("--ctx", PerplexityOptions.DEFAULT_CTX, 4);
        PerplexityOptions options = PerplexityOptions.chunked(ctx).withChunks(a.getInt("--chunks", 0, 0));
        String mode = a.get("--mode", "chunked");
        switch (mode) {
            case "chunked" -> { }
            case "sliding" -> options = options.withMode(PerplexityOptions.Mode.SLIDING)
                    .withStride(a.getInt("--stride", 0, 0));
            default -> throw new IllegalArgumentException("perplexity: --mode must be chunked or sliding, got '" + mode + "'");
        }
        boolean json = a.flag("--json");
        if (!a.flag("--quiet")) {
            options = options.withProgress(p -> {
                if (p.chunk() == p.chunks() || p.chunk() % Math.max(1, p.chunks() / 20) == 0) {
                    err.printf(Locale.ROOT, "[%d/%d] ppl %.4f%s  %.1f s%n", p.chunk(), p.chunks(), p.runningPpl(),
                            Double.isNaN(p.runningKld()) ? "" : String.format(Locale.ROOT, "  base %.4f  kld %.5f",
                                    p.runningBasePpl(), p.runningKld()), p.elapsedSeconds());
                }
            });
        }
        long t0 = System.nanoTime();
        Map<String, Object> r = new LinkedHashMap<>();
        try (ModelWeights weights = ModelFiles.open(a.require("--model"))) {
            Tokenizer tok = ModelFiles.tokenizer(weights, a.get("--tokenizer", null));
            if (ctx > weights.config().seqLen()) {
                throw new IllegalArgumentException("perplexity: --ctx " + ctx + " exceeds the model's context of "
                        + weights.config().seqLen());
            }
            long tt = System.nanoTime();
            // llama.cpp reads the whole file as one string and tokenizes it in one piece, BOS first
            int[] tokens = tok.encode(Files.readString(text, StandardCharsets.UTF_8), true);
            double tokenizeSeconds = (System.nanoTime() - tt) / 1e9;
            r.put("model", weights.source().toString());
            r.put("architecture", weights.architecture());
            r.put("text", text.toString());
            r.put("config", config);
            r.put("activations", act.name().toLowerCase(Locale.ROOT));
            r.put("mode", mode);
            r.put("ctx", ctx);
            r.put("tokens", tokens.length);
            r.put("tokenize_seconds", tokenizeSeconds);
            try (LlamaModel quant = new LlamaModel(weights, QuantizationConfig.parse(config), act,
                    LlamaModel.DEFAULT_MAX_BATCH, ctx)) {
                if (baseline == null) {
                    PerplexityResult p = PerplexityEvaluator.evaluate(new LlamaLogitsModel(quant), tokens, options);
                    put(r, p);
                } else {
                    r.put("baseline", baseline);
                    try (LlamaModel base = new LlamaModel(weights, QuantizationConfig.parse(baseline), act,
                            LlamaModel.DEFAULT_MAX_BATCH, ctx)) {
                        ComparisonResult c = PerplexityComparison.compare(new LlamaLogitsModel(quant),
                                new LlamaLogitsModel(base), tokens, options);
                        put(r, c.quant());
                        r.put("seconds", c.seconds());
                        r.put("ppl_base", c.pplBase());
                        r.put("ppl_base_se", c.base().pplStdErr());
                        r.put("delta", c.delta());
                        r.put("delta_percent", c.deltaPercent());
                        r.put("delta_percent_ci", new double[] {c.deltaPercentCi().low(), c.deltaPercentCi().high()});
                        r.put("ratio", c.ratio());
                        r.put("ratio_ci", new double[] {c.ratioCi().low(), c.ratioCi().high()});
                        r.put("kld", c.meanKld());
                        r.put("kld_se", c.kldStdErr());
                        r.put("kld_ci", new double[] {c.kldCi().low(), c.kldCi().high()});
                        r.put("same_top", c.sameTopPercent());
                        r.put("same_top_ci", new double[] {c.sameTopCi().low(), c.sameTopCi().high()});
                        r.put("confidence_level", c.confidenceLevel());
                    }
                }
            }
        }
        r.put("wall_seconds", (System.nanoTime() - t0) / 1e9);
        if (json) {
            out.println(Commands.JSON.writeValueAsString(r));
        } else {
            r.forEach((k, v) -> out.println(k + ": " + Commands.format(v)));
        }
        return 0;
    }

    private static void put(Map<String, Object> r, PerplexityResult p) {
        r.put("chunks", p.chunks());
        r.put("scored", p.scored());
        r.put("ppl", p.ppl());
        r.put("ppl_se", p.pplStdErr());
        r.put("seconds", p.seconds());
        r.put("tokens_per_second", p.tokensPerSecond());
    }
}
