package io.quantgate.runtime.gguf;

import io.quantgate.runtime.model.LlamaConfig;
import io.quantgate.runtime.model.LlamaConfig.RopeScaling;
import io.quantgate.runtime.model.LlamaConfig.RopeStyle;
import io.quantgate.runtime.model.TensorNames;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Derives a {@link LlamaConfig} from a GGUF file's {@code general.architecture} and {@code <arch>.*}
 * metadata the way llama.cpp's model loader reads them, and the inverse for {@link GgufWriter}.
 */
final class GgufModelConfig {
    private GgufModelConfig() {
    }

    static final List<String> ARCHITECTURES = List.of("llama", "mistral", "qwen2", "qwen3");
    /** The tensor llama.cpp's converter writes for Llama 3.1+ RoPE scaling: one divisor per rotary pair. */
    static final String ROPE_FREQS = "rope_freqs.weight";
    /** Llama 3.1's original context, assumed when a file with rope_freqs does not state it (only ratios matter). */
    private static final int DEFAULT_LLAMA3_ORIGINAL_CONTEXT = 8192;

    static String architecture(Path file, GgufMetadata m) {
        String arch = m.getString("general.architecture");
        if (!ARCHITECTURES.contains(arch)) {
            throw new IllegalArgumentException("GGUF file " + file + " has architecture '" + arch
                    + "', which QuantGate does not run (supported: " + String.join(", ", ARCHITECTURES) + ")");
        }
        return arch;
    }

    /**
     * llama.cpp's converter permutes Meta-style Llama/Mistral q/k rows into the interleaved-pair RoPE
     * layout (ggml's "normal" rope); Qwen models keep Hugging Face's rotate-half layout (ggml's "neox").
     */
    static RopeStyle ropeStyle(String arch) {
        return switch (arch) {
            case "llama", "mistral" -> RopeStyle.INTERLEAVED;
            case "qwen2", "qwen3" -> RopeStyle.ROTATE_HALF;
            default -> throw new IllegalArgumentException("unsupported architecture '" + arch + "'");
        };
    }

    static LlamaConfig build(GgufFile f) {
        Path file = f.file();
        GgufMetadata m = f.typedMetadata();
        String a = f.architecture() + ".";
        int dim = m.getInt(a + "embedding_length");
        int hidden = m.getInt(a + "feed_forward_length");
        int layers = m.getInt(a + "block_count");
        int heads = m.getInt(a + "attention.head_count");
        int kvHeads = m.getInt(a + "attention.head_count_kv", heads);
        if (heads <= 0) {
            throw new IllegalArgumentException("GGUF file " + file + ": " + a + "attention.head_count is " + heads);
        }
        if (dim % heads != 0 && !m.has(a + "attention.key_length")) {
            throw new IllegalArgumentException("GGUF file " + file + ": " + a + "embedding_length " + dim
                    + " is not a multiple of " + a + "attention.head_count " + heads + " and no key_length is given");
        }
        int headSize = m.getInt(a + "attention.key_length", dim / heads);
        int valueSize = m.getInt(a + "attention.value_length", headSize);
        if (valueSize != headSize) {
            throw new IllegalArgumentException("GGUF file " + file + ": key_length " + headSize + " ≠ value_length "
                    + valueSize + "; QuantGate's attention needs equal key and value head sizes");
        }
        int ropeDims = m.getInt(a + "rope.dimension_count", headSize);
        if (ropeDims != headSize) {
            throw new IllegalArgumentException("GGUF file " + file + ": " + a + "rope.dimension_count " + ropeDims
                    + " ≠ head size " + headSize + "; partial rotary embeddings are not supported");
        }
        int seqLen = m.getInt(a + "context_length");
        float theta = m.getFloat(a + "rope.freq_base", LlamaConfig.DEFAULT_ROPE_THETA);
        float eps = m.getFloat(a + "attention.layer_norm_rms_epsilon");

        Map<String, int[]> shapes = f.shapes();
        int vocab = vocabSize(f, shapes);
        int maxLayer = -1;
        for (String name : shapes.keySet()) {
            int l = layerOf(name);
            if (l >= layers) {
                throw new IllegalArgumentException("GGUF file " + file + " has tensor '" + f.tensor(name).name()
                        + "' but " + a + "block_count is " + layers);
            }
            maxLayer = Math.max(maxLayer, l);
        }
        // a corrupt block_count (2,143,289,344) would size the runtime's per-layer arrays; a file with
        // layer tensors must have them for every block (a vocabulary-only file has none and says nothing)
        if (maxLayer >= 0 && layers > maxLayer + 1) {
            throw new IllegalArgumentException("GGUF file " + file + ": " + a + "block_count is " + layers
                    + " but the file has tensors only for blocks 0.." + maxLayer + " (" + f.tensors().size()
                    + " tensors in all): the header is corrupt or the file incomplete");
        }
        boolean shared = !shapes.containsKey(TensorNames.LM_HEAD);
        boolean bias = shapes.containsKey(TensorNames.layer(0, TensorNames.Q_BIAS));
        boolean qkNorm = shapes.containsKey(TensorNames.layer(0, TensorNames.Q_NORM));
        RopeScaling scaling = ropeScaling(f, a, headSize, theta);
        try {
            return new LlamaConfig(dim, hidden, layers, heads, kvHeads, headSize, vocab, seqLen, theta, scaling, eps,
                    shared, ropeStyle(f.architecture()), bias, qkNorm);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("GGUF file " + file + " describes an impossible model: " + e.getMessage(), e);
        }
    }

