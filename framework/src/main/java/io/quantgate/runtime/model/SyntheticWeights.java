package io.quantgate.runtime.model;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Seeded random weights at a real model's shape, for throughput work where no trained file of that size
 * is at hand. Every tensor is generated on demand from {@code seed} and its name, so the same spec always
 * gives the same weights without holding them: matrices uniform in ±√3·σ (σ = 0.02, the usual init
 * scale) and norm weights 1. The outputs of such a model are meaningless; its speed is not.
 *
 * <p>Specs: {@code synthetic:llama-1b} (dim 2048, 16 layers, 32/8 heads, hidden 5632, vocab 32000),
 * {@code synthetic:llama-7b}, {@code synthetic:llama3-8b}, {@code synthetic:tiny}, or explicit
 * {@code synthetic:dim=2048,layers=16,heads=32,kv=8,hidden=5632,vocab=32000,ctx=2048,seed=1}.
 */
public final class SyntheticWeights implements ModelWeights {
    private static final float SIGMA = 0.02f;

    private final String spec;
    private final LlamaConfig config;
    private final long seed;
    private final Map<String, int[]> shapes;

    private SyntheticWeights(String spec, LlamaConfig config, long seed) {
        this.spec = spec;
        this.config = config;
        this.seed = seed;
        Map<String, int[]> m = new LinkedHashMap<>();
        int dim = config.dim(), kv = config.kvDim(), hidden = config.hiddenDim();
        m.put(TensorNames.EMBED, new int[] {config.vocabSize(), dim});
        for (int l = 0; l < config.nLayers(); l++) {
            m.put(TensorNames.layer(l, TensorNames.ATTN_NORM), new int[] {dim});
            m.put(TensorNames.layer(l, TensorNames.Q), new int[] {config.qDim(), dim});
            m.put(TensorNames.layer(l, TensorNames.K), new int[] {kv, dim});
            m.put(TensorNames.layer(l, TensorNames.V), new int[] {kv, dim});
            m.put(TensorNames.layer(l, TensorNames.O), new int[] {dim, config.qDim()});
            m.put(TensorNames.layer(l, TensorNames.MLP_NORM), new int[] {dim});
            m.put(TensorNames.layer(l, TensorNames.GATE), new int[] {hidden, dim});
            m.put(TensorNames.layer(l, TensorNames.UP), new int[] {hidden, dim});
            m.put(TensorNames.layer(l, TensorNames.DOWN), new int[] {dim, hidden});
        }
        m.put(TensorNames.NORM, new int[] {dim});
        if (!config.sharedClassifier()) {
            m.put(TensorNames.LM_HEAD, new int[] {config.vocabSize(), dim});
        }
        this.shapes = Collections.unmodifiableMap(m);
    }

    /** Whether {@code model} names synthetic weights rather than a file. */
    public static boolean isSpec(String model) {
        return model.startsWith("synthetic:");
    }

