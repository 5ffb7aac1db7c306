package io.quantgate.runtime.safetensors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A tiny Hugging Face model built in a test: random weights under HF names in HF's own layout (q/k rows
 * as transformers stores them), a hand-made config.json, and an fp64 forward pass written from the
 * transformers modelling code's definition (RMSNorm, optional q/k biases, per-head q/k RMSNorm, rotate_half
 * RoPE, grouped-query attention, SwiGLU), independent of QuantGate's runtime.
 */
final class TinyHfModel {
    final String modelType;
    final int hidden, inter, layers, heads, kvHeads, headDim, vocab, maxPos;
    final double theta, eps, linearFactor;
    final boolean tie, bias, qkNorm;
    final Map<String, float[]> tensors = new LinkedHashMap<>();
    final Map<String, int[]> shapes = new LinkedHashMap<>();
    final ObjectNode config;

    /**
     * @param headDim      0 to leave head_dim out of config.json (then hidden/heads)
     * @param linearFactor 0 for no rope_scaling, else a linear scaling factor
     */
    TinyHfModel(String modelType, int hidden, int inter, int layers, int heads, int kvHeads, int headDim, int vocab,
                int maxPos, double theta, double eps, double linearFactor, boolean tie, boolean bias, boolean qkNorm,
                long seed) {
        this.modelType = modelType;
        this.hidden = hidden;
        this.inter = inter;
        this.layers = layers;
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headDim = headDim == 0 ? hidden / heads : headDim;
        this.vocab = vocab;
        this.maxPos = maxPos;
        this.theta = theta;
        this.eps = eps;
        this.linearFactor = linearFactor;
        this.tie = tie;
        this.bias = bias;
        this.qkNorm = qkNorm;
        Random r = new Random(seed);
        int qDim = heads * this.headDim, kvDim = kvHeads * this.headDim;
        put(r, "model.embed_tokens.weight", 1.0, 0, vocab, hidden);
        for (int l = 0; l < layers; l++) {
            String p = "model.layers." + l + ".";
            put(r, p + "input_layernorm.weight", 0.2, 1, hidden);
            put(r, p + "self_attn.q_proj.weight", 1 / Math.sqrt(hidden), 0, qDim, hidden);
            put(r, p + "self_attn.k_proj.weight", 1 / Math.sqrt(hidden), 0, kvDim, hidden);
            put(r, p + "self_attn.v_proj.weight", 1 / Math.sqrt(hidden), 0, kvDim, hidden);
            if (bias) {
                put(r, p + "self_attn.q_proj.bias", 0.2, 0, qDim);
                put(r, p + "self_attn.k_proj.bias", 0.2, 0, kvDim);
                put(r, p + "self_attn.v_proj.bias", 0.2, 0, kvDim);
            }
            if (qkNorm) {
                put(r, p + "self_attn.q_norm.weight", 0.2, 1, this.headDim);
                put(r, p + "self_attn.k_norm.weight", 0.2, 1, this.headDim);
            }
            put(r, p + "self_attn.o_proj.weight", 1 / Math.sqrt(qDim), 0, hidden, qDim);
            put(r, p + "post_attention_layernorm.weight", 0.2, 1, hidden);
            put(r, p + "mlp.gate_proj.weight", 1 / Math.sqrt(hidden), 0, inter, hidden);
            put(r, p + "mlp.up_proj.weight", 1 / Math.sqrt(hidden), 0, inter, hidden);
            put(r, p + "mlp.down_proj.weight", 1 / Math.sqrt(inter), 0, hidden, inter);
        }
        put(r, "model.norm.weight", 0.2, 1, hidden);
        if (!tie) {
            put(r, "lm_head.weight", 1 / Math.sqrt(hidden), 0, vocab, hidden);
        }
        ObjectMapper om = new ObjectMapper();
        config = om.createObjectNode();
        config.putArray("architectures").add("Whatever" + "ForCausalLM");
        config.put("model_type", modelType);
        config.put("hidden_size", hidden);
        config.put("intermediate_size", inter);
        config.put("num_hidden_layers", layers);
        config.put("num_attention_heads", heads);
        config.put("num_key_value_heads", kvHeads);
        if (headDim != 0) {
            config.put("head_dim", headDim);
        }
        config.put("vocab_size", vocab);
        config.put("max_position_embeddings", maxPos);
        config.put("rope_theta", theta);
        if (linearFactor != 0) {
            config.putObject("rope_scaling").put("type", "linear").put("factor", linearFactor);
        } else {
            config.putNull("rope_scaling");
        }
        config.put("rms_norm_eps", eps);
        config.put("tie_word_embeddings", tie);
        config.put("hidden_act", "silu");
        config.put("torch_dtype", "float32");
    }