    private static int layerOf(String canonical) {
        if (!canonical.startsWith("layers.")) {
            return -1;
        }
        return Integer.parseInt(canonical.substring(7, canonical.indexOf('.', 7)));
    }

    /** The embedding's rows (what the weights need); else the vocabulary's length. */
    private static int vocabSize(GgufFile f, Map<String, int[]> shapes) {
        GgufMetadata m = f.typedMetadata();
        long tokens = m.has("tokenizer.ggml.tokens") ? m.arrayLength("tokenizer.ggml.tokens") : -1;
        int[] embed = shapes.get(TensorNames.EMBED);
        if (embed != null) {
            if (embed.length != 2) {
                throw new IllegalArgumentException("GGUF file " + f.file() + ": token_embd.weight has shape "
                        + java.util.Arrays.toString(embed) + ", expected [vocab, dim]");
            }
            if (tokens > embed[0]) {
                throw new IllegalArgumentException("GGUF file " + f.file() + " lists " + tokens
                        + " tokens but token_embd.weight has only " + embed[0] + " rows");
            }
            return embed[0];
        }
        if (tokens > 0) {
            return Math.toIntExact(tokens);
        }
        throw new IllegalArgumentException("GGUF file " + f.file() + " has neither token_embd.weight nor "
                + "tokenizer.ggml.tokens, so its vocabulary size is unknown");
    }

    /**
     * Linear scaling from {@code rope.scaling.type}/{@code rope.scaling.factor} (or the older
     * {@code rope.scale_linear}); llama3 scaling from the per-pair divisors of {@code rope_freqs.weight},
     * which must match the llama3 formula (QuantGate's RoPE computes frequencies from parameters).
     */
    private static RopeScaling ropeScaling(GgufFile f, String a, int headSize, float theta) {
        GgufMetadata m = f.typedMetadata();
        String type = m.getString(a + "rope.scaling.type", "linear");
        float factor = m.has(a + "rope.scale_linear") ? m.getFloat(a + "rope.scale_linear")
                : m.getFloat(a + "rope.scaling.factor", 0f);
        boolean linear = factor != 0f && factor != 1f;
        if (linear && !type.equals("linear") && !type.equals("none")) {
            throw new IllegalArgumentException("GGUF file " + f.file() + ": RoPE scaling type '" + type
                    + "' is not supported (QuantGate supports linear and llama3)");
        }
        boolean freqs = f.tensors().containsKey(ROPE_FREQS);
        if (linear && freqs) {
            throw new IllegalArgumentException("GGUF file " + f.file() + " has both linear RoPE scaling (factor "
                    + factor + ") and " + ROPE_FREQS + "; QuantGate does not combine them");
        }
        if (linear) {
            return new RopeScaling(RopeScaling.Type.LINEAR, factor, 0f, 0f, 0);
        }
        if (!freqs) {
            return RopeScaling.NONE;
        }
        float[] div = f.floats(ROPE_FREQS);
        int orig = m.getInt(a + "rope.scaling.original_context_length", DEFAULT_LLAMA3_ORIGINAL_CONTEXT);
        try {
            return Llama3RopeFit.fit(div, headSize, theta, orig);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("GGUF file " + f.file() + ": " + ROPE_FREQS + " " + e.getMessage(), e);
        }
    }
}
