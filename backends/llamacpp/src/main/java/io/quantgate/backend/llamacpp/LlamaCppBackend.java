package io.quantgate.backend.llamacpp;

import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.backend.Backend;
import io.quantgate.backend.BackendModel;
import io.quantgate.backend.BackendOptions;
import io.quantgate.backend.EngineFiles;
import io.quantgate.backend.RunPlan;
import io.quantgate.runtime.ModelFiles;
import io.quantgate.runtime.model.ModelWeights;

import java.nio.file.Path;
import java.util.Optional;

/**
 * {@code llamacpp}: llama.cpp through its C API ({@link LlamaCppLibrary}: a current release's shared libraries, with the
 * CPU variant ggml picks for this machine) on a GGUF file QuantGate writes from the same weights: {@code fp32} → F32,
 * {@code fp16} → F16, {@code int8-g32} → Q8_0, {@code int4s-g32} → Q4_0, bit-exact ({@link EngineFiles}). Every other
 * id cannot run here. Gives logits for every position, so perplexity and KLD come from llama.cpp itself.
 */
public final class LlamaCppBackend implements Backend {
    public static final String NAME = "llamacpp";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return LlamaCppLibrary.unavailableReason().isPresent() ? "llama.cpp (C API; not installed here)"
                : LlamaCppLibrary.get().engineLine(Runtime.getRuntime().availableProcessors());
    }

    @Override
    public Optional<String> unavailableReason() {
        return LlamaCppLibrary.unavailableReason();
    }

    /**
     * What llama.cpp's CPU dot products take for the GGUF type of this config: it converts activations itself, to
     * the type each weight type pairs with (Q8_0 for Q4_0 and Q8_0 weights, F16 for F16), whatever QuantGate's
     * activation mode says.
     */
    static String activations(QuantizationConfig config) {
        String id = config.label();
        if (id.equals("fp32")) {
            return "fp32 activations";
        }
        if (id.equals("fp16")) {
            return "activations converted to F16 by llama.cpp";
        }
        return "activations quantized to Q8_0 (int8, blocks of 32) by llama.cpp";
    }

    @Override
    public RunPlan plan(ModelWeights weights, QuantizationConfig config) {
        String configId = config.label();
        Optional<String> why = EngineFiles.ggufCannotHold(weights, config);
        if (why.isPresent()) {
            return RunPlan.cannotRun(NAME, configId, why.get());
        }
        return RunPlan.runs(NAME, configId, "llama.cpp " + EngineFiles.ggufDescription(weights, config) + ", "
                + activations(config), null);
    }

    @Override
    public BackendModel open(ModelWeights weights, QuantizationConfig config, BackendOptions options) {
        RunPlan plan = plan(weights, config).requireRunnable();
        LlamaCppLibrary.unavailableReason().ifPresent(r -> {
            throw new IllegalStateException("backend llamacpp is unavailable: " + r);
        });
        if (options.property(EngineFiles.TOKENIZER, null) == null && ModelFiles.findTokenizer(weights).isEmpty()) {
            throw new IllegalArgumentException("llama.cpp needs a vocabulary in the GGUF file and " + weights.source()
                    + " has no tokenizer of its own: name one (option '" + EngineFiles.TOKENIZER + "', CLI --tokenizer)");
        }
        LlamaCppLibrary lib = LlamaCppLibrary.get();
        int threads = options.threads() > 0 ? options.threads() : Runtime.getRuntime().availableProcessors();
        Path gguf = EngineFiles.gguf(weights, config, options);
        RunPlan ran = RunPlan.runs(NAME, plan.config(), plan.runs() + " (" + gguf + "); " + lib.engineLine(threads),
                null);
        return new LlamaCppModel(lib, ran, gguf, weights.config().vocabSize(),
                Math.min(options.contextLength(), weights.config().seqLen()), threads);
    }
}
