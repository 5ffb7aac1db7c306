package io.quantgate.backend.javavector;

import io.quantgate.backend.Backend;
import io.quantgate.backend.BackendModel;
import io.quantgate.backend.BackendOptions;
import io.quantgate.backend.Prompts;
import io.quantgate.backend.RunPlan;
import io.quantgate.evaluation.LogitsModel;
import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.kernels.format.WeightFormat;
import io.quantgate.runtime.model.ModelWeights;
import io.quantgate.runtime.model.QuantizedWeights;

import java.util.Optional;
import java.util.Set;

/**
 * {@code java}: {@link JavaVectorModel}, a pure-JVM forward pass with the incubating Vector API on QuantGate's own
 * codes (fp32, fp16, int8, int4, int4s at any group size; exact). The JVM must run with
 * {@code --add-modules jdk.incubator.vector}; without it this backend says it is unavailable.
 */
public final class JavaVectorBackend implements Backend {
    public static final String NAME = "java";
    private static final Set<WeightFormat> FORMATS = Set.of(WeightFormat.FP32, WeightFormat.FP16, WeightFormat.INT8,
            WeightFormat.INT4, WeightFormat.INT4S);

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "pure JVM, Vector API (" + (unavailableReason().isEmpty() ? VectorLinear.F : "not loaded") + ")";
    }

    @Override
    public Optional<String> unavailableReason() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return Optional.of("the JVM runs without the Vector API: add --add-modules jdk.incubator.vector");
        }
        return Optional.empty();
    }

    @Override
    public RunPlan plan(ModelWeights weights, QuantizationConfig config) {
        String configId = config.label();
        QuantizationConfig quant = config;
        Optional<String> blocked = io.quantgate.runtime.model.CalibratedWeights.missingCalibration(weights, quant)
                .or(() -> io.quantgate.runtime.model.CalibratedWeights.notExportable(quant));
        if (blocked.isPresent()) {
            return RunPlan.cannotRun(NAME, configId, blocked.get());
        }
        if (weights.config().attentionBias() || weights.config().qkNorm()) {
            return RunPlan.cannotRun(NAME, configId, "the java backend implements the Llama/Mistral layout only "
                    + "(no attention biases, no q/k norms)");
        }
        QuantizedWeights q = new QuantizedWeights(weights, quant);
        for (String name : q.shapes().keySet()) {
            Optional<ConfigId> id = q.idFor(name);
            if (id.isPresent() && !FORMATS.contains(id.get().format())) {
                return RunPlan.cannotRun(NAME, configId, "the java backend has no kernel for " + id.get().format()
                        .name().toLowerCase(java.util.Locale.ROOT) + " (it runs fp32, fp16, int8, int4, int4s)");
            }
        }
        return RunPlan.runs(NAME, configId, "pure JVM Vector API on QuantGate's " + configId
                + " codes (exact), fp32 activations", null);
    }

    @Override
    public BackendModel open(ModelWeights weights, QuantizationConfig config, BackendOptions options) {
        RunPlan plan = plan(weights, config).requireRunnable();
        unavailableReason().ifPresent(r -> {
            throw new IllegalStateException("backend java is unavailable: " + r);
        });
        JavaVectorModel m = new JavaVectorModel(weights, config,
                Math.min(options.contextLength(), weights.config().seqLen()), options.threads());
        return new BackendModel() {
            private final LogitsModel logits = new LogitsModel() {
                @Override
                public float[][] logits(int[] tokens) {
                    return logits(tokens, 0);
                }

                @Override
                public float[][] logits(int[] tokens, int firstRow) {
                    Prompts.check(tokens, m.contextLength(), vocabSize(), "logits");
                    return m.forward(tokens, 0, firstRow);
                }

                @Override
                public int vocabSize() {
                    return m.config().vocabSize();
                }
            };

            public RunPlan plan() {
                return plan;
            }

            public int contextLength() {
                return m.contextLength();
            }

            public int vocabSize() {
                return m.config().vocabSize();
            }

            public Optional<LogitsModel> logits() {
                return Optional.of(logits);
            }

            public void reset() {
                // positions restart at 0 and overwrite the cache; attention reads only positions written since
            }

            public void prefill(int[] prompt) {
                Prompts.check(prompt, contextLength(), vocabSize(), "prefill");
                m.forward(prompt, 0, prompt.length - 1);
            }

            public void decode(int[] tokens) {
                Prompts.check(tokens, contextLength(), vocabSize(), "decode");
                for (int p = 0; p < tokens.length; p++) {
                    m.forward(new int[] {tokens[p]}, p, 0);
                }
            }

            public void close() {
                m.close();
            }
        };
    }
}
