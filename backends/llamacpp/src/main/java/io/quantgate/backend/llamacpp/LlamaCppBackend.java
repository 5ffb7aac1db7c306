package io.quantgate.backend.llamacpp;

import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.backend.Backend;
import io.quantgate.backend.BackendModel;
import io.quantgate.backend.BackendOptions;
import io.quantgate.backend.EngineFiles;
import io.quantgate.backend.RunPlan;
import io.quantgate.runtime.ModelFiles;
import io.quantgate.runtime.model.ModelWeights;

import java.io.PrintStream;
import java.util.Optional;

/**
 * {@code llamacpp}: llama.cpp (the build shipped inside de.kherud:llama 4.2.0, CPU) on a GGUF file QuantGate writes
 * from the same weights: {@code fp32} → F32, {@code fp16} → F16, {@code int8-g32} → Q8_0, {@code int4s-g32} → Q4_0,
 * bit-exact ({@link EngineFiles}). Every other id cannot run here. The binding exposes no prompt logits, and its
 * token probabilities ({@code setNProbs}) abort the JVM in this version, so this backend gives no perplexity and
 * never asks for probabilities.
 */
public final class LlamaCppBackend implements Backend {
    public static final String NAME = "llamacpp";
    static final String ENGINE = "llama.cpp (de.kherud:llama 4.2.0, CPU)";
    static final String NO_LOGITS = "de.kherud:llama 4.2.0 exposes no prompt logits (and its token probabilities "
            + "abort the JVM), so llama.cpp gives no perplexity here";

    private static volatile String loadFailure;
    private static volatile boolean loaded;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return ENGINE;
    }

    /** Loads the binding's native library once (its static initializer extracts and loads libjllama). */
    static synchronized Optional<String> load() {
        if (!loaded && loadFailure == null) {
            PrintStream out = System.out;
            System.setOut(System.err); // the loader prints "Extracted ..." on stdout, which may carry JSON
            try {
                Class.forName("de.kherud.llama.LlamaModel", true, LlamaCppBackend.class.getClassLoader());
                loaded = true;
            } catch (ExceptionInInitializerError e) {
                Throwable c = e.getCause() != null ? e.getCause() : e;
                loadFailure = c.getClass().getSimpleName() + ": " + c.getMessage();
            } catch (LinkageError | ClassNotFoundException e) {
                loadFailure = e.getClass().getSimpleName() + ": " + e.getMessage();
            } finally {
                System.setOut(out);
            }
        }
        return Optional.ofNullable(loadFailure).map(f -> "llama.cpp's native library (libjllama) failed to load: " + f);
    }

    @Override
    public Optional<String> unavailableReason() {
        return load();
    }

    @Override
    public RunPlan plan(ModelWeights weights, QuantizationConfig config) {
        String configId = config.label();
        Optional<String> why = EngineFiles.ggufCannotHold(weights, config);
        if (why.isPresent()) {
            return RunPlan.cannotRun(NAME, configId, why.get());
        }
        return RunPlan.runs(NAME, configId, "llama.cpp " + EngineFiles.ggufDescription(weights, config), NO_LOGITS);
    }

    @Override
    public BackendModel open(ModelWeights weights, QuantizationConfig config, BackendOptions options) {
        String configId = config.label();
        RunPlan plan = plan(weights, config).requireRunnable();
        load().ifPresent(r -> {
            throw new IllegalStateException("backend llamacpp is unavailable: " + r);
        });
        if (options.property(EngineFiles.TOKENIZER, null) == null && ModelFiles.findTokenizer(weights).isEmpty()) {
            throw new IllegalArgumentException("llama.cpp needs a vocabulary in the GGUF file and " + weights.source()
                    + " has no tokenizer of its own: name one (option '" + EngineFiles.TOKENIZER + "', CLI --tokenizer)");
        }
        return new LlamaCppModel(plan, EngineFiles.gguf(weights, config, options), weights.config().vocabSize(),
                Math.min(options.contextLength(), weights.config().seqLen()), options.threads());
    }
}
