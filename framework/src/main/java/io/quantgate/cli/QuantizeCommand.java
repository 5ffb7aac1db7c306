package io.quantgate.cli;

import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.runtime.ModelFiles;
import io.quantgate.runtime.gguf.GgufExport;
import io.quantgate.runtime.gguf.GgufVocabulary;
import io.quantgate.runtime.model.ModelWeights;
import io.quantgate.runtime.model.QuantizedWeights;
import io.quantgate.runtime.safetensors.HuggingFaceWriter;
import io.quantgate.runtime.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Callable;

/**
 * {@code quantgate quantize}: writes a model under a config id so other engines run the very same weights. GGUF keeps
 * int8-g32 and int4s-g32 as Q8_0 / Q4_0 blocks with QuantGate's own codes and scales (the same dequantized values);
 * every other config is written as its dequantized values (exact in F32).
 */
@Command(name = "quantize", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Write a model under a config id as GGUF or safetensors.")
final class QuantizeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "PATH|synthetic:SPEC", description = "the model")
    String model;

    @Option(names = "--config", required = true, paramLabel = "ID", converter = Converters.Config.class,
            description = "SPEC §2 config id or mixed: rules")
    QuantizationConfig config;

    @Option(names = "--out", required = true, paramLabel = "FILE.gguf|DIR|FILE.safetensors",
            description = "a .gguf file, or a directory (Hugging Face config.json + model.safetensors); GGUF stores "
                    + "fp16 as F16, int8-g32 as Q8_0, int4s-g32 as Q4_0 (QuantGate's own codes and scales), "
                    + "everything else as its dequantized values in F32")
    Path out;

    @Option(names = "--dtype", paramLabel = "T", defaultValue = "F32",
            description = "safetensors dtype of every tensor: F32 (default, exact), F16 or BF16")
    String dtype;

    @Option(names = "--tokenizer", paramLabel = "PATH",
            description = "vocabulary to store in a GGUF file (default: the model's own, when found)")
    Path tokenizer;

    @picocli.CommandLine.Mixin
    CalibrationMixin calibration;

    @Override
    public Integer call() {
        Path target = out.toAbsolutePath();
        String name = target.getFileName().toString().toLowerCase(Locale.ROOT);
        long t0 = System.nanoTime();
        PrintWriter err = spec.commandLine().getErr();
        try (ModelWeights opened = ModelFiles.open(model)) {
            String why = io.quantgate.runtime.model.CalibratedWeights.notExportable(config).orElse(null);
            if (why != null) {
                throw new IllegalArgumentException("cannot write " + out + ": " + why);
            }
            ModelWeights weights = Calibrations.open(opened, calibration.file == null ? null
                    : calibrationTokenizer(opened), calibration.file, calibration.options(512), null, err, config);
            QuantizedWeights q = new QuantizedWeights(weights, config);
            if (name.endsWith(".gguf")) {
                // the file carries its vocabulary (llama.cpp needs one), when the model has a tokenizer
                Optional<Tokenizer> tok = tokenizer != null
                        ? Optional.of(ModelFiles.tokenizer(weights, tokenizer.toString()))
                        : ModelFiles.findTokenizer(weights);
                Map<String, Object> meta = tok.map(GgufVocabulary::metadata).orElse(Map.of());
                if (tok.isEmpty()) {
                    err.println("note: no tokenizer found for " + weights.source() + "; the GGUF file carries no "
                            + "vocabulary (pass --tokenizer to add one)");
                }
                Map<String, String> types = GgufExport.write(q, target, meta);
                Map<String, Long> count = new TreeMap<>();
                types.values().forEach(t -> count.merge(t, 1L, Long::sum));
                err.println("tensor types: " + count);
            } else {
                Path dir = name.endsWith(".safetensors") ? target.getParent() : target;
                HuggingFaceWriter.write(q, dir, dtype, Map.of("quantgate.config", config.label(),
                        "quantgate.source", weights.source().toString()));
                target = dir;
            }
        }
        err.printf(Locale.ROOT, "wrote %s (%s) in %.1f s%n", target, config.label(), (System.nanoTime() - t0) / 1e9);
        err.flush();
        return 0;
    }

    private Tokenizer calibrationTokenizer(ModelWeights w) {
        return tokenizer != null ? ModelFiles.tokenizer(w, tokenizer.toString()) : ModelFiles.findTokenizer(w)
                .orElseThrow(() -> new IllegalArgumentException("--calibration needs the model's tokenizer: "
                        + ModelFiles.noTokenizer(w) + "; pass --tokenizer"));
    }
}
