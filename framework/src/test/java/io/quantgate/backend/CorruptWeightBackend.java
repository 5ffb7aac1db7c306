package io.quantgate.backend;

import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.runtime.model.LlamaConfig;
import io.quantgate.runtime.model.ModelWeights;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * A test engine that is QuantGate's native engine with one weight corrupted (element 0 of {@code layers.0.attn.o}
 * set to {@value #VALUE}, as a flipped exponent bit would): everything else identical, so only a cross-engine quality
 * check can tell it from {@code native}. Registered for the framework's tests only.
 */
public final class CorruptWeightBackend implements Backend {
    public static final String NAME = "corrupt-native";
    static final String TENSOR = "layers.0.attn.o";
    static final float VALUE = 16f;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "native with " + TENSOR + "[0] = " + VALUE + " (a test engine)";
    }

    @Override
    public Optional<String> unavailableReason() {
        return Optional.empty();
    }

    @Override
    public RunPlan plan(ModelWeights weights, QuantizationConfig config) {
        RunPlan p = new NativeBackend().plan(weights, config);
        return p.runnable() ? RunPlan.runs(NAME, p.config(), p.runs() + " with " + TENSOR + "[0] = " + VALUE, null) : p;
    }

    @Override
    public BackendModel open(ModelWeights weights, QuantizationConfig config, BackendOptions options) {
        BackendModel m = new NativeBackend().open(new Corrupted(weights), config, options);
        RunPlan p = plan(weights, config);
        return new BackendModel() {
            public RunPlan plan() { return p; }
            public int contextLength() { return m.contextLength(); }
            public int vocabSize() { return m.vocabSize(); }
            public Optional<io.quantgate.evaluation.LogitsModel> logits() { return m.logits(); }
            public void reset() { m.reset(); }
            public void prefill(int[] prompt) { m.prefill(prompt); }
            public void decode(int[] tokens) { m.decode(tokens); }
            public void close() { m.close(); }
        };
    }

    private record Corrupted(ModelWeights w) implements ModelWeights {
        public Path source() { return w.source(); }
        public String fileFormat() { return w.fileFormat(); }
        public String architecture() { return w.architecture(); }
        public LlamaConfig config() { return w.config(); }
        public Map<String, int[]> shapes() { return w.shapes(); }
        public String storedType(String name) { return w.storedType(name); }
        public void close() { }

        public float[] floats(String name) {
            float[] f = w.floats(name);
            if (name.equals(TENSOR)) {
                f[0] = VALUE;
            }
            return f;
        }
    }
}