    /** Qwen3-like: GQA, head_dim 16 while hidden/heads is 8, q/k norms, tied embeddings, theta 1e6. */
    static TinyHfModel qwen3(long seed) {
        return new TinyHfModel("qwen3", 32, 48, 2, 4, 2, 16, 40, 64, 1e6, 1e-6, 0, true, false, true, seed);
    }

    /** Qwen2-like: GQA, q/k/v biases, separate classifier, theta 1e6. */
    static TinyHfModel qwen2(long seed) {
        return new TinyHfModel("qwen2", 32, 56, 2, 4, 2, 0, 40, 64, 1e6, 1e-6, 0, false, true, false, seed);
    }

    /** Llama-like: GQA, rows in HF's rotate_half layout, linear RoPE scaling 2, eps 1e-5. */
    static TinyHfModel llama(long seed) {
        return new TinyHfModel("llama", 32, 64, 2, 4, 2, 0, 40, 64, 10000, 1e-5, 2, false, false, false, seed);
    }

    private void put(Random r, String name, double scale, double offset, int... shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (offset + scale * r.nextGaussian());
        }
        tensors.put(name, v);
        shapes.put(name, shape);
    }

    /** Writes config.json and model.safetensors (all F32) into {@code dir}. */
    Path write(Path dir) throws Exception {
        Files.createDirectories(dir);
        SafetensorsBytes b = new SafetensorsBytes();
        tensors.forEach((name, v) -> b.f32(name, shapes.get(name), v));
        Files.write(dir.resolve("model.safetensors"), b.build());
        writeConfig(dir);
        return dir;
    }

    void writeConfig(Path dir) throws Exception {
        Files.write(dir.resolve("config.json"), new ObjectMapper().writerWithDefaultPrettyPrinter()
                .writeValueAsBytes(config));
    }

    /** Writes the tensors split over {@code shards} files plus model.safetensors.index.json. */
    Path writeSharded(Path dir, int shards) throws Exception {
        Files.createDirectories(dir);
        List<String> names = new ArrayList<>(tensors.keySet());
        ObjectMapper om = new ObjectMapper();
        ObjectNode index = om.createObjectNode();
        index.putObject("metadata").put("total_size", 0);
        ObjectNode map = index.putObject("weight_map");
        for (int s = 0; s < shards; s++) {
            String file = String.format("model-%05d-of-%05d.safetensors", s + 1, shards);
            SafetensorsBytes b = new SafetensorsBytes();
            for (int i = s; i < names.size(); i += shards) {
                b.f32(names.get(i), shapes.get(names.get(i)), tensors.get(names.get(i)));
                map.put(names.get(i), file);
            }
            Files.write(dir.resolve(file), b.build());
        }
        Files.write(dir.resolve("model.safetensors.index.json"), om.writeValueAsBytes(index));
        writeConfig(dir);
        return dir;
    }

    // ---------------------------------------------------------------- the fp64 reference forward pass

    /** Logits of every position of {@code tokens}, computed in double precision. */
    double[][] referenceLogits(int[] tokens) {
        int qDim = heads * headDim, kvDim = kvHeads * headDim, group = heads / kvHeads, half = headDim / 2;
        double[][][] keys = new double[layers][tokens.length][];
        double[][][] values = new double[layers][tokens.length][];
        double[][] out = new double[tokens.length][];
        for (int pos = 0; pos < tokens.length; pos++) {
            double[] x = row(t("model.embed_tokens.weight"), tokens[pos], hidden);
            for (int l = 0; l < layers; l++) {
                String p = "model.layers." + l + ".";
                double[] h = rmsNorm(x, t(p + "input_layernorm.weight"));
                double[] q = matVec(t(p + "self_attn.q_proj.weight"), h, qDim);
                double[] k = matVec(t(p + "self_attn.k_proj.weight"), h, kvDim);
                double[] v = matVec(t(p + "self_attn.v_proj.weight"), h, kvDim);
                if (bias) {
                    addTo(q, t(p + "self_attn.q_proj.bias"));
                    addTo(k, t(p + "self_attn.k_proj.bias"));
                    addTo(v, t(p + "self_attn.v_proj.bias"));
                }
                for (int hd = 0; hd < heads; hd++) {
                    if (qkNorm) {
                        normHead(q, hd, t(p + "self_attn.q_norm.weight"));
                    }
                    rotateHalf(q, hd * headDim, pos, half);
                }
                for (int g = 0; g < kvHeads; g++) {
                    if (qkNorm) {
                        normHead(k, g, t(p + "self_attn.k_norm.weight"));
                    }
                    rotateHalf(k, g * headDim, pos, half);
                }
                keys[l][pos] = k;
                values[l][pos] = v;
                double[] attn = new double[qDim];
                for (int hd = 0; hd < heads; hd++) {
                    int g = hd / group;
                    double[] s = new double[pos + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j <= pos; j++) {
                        double dot = 0;
                        for (int i = 0; i < headDim; i++) {
                            dot += q[hd * headDim + i] * keys[l][j][g * headDim + i];
                        }
                        s[j] = dot / Math.sqrt(headDim);
                        max = Math.max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j <= pos; j++) {
                        s[j] = Math.exp(s[j] - max);
                        sum += s[j];
                    }
                    for (int j = 0; j <= pos; j++) {
                        for (int i = 0; i < headDim; i++) {
                            attn[hd * headDim + i] += s[j] / sum * values[l][j][g * headDim + i];
                        }
                    }
                }
                addTo(x, matVec(t(p + "self_attn.o_proj.weight"), attn, hidden));
                double[] m = rmsNorm(x, t(p + "post_attention_layernorm.weight"));
                double[] gate = matVec(t(p + "mlp.gate_proj.weight"), m, inter);
                double[] up = matVec(t(p + "mlp.up_proj.weight"), m, inter);
                for (int i = 0; i < inter; i++) {
                    gate[i] = gate[i] / (1 + Math.exp(-gate[i])) * up[i];
                }
                addTo(x, matVec(t(p + "mlp.down_proj.weight"), gate, hidden));
            }
            double[] f = rmsNorm(x, t("model.norm.weight"));
            out[pos] = matVec(t(tie ? "model.embed_tokens.weight" : "lm_head.weight"), f, vocab);
        }
        return out;
    }

    private float[] t(String name) {
        return tensors.get(name);
    }

    /** transformers' rotate_half: pairs (x[i], x[i + half]) turned by pos·θ^(−2i/headDim) (÷ a linear factor). */
    private void rotateHalf(double[] x, int base, int pos, int half) {
        for (int i = 0; i < half; i++) {
            double freq = Math.pow(theta, -2.0 * i / headDim);
            if (linearFactor != 0) {
                freq /= linearFactor;
            }
            double c = Math.cos(pos * freq), s = Math.sin(pos * freq);
            double a = x[base + i], b = x[base + i + half];
            x[base + i] = a * c - b * s;
            x[base + i + half] = b * c + a * s;
        }
    }

    private void normHead(double[] x, int head, float[] w) {
        double[] h = new double[headDim];
        System.arraycopy(x, head * headDim, h, 0, headDim);
        System.arraycopy(rmsNorm(h, w), 0, x, head * headDim, headDim);
    }

    private double[] rmsNorm(double[] x, float[] w) {
        double ss = 0;
        for (double v : x) {
            ss += v * v;
        }
        double inv = 1 / Math.sqrt(ss / x.length + eps);
        double[] o = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            o[i] = w[i] * x[i] * inv;
        }
        return o;
    }

    private static double[] row(float[] m, int r, int cols) {
        double[] o = new double[cols];
        for (int i = 0; i < cols; i++) {
            o[i] = m[r * cols + i];
        }
        return o;
    }

    private static double[] matVec(float[] w, double[] x, int rows) {
        double[] o = new double[rows];
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int c = 0; c < x.length; c++) {
                s += w[r * x.length + c] * x[c];
            }
            o[r] = s;
        }
        return o;
    }

    private static void addTo(double[] acc, float[] d) {
        for (int i = 0; i < acc.length; i++) {
            acc[i] += d[i];
        }
    }

    private static void addTo(double[] acc, double[] d) {
        for (int i = 0; i < acc.length; i++) {
            acc[i] += d[i];
        }
    }
}
