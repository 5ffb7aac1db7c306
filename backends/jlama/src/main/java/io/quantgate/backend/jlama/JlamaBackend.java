package io.quantgate.backend.jlama;

import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.backend.Backend;
import io.quantgate.backend.BackendModel;
import io.quantgate.backend.BackendOptions;
import io.quantgate.backend.EngineFiles;
import io.quantgate.backend.RunPlan;
import io.quantgate.runtime.model.LlamaConfig;
import io.quantgate.runtime.model.ModelWeights;

import java.util.Optional;

/**
 * {@code jlama}: jlama 0.8.4 (com.github.tjake:jlama-core + jlama-native linux-x86_64) on the Hugging Face
 * safetensors QuantGate writes ({@link EngineFiles#safetensors}): {@code fp32}/{@code fp16}/{@code bf16} as
 * F32/F16/BF16, exact, with jlama's working dtype F32 (no activation quantization). Quantized ids cannot run: jlama
 * quantizes safetensors itself into its own Q4/Q8 blocks, a different format. The JVM needs
 * {@code --add-modules jdk.incubator.vector --enable-preview} (jlama is built for Java 21 with preview FFM).
 */
public final class JlamaBackend implements Backend {
    public static final String NAME = "jlama";
    /** jlama's SIMD operations check that the reduced dimension is a multiple of the float vector width. */
    static final int LANES = 16;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "jlama 0.8.4" + (unavailableReason().isEmpty() ? " (" + JlamaModelHandle.operations() + ")" : "");
    }

    @Override
    public Optional<String> unavailableReason() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return Optional.of("jlama needs the Vector API: run the JVM with --add-modules jdk.incubator.vector "
                    + "--enable-preview");
        }
        return JlamaModelHandle.load();
    }

    @Override
    public RunPlan plan(ModelWeights weights, QuantizationConfig config) {
        String configId = config.label();
        Optional<String> dtype = EngineFiles.safetensorsDtype(config);
        if (dtype.isEmpty()) {
            return RunPlan.cannotRun(NAME, configId, "jlama reads F32/F16/BF16 safetensors and quantizes them itself "
                    + "into its own Q4/Q8 blocks (float scales), not " + configId + "'s codes");
        }
        LlamaConfig c = weights.config();
        if (!weights.architecture().equals("llama") && !weights.fileFormat().equals("llama2c")
                && !weights.architecture().equals("mistral")) {
            return RunPlan.cannotRun(NAME, configId, "this backend loads Llama/Mistral layouts into jlama only");
        }
        if (c.attentionBias() || c.qkNorm()) {
            return RunPlan.cannotRun(NAME, configId, "attention biases / q-k norms are not mapped to jlama here");
        }
        for (int[] d : new int[][] {{c.dim(), 'd'}, {c.hiddenDim(), 'h'}, {c.headSize(), 's'}}) {
            if (d[0] % LANES != 0) {
                return RunPlan.cannotRun(NAME, configId, "jlama's vector operations need every reduced dimension to be a "
                        + "multiple of " + LANES + " here, and " + (d[1] == 'd' ? "dim" : d[1] == 'h' ? "hidden" : "head size")
                        + " is " + d[0]);
            }
        }
        return RunPlan.runs(NAME, configId, "jlama 0.8.4 on safetensors " + dtype.get() + " from " + configId
                + " (exact values), working dtype F32, " + (Boolean.getBoolean("quantgate.jlama.nativeOps")
                ? "native SIMD operations (known wrong on JDK 25)" : "Panama (Vector API) operations"), null);
    }

    @Override
    public BackendModel open(ModelWeights weights, QuantizationConfig config, BackendOptions options) {
        String configId = config.label();
        RunPlan plan = plan(weights, config).requireRunnable();
        unavailableReason().ifPresent(r -> {
            throw new IllegalStateException("backend jlama is unavailable: " + r);
        });
        return new JlamaModelHandle(plan, EngineFiles.safetensors(weights, config, options), weights.config(),
                // jlama's RoPE table overflows at the model's last position (an off-by-one inside jlama 0.8.4)
                Math.min(options.contextLength(), weights.config().seqLen() - 1));
    }
}