    /**
     * @throws IllegalArgumentException naming the bad part of the spec
     */
    public static SyntheticWeights of(String spec) {
        if (!isSpec(spec)) {
            throw new IllegalArgumentException("'" + spec + "' is not a synthetic model spec (synthetic:<preset> or "
                    + "synthetic:dim=..,layers=..,heads=..,kv=..,hidden=..,vocab=..)");
        }
        String body = spec.substring("synthetic:".length()).trim();
        Map<String, Long> v = new LinkedHashMap<>();
        switch (body) {
            case "tiny" -> v.putAll(Map.of("dim", 256L, "layers", 2L, "heads", 8L, "kv", 4L, "hidden", 688L,
                    "vocab", 1000L, "ctx", 512L));
            case "llama-1b" -> v.putAll(Map.of("dim", 2048L, "layers", 16L, "heads", 32L, "kv", 8L, "hidden", 5632L,
                    "vocab", 32000L, "ctx", 2048L));
            case "llama-7b" -> v.putAll(Map.of("dim", 4096L, "layers", 32L, "heads", 32L, "kv", 32L, "hidden", 11008L,
                    "vocab", 32000L, "ctx", 2048L));
            case "llama3-8b" -> v.putAll(Map.of("dim", 4096L, "layers", 32L, "heads", 32L, "kv", 8L, "hidden", 14336L,
                    "vocab", 128256L, "ctx", 2048L));
            default -> {
                for (String part : body.split(",")) {
                    String[] kv = part.split("=", 2);
                    if (kv.length != 2 || kv[0].isBlank()) {
                        throw new IllegalArgumentException("bad part '" + part + "' in '" + spec + "': expected key=value");
                    }
                    String key = kv[0].trim().toLowerCase(Locale.ROOT);
                    if (!java.util.Set.of("dim", "layers", "heads", "kv", "hidden", "vocab", "ctx", "seed", "headsize")
                            .contains(key)) {
                        throw new IllegalArgumentException("unknown key '" + kv[0] + "' in '" + spec
                                + "' (known: dim, layers, heads, kv, hidden, vocab, ctx, headsize, seed; presets: tiny, "
                                + "llama-1b, llama-7b, llama3-8b)");
                    }
                    try {
                        v.put(key, Long.parseLong(kv[1].trim()));
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("'" + part + "' in '" + spec + "' is not an integer", e);
                    }
                }
            }
        }
        for (String need : new String[] {"dim", "layers", "heads", "hidden", "vocab"}) {
            if (!v.containsKey(need)) {
                throw new IllegalArgumentException("'" + spec + "' lacks " + need + "=");
            }
        }
        int dim = toInt(v, "dim", spec), heads = toInt(v, "heads", spec);
        int kv = v.containsKey("kv") ? toInt(v, "kv", spec) : heads;
        if (dim % heads != 0 && !v.containsKey("headsize")) {
            throw new IllegalArgumentException("'" + spec + "': dim " + dim + " is not a multiple of heads " + heads);
        }
        int headSize = v.containsKey("headsize") ? toInt(v, "headsize", spec) : dim / heads;
        int ctx = v.containsKey("ctx") ? toInt(v, "ctx", spec) : 2048;
        LlamaConfig c = new LlamaConfig(dim, toInt(v, "hidden", spec), toInt(v, "layers", spec), heads, kv, headSize,
                toInt(v, "vocab", spec), ctx, LlamaConfig.DEFAULT_ROPE_THETA, LlamaConfig.RopeScaling.NONE,
                LlamaConfig.DEFAULT_NORM_EPS, false, LlamaConfig.RopeStyle.INTERLEAVED, false, false);
        return new SyntheticWeights(spec, c, v.getOrDefault("seed", 1L));
    }

    private static int toInt(Map<String, Long> v, String key, String spec) {
        long x = v.get(key);
        if (x <= 0 || x > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("'" + spec + "': " + key + "=" + x + " must be a positive int");
        }
        return (int) x;
    }

    @Override
    public Path source() {
        return Path.of(spec.replace(':', '_'));
    }

    @Override
    public String fileFormat() {
        return "synthetic";
    }

    @Override
    public String architecture() {
        return "llama";
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
        int[] shape = shapes.get(name);
        if (shape == null) {
            throw new IllegalArgumentException(spec + " has no tensor '" + name + "'");
        }
        long n = shape.length == 1 ? shape[0] : (long) shape[0] * shape[1];
        float[] out = new float[Math.toIntExact(n)];
        if (shape.length == 1) {
            java.util.Arrays.fill(out, 1f);
            return out;
        }
        SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L ^ name.hashCode());
        float a = (float) (Math.sqrt(3) * SIGMA);
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) ((r.nextDouble() * 2 - 1) * a);
        }
        return out;
    }

    @Override
    public String storedType(String name) {
        if (!shapes.containsKey(name)) {
            throw new IllegalArgumentException(spec + " has no tensor '" + name + "'");
        }
        return "F32";
    }

    @Override
    public void close() {
    }

    @Override
    public String toString() {
        return spec + " " + config;
    }
}
