package io.quantgate.cli;

import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.runtime.ModelFiles;
import io.quantgate.runtime.model.ModelWeights;
import io.quantgate.runtime.model.QuantizedWeights;
import io.quantgate.runtime.safetensors.HuggingFaceWriter;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code quantgate quantize}: writes a model under a config id so other engines run the very same weights.
 * GGUF keeps int8-g32 and int4s-g32 as Q8_0 / Q4_0 blocks with QuantGate's own codes and scales (the same
 * dequantized values); every other config is written as its dequantized values (exact in F32).
 */
final class QuantizeCommand {
    static final String USAGE = """
            usage: quantgate quantize --model PATH --config ID --out FILE.gguf|DIR|FILE.safetensors [--dtype T]
              --tokenizer P vocabulary to store in a GGUF file (default: the model's own, when found)
              --config ID   SPEC §2 config id or mixed: rules
              --out         a .gguf file, or a directory (Hugging Face config.json + model.safetensors);
                            GGUF stores fp16 as F16, int8-g32 as Q8_0, int4s-g32 as Q4_0 (QuantGate's own
                            codes and scales), everything else as its dequantized values in F32
              --dtype T     safetensors dtype of every tensor: F32 (default, exact), F16 or BF16
            """;

    private QuantizeCommand() {
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        CliArgs a = new CliArgs("quantize", args, Set.of("--model", "--config", "--out", "--dtype", "--tokenizer"),
                Set.of());
        String config = a.require("--config");
        QuantizationConfig quant = QuantizationConfig.parse(config);
        Path target = Path.of(a.require("--out")).toAbsolutePath();
        String name = target.getFileName().toString().toLowerCase(Locale.ROOT);
        long t0 = System.nanoTime();
        try (ModelWeights weights = ModelFiles.open(a.require("--model"))) {
            QuantizedWeights q = new QuantizedWeights(weights, quant);
            if (name.endsWith(".gguf")) {
                // the file carries its vocabulary (llama.cpp needs one), when the model has a tokenizer
                java.util.Optional<io.quantgate.runtime.tokenizer.Tokenizer> tok = a.has("--tokenizer")
                        ? java.util.Optional.of(ModelFiles.tokenizer(weights, a.get("--tokenizer", null)))
                        : ModelFiles.findTokenizer(weights);
                Map<String, Object> meta = tok.map(io.quantgate.runtime.gguf.GgufVocabulary::metadata).orElse(Map.of());
                if (tok.isEmpty()) {
                    err.println("note: no tokenizer found for " + weights.source() + "; the GGUF file carries no "
                            + "vocabulary (pass --tokenizer to add one)");
                }
                Map<String, String> types = GgufExport.write(q, target, meta);
                Map<String, Long> count = new java.util.TreeMap<>();
                types.values().forEach(t -> count.merge(t, 1L, Long::sum));
                err.println("tensor types: " + count);
            } else {
                Path dir = name.endsWith(".safetensors") ? target.getParent() : target;
                HuggingFaceWriter.write(q, dir, a.get("--dtype", "F32"), Map.of("quantgate.config", config,
                        "quantgate.source", weights.source().toString()));
                target = dir;
            }
        }
        err.printf(Locale.ROOT, "wrote %s (%s) in %.1f s%n", target, config, (System.nanoTime() - t0) / 1e9);
        return 0;
    }
}
