package io.quantgate.cli;

import io.quantgate.backend.Backend;
import io.quantgate.backend.BackendComparison;
import io.quantgate.backend.BackendOptions;
import io.quantgate.backend.Backends;
import io.quantgate.backend.EngineFiles;
import io.quantgate.evaluation.PerplexityOptions;
import io.quantgate.kernels.bench.MachineInfo;
import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.runtime.ModelFiles;
import io.quantgate.runtime.model.ModelWeights;
import io.quantgate.runtime.tokenizer.Tokenizer;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code quantgate bench backends}: {@link BackendComparison} from the command line — every backend × config
 * interleaved in one run, each row saying exactly what ran, ratios to the reference backend with paired
 * intervals, and optionally the perplexity of one config on every backend that gives logits.
 */
final class BackendBenchCommand {
    static final String USAGE = """
            usage: quantgate bench backends --model PATH|synthetic:<spec> --configs ID[,ID...] --backends B[,B...] [options]
              --backends B,...      backend names (see below); external:<command> for an external engine
              --reference B         the backend ratios are taken against (default native)
              --pp N / --tg N       prompt tokens / decode steps (default 512 / 128, as llama-bench)
              --warmup N / --reps N unmeasured / measured rounds (default 1 / 5); rounds rotate the order
              --threads N           engine threads (default: all cores)
              --tokenizer P         vocabulary for GGUF files of models without one (synthetic:*)
              --work-dir D          where GGUF/safetensors files for other engines are written (default $TMP/quantgate-backends)
              --activations A       native activations for throughput: int8 (default) or fp32
              --timeout S           seconds an external engine may take per answer (default 120)
              --ppl-text FILE       also compare perplexity on this text (the model's tokenizer or --tokenizer)
              --ppl-config ID       the config whose perplexity is compared (default fp16: the same weights everywhere)
              --ppl-chunks N        chunks of 512 tokens (default 4)
              --ppl-tolerance R     agreement threshold on |ppl/ppl_reference - 1| (default 1e-3)
              --json / --out FILE   the JSON document on stdout / to FILE (atomically)
            """;

    private BackendBenchCommand() {
    }

    static int run(String[] args, PrintStream out, PrintStream err) throws IOException {
        CliArgs a = new CliArgs("bench backends", args, Set.of("--model", "--configs", "--backends", "--reference", "--pp",
                "--tg", "--warmup", "--reps", "--threads", "--tokenizer", "--work-dir", "--activations", "--timeout",
                "--ppl-text", "--ppl-config", "--ppl-chunks", "--ppl-tolerance", "--out"), Set.of("--json"));
        List<String> configs = new ArrayList<>();
        for (String c : a.require("--configs").split(",")) {
            QuantizationConfig.parse(c.strip());
            configs.add(c.strip());
        }
        List<Backend> backends = new ArrayList<>();
        for (String b : a.require("--backends").split(",")) {
            backends.add(Backends.byName(b));
        }
        int pp = a.getInt("--pp", 512, 1);
        int tg = a.getInt("--tg", 128, 1);
        BackendOptions options = BackendOptions.defaults().withContextLength(Math.max(pp, tg))
                .withThreads(a.getInt("--threads", 0, 0))
                .withTimeout(java.time.Duration.ofSeconds(a.getInt("--timeout", 120, 1)))
                .with("native.activations", Commands.activations(a.get("--activations", "int8")).id());
        if (a.has("--work-dir")) {
            options = options.withWorkDir(Path.of(a.get("--work-dir", null)).toAbsolutePath());
        }
        if (a.has("--tokenizer")) {
            options = options.with(EngineFiles.TOKENIZER, Path.of(a.get("--tokenizer", null)).toAbsolutePath().toString());
        }
        PrintStream log = a.flag("--json") ? err : out;
        Map<String, Object> doc = new LinkedHashMap<>();
        try (ModelWeights weights = ModelFiles.open(a.require("--model"))) {
            options = options.withContextLength(Math.min(options.contextLength(), weights.config().seqLen()));
            var settings = new BackendComparison.Settings(configs, backends, a.get("--reference", "native"), pp, tg,
                    a.getInt("--warmup", 1, 0), a.getInt("--reps", 5, 2), options);
            var result = BackendComparison.throughput(weights, settings, log);
            doc.put("model", weights.source().toString());
            doc.put("machine", MachineInfo.describe());
            doc.put("reference", settings.reference());
            doc.put("pp", pp);
            doc.put("tg", tg);
            doc.put("warmup", settings.warmup());
            doc.put("reps", settings.reps());
            doc.put("interleaved", "every round runs every cell (pp then tg), the order rotating by one cell per round");
            doc.put("results", result.cells());
            log.println();
            log.print(result.markdown());
            if (a.has("--ppl-text")) {
                Tokenizer tok = ModelFiles.tokenizer(weights, a.get("--tokenizer", null));
                String text = Files.readString(Path.of(a.get("--ppl-text", null)), StandardCharsets.UTF_8);
                int[] tokens = tok.encode(text, true);
                PerplexityOptions po = PerplexityOptions.defaults().withChunks(a.getInt("--ppl-chunks", 4, 1));
                double tol = Double.parseDouble(a.get("--ppl-tolerance", "1e-3"));
                String pplConfig = a.get("--ppl-config", "fp16");
                var rows = BackendComparison.perplexity(weights, pplConfig, backends, settings.reference(), tokens, po,
                        options.with("native.activations", "fp32"), tol, log);
                doc.put("perplexity", Map.of("config", pplConfig, "chunks", po.maxChunks(), "ctx", po.ctx(),
                        "tolerance", tol, "rows", rows));
                log.printf(Locale.ROOT, "%n| backend | perplexity of %s (%d chunks × %d) | vs %s | agrees (|Δ| ≤ %.1e) | what ran |%n",
                        pplConfig, po.maxChunks(), po.ctx(), settings.reference(), tol);
                log.println("|---|---:|---:|---|---|");
                for (var r : rows) {
                    log.printf(Locale.ROOT, "| %s | %s | %s | %s | %s |%n", r.backend(),
                            r.ppl() == null ? "–" : String.format(Locale.ROOT, "%.6f ± %.4f", r.ppl(), r.pplStdErr()),
                            r.relativeToReference() == null ? "–" : String.format(Locale.ROOT, "%+.2e", r.relativeToReference()),
                            r.agrees() == null ? "–" : r.agrees() ? "yes" : "NO: disagrees", r.ran());
                }
            }
        }
        String json = Commands.JSON.writeValueAsString(doc);
        if (a.has("--out")) {
            io.quantgate.runtime.AtomicFile.writeString(Path.of(a.get("--out", null)).toAbsolutePath(), json + "\n");
        }
        if (a.flag("--json")) {
            out.println(json);
        }
        return 0;
    }
}
