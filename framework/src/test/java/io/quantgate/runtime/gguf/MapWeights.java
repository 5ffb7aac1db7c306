package io.quantgate.runtime.gguf;

import io.quantgate.runtime.model.LlamaConfig;
import io.quantgate.runtime.model.ModelWeights;
import io.quantgate.runtime.model.TensorNames;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/** In-memory weights for writer tests: every tensor a llama-family config needs, filled with seeded noise. */
final class MapWeights implements ModelWeights {
    private final String arch;
    private final LlamaConfig config;
    private final Map<String, int[]> shapes = new LinkedHashMap<>();
    private final Map<String, float[]> values = new LinkedHashMap<>();

    MapWeights(String arch, LlamaConfig c, long seed) {
        this.arch = arch;
        this.config = c;
        SplittableRandom rnd = new SplittableRandom(seed);
        put(TensorNames.EMBED, rnd, 0.5f, c.vocabSize(), c.dim());
        for (int l = 0; l < c.nLayers(); l++) {
            norm(TensorNames.layer(l, TensorNames.ATTN_NORM), rnd, c.dim());
            put(TensorNames.layer(l, TensorNames.Q), rnd, 0.2f, c.qDim(), c.dim());
            put(TensorNames.layer(l, TensorNames.K), rnd, 0.2f, c.kvDim(), c.dim());
            put(TensorNames.layer(l, TensorNames.V), rnd, 0.2f, c.kvDim(), c.dim());
            if (c.attentionBias()) {
                put(TensorNames.layer(l, TensorNames.Q_BIAS), rnd, 0.1f, c.qDim());
                put(TensorNames.layer(l, TensorNames.K_BIAS), rnd, 0.1f, c.kvDim());
                put(TensorNames.layer(l, TensorNames.V_BIAS), rnd, 0.1f, c.kvDim());
            }
            if (c.qkNorm()) {
                norm(TensorNames.layer(l, TensorNames.Q_NORM), rnd, c.headSize());
                norm(TensorNames.layer(l, TensorNames.K_NORM), rnd, c.headSize());
            }
            put(TensorNames.layer(l, TensorNames.O), rnd, 0.2f, c.dim(), c.qDim());
            norm(TensorNames.layer(l, TensorNames.MLP_NORM), rnd, c.dim());
            put(TensorNames.layer(l, TensorNames.GATE), rnd, 0.2f, c.hiddenDim(), c.dim());
            put(TensorNames.layer(l, TensorNames.UP), rnd, 0.2f, c.hiddenDim(), c.dim());
            put(TensorNames.layer(l, TensorNames.DOWN), rnd, 0.2f, c.dim(), c.hiddenDim());
        }
        norm(TensorNames.NORM, rnd, c.dim());
        if (!c.sharedClassifier()) {
            put(TensorNames.LM_HEAD, rnd, 0.3f, c.vocabSize(), c.dim());
        }
    }

    private void put(String name, SplittableRandom rnd, float scale, int... shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (rnd.nextGaussian() * scale);
        }
        shapes.put(name, shape);
        values.put(name, v);
    }

    private void norm(String name, SplittableRandom rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (1 + rnd.nextGaussian() * 0.1);
        }
        shapes.put(name, new int[] {n});
        values.put(name, v);
    }

    @Override
    public Path source() {
        return Path.of("synthetic:" + arch);
    }

    @Override
    public String fileFormat() {
        return "synthetic";
    }

    @Override
    public String architecture() {
        return arch;
    }

    @Override
    public LlamaConfig config() {
        return config;
    }

    @Override
    public Map<String, int[]> shapes() {
        return shapes;
    }

    @Override
    public float[] floats(String name) {
        float[] v = values.get(name);
        if (v == null) {
            throw new IllegalArgumentException("no tensor " + name);
        }
        return v.clone();
    }

    @Override
    public String storedType(String name) {
        return "F32";
    }

    @Override
    public void close() {
    }
}
