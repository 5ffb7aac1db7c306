package io.quantgate.runtime.safetensors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quantgate.runtime.model.LlamaConfig;
import io.quantgate.runtime.model.LlamaConfig.RopeScaling;
import io.quantgate.runtime.model.LlamaConfig.RopeStyle;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The fields of a Hugging Face {@code config.json} that define a Llama-family decoder, with transformers'
 * defaults where a field may be absent. What the config cannot say (whether q/k/v have biases, whether
 * queries and keys are normed) comes from the tensors present; see {@link HuggingFaceModel}.
 *
 * @param file          the config.json, for error messages
 * @param context       {@code max_position_embeddings}, capped at {@code sliding_window} when the model
 *                      uses one: QuantGate has no sliding-window attention, and within the window full
 *                      attention is the same computation
 * @param attentionBias the config's {@code attention_bias} flag (absent = false)
 */
public record HuggingFaceConfig(Path file, String modelType, int hiddenSize, int intermediateSize, int numLayers,
                                int numHeads, int numKvHeads, int headDim, int vocabSize, int maxPositions,
                                int context, float ropeTheta, RopeScaling ropeScaling, float rmsNormEps,
                                boolean tieWordEmbeddings, boolean attentionBias) {

    /** The {@code model_type}s QuantGate reads and writes. */
    public static final List<String> SUPPORTED = List.of("llama", "mistral", "qwen2", "qwen3");

    /** transformers' default {@code rms_norm_eps} of all four configs. */
    public static final float DEFAULT_RMS_NORM_EPS = 1e-6f;

    private static final Map<String, String> ARCHITECTURES = Map.of(
            "llama", "LlamaForCausalLM", "mistral", "MistralForCausalLM",
            "qwen2", "Qwen2ForCausalLM", "qwen3", "Qwen3ForCausalLM");

    /** The {@code architectures} class name transformers instantiates for a model type. */
    public static String architectureClass(String modelType) {
        String a = ARCHITECTURES.get(modelType);
        if (a == null) {
            throw new IllegalArgumentException("model_type '" + modelType + "' is not supported; supported: " + SUPPORTED);
        }
        return a;
    }

    /**
     * Whether the Hugging Face checkpoint of this model type stores q/k rows permuted for rotate_half from
     * Meta's interleaved layout (Llama and Mistral were trained interleaved and converted; Qwen was trained
     * with rotate_half, so its rows are the original ones).
     */
    public static boolean permutedFromInterleaved(String modelType) {
        return modelType.equals("llama") || modelType.equals("mistral");
    }

    /** Reads and validates {@code configJson}; every error names the file. */
    public static HuggingFaceConfig read(Path configJson) {
        JsonNode root;
        try {
            root = SafetensorsFile.JSON.readTree(Files.readAllBytes(configJson));
        } catch (JsonProcessingException e) {
            throw bad(configJson, "is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw bad(configJson, "cannot be read: " + e);
        }
        if (root == null || !root.isObject()) {
            throw bad(configJson, "is not a JSON object");
        }
        return parse(configJson, root);
    }

    static HuggingFaceConfig parse(Path f, JsonNode root) {
        JsonNode typeNode = root.get("model_type");
        if (typeNode == null || !typeNode.isTextual()) {
            throw bad(f, "has no model_type string; supported model types: " + SUPPORTED);
        }
        String type = typeNode.textValue();
        if (!SUPPORTED.contains(type)) {
            throw bad(f, "has model_type '" + type + "', which QuantGate does not support; supported: " + SUPPORTED);
        }
        String act = optionalText(f, root, "hidden_act", "silu");
        if (!act.equals("silu") && !act.equals("swish")) {
            throw bad(f, "has hidden_act '" + act + "'; QuantGate's feed-forward is SwiGLU (silu)");
        }
        if (bool(f, root, "mlp_bias", false)) {
            throw bad(f, "has mlp_bias=true; QuantGate's feed-forward has no biases");
        }
        int hidden = requiredInt(f, root, "hidden_size");
        int inter = requiredInt(f, root, "intermediate_size");
        int layers = requiredInt(f, root, "num_hidden_layers");
        int heads = requiredInt(f, root, "num_attention_heads");
        int kvHeads = optionalInt(f, root, "num_key_value_heads", heads);
        if (heads <= 0) {
            throw bad(f, "has num_attention_heads=" + heads + "; it must be positive");
        }
        if (!root.hasNonNull("head_dim") && hidden % heads != 0) {
            throw bad(f, "has no head_dim and hidden_size " + hidden + " is not a multiple of num_attention_heads "
                    + heads);
        }
        int headDim = optionalInt(f, root, "head_dim", hidden / heads);
        int vocab = requiredInt(f, root, "vocab_size");
        int maxPos = requiredInt(f, root, "max_position_embeddings");
        // transformers ≥ 5 moves theta and scaling into rope_parameters; older configs have them top-level
        JsonNode ropeParams = root.get("rope_parameters");
        float theta;
        if (root.hasNonNull("rope_theta")) {
            theta = number(f, root, "rope_theta");
        } else if (ropeParams != null && ropeParams.hasNonNull("rope_theta")) {
            theta = number(f, ropeParams, "rope_theta");
        } else {
            theta = LlamaConfig.DEFAULT_ROPE_THETA;
        }
        JsonNode scalingNode = root.hasNonNull("rope_scaling") ? root.get("rope_scaling") : ropeParams;
        RopeScaling scaling = ropeScaling(f, scalingNode);
        float eps = root.hasNonNull("rms_norm_eps") ? number(f, root, "rms_norm_eps") : DEFAULT_RMS_NORM_EPS;
        boolean tie = bool(f, root, "tie_word_embeddings", false);
        boolean bias = bool(f, root, "attention_bias", false);
        int context = maxPos;
        boolean sliding = type.equals("mistral") || bool(f, root, "use_sliding_window", false);
        if (sliding && root.hasNonNull("sliding_window")) {
            int window = requiredInt(f, root, "sliding_window");
            if (window > 0 && window < context) {
                context = window;
            }
        }
        HuggingFaceConfig c = new HuggingFaceConfig(f, type, hidden, inter, layers, heads, kvHeads, headDim, vocab,
                maxPos, context, theta, scaling, eps, tie, bias);
        c.toLlamaConfig(false, false); // the size checks of LlamaConfig, reported against this file
        return c;
    }

    /**
     * The runtime config: Llama/Mistral rows are un-permuted by the reader, so they use
     * {@link RopeStyle#INTERLEAVED}; Qwen keeps its rows and {@link RopeStyle#ROTATE_HALF}.
     */
    public LlamaConfig toLlamaConfig(boolean hasAttentionBias, boolean hasQkNorm) {
        try {
            return new LlamaConfig(hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, headDim, vocabSize,
                    context, ropeTheta, ropeScaling, rmsNormEps, tieWordEmbeddings,
                    permutedFromInterleaved(modelType) ? RopeStyle.INTERLEAVED : RopeStyle.ROTATE_HALF,
                    hasAttentionBias, hasQkNorm);
        } catch (IllegalArgumentException e) {
            throw bad(file, "describes an impossible model: " + e.getMessage());
        }
    }

    /**
     * A config.json transformers can load for {@code c} as {@code modelType}.
     *
     * @param torchDtype {@code "float32"}, {@code "float16"} or {@code "bfloat16"}
     */
    public static ObjectNode toJson(String modelType, LlamaConfig c, String torchDtype, int bosTokenId,
                                    int eosTokenId) {
        ObjectNode j = SafetensorsFile.JSON.createObjectNode();
        j.putArray("architectures").add(architectureClass(modelType));
        j.put("model_type", modelType);
        j.put("hidden_size", c.dim());
        j.put("intermediate_size", c.hiddenDim());
        j.put("num_hidden_layers", c.nLayers());
        j.put("num_attention_heads", c.nHeads());
        j.put("num_key_value_heads", c.nKvHeads());
        j.put("head_dim", c.headSize());
        j.put("vocab_size", c.vocabSize());
        j.put("max_position_embeddings", c.seqLen());
        j.put("rope_theta", c.ropeTheta());
        RopeScaling s = c.ropeScaling();
        switch (s.type()) {
            case NONE -> j.putNull("rope_scaling");
            case LINEAR -> j.putObject("rope_scaling").put("rope_type", "linear").put("factor", s.factor());
            case LLAMA3 -> j.putObject("rope_scaling").put("rope_type", "llama3").put("factor", s.factor())
                    .put("low_freq_factor", s.lowFreqFactor()).put("high_freq_factor", s.highFreqFactor())
                    .put("original_max_position_embeddings", s.originalContext());
        }
        j.put("rms_norm_eps", c.normEps());
        j.put("tie_word_embeddings", c.sharedClassifier());
        // Qwen2's q/k/v always have biases in transformers (the flag is not read); Llama and Qwen3 read it
        j.put("attention_bias", c.attentionBias() || modelType.equals("qwen2"));
        j.put("hidden_act", "silu");
        if (modelType.equals("llama")) {
            j.put("mlp_bias", false);
        }
        if (modelType.equals("mistral")) {
            j.putNull("sliding_window"); // QuantGate attends to the whole context
        }
        if (modelType.startsWith("qwen")) {
            j.put("use_sliding_window", false);
        }
        j.put("bos_token_id", bosTokenId);
        j.put("eos_token_id", eosTokenId);
        j.put("torch_dtype", torchDtype);
        j.put("use_cache", true);
        return j;
    }

    private static RopeScaling ropeScaling(Path f, JsonNode n) {
        if (n == null || n.isNull()) {
            return RopeScaling.NONE;
        }
        if (!n.isObject()) {
            throw bad(f, "has a rope_scaling that is neither null nor an object: " + n);
        }
        JsonNode t = n.hasNonNull("rope_type") ? n.get("rope_type") : n.get("type");
        String type = t == null || t.isNull() ? "default" : t.asText();
        String supported = "supported rope scaling types: none/default, linear, llama3";
        try {
            return switch (type) {
                case "default" -> RopeScaling.NONE;
                case "linear" -> new RopeScaling(RopeScaling.Type.LINEAR, number(f, n, "factor"), 0f, 0f, 0);
                case "llama3" -> new RopeScaling(RopeScaling.Type.LLAMA3, number(f, n, "factor"),
                        number(f, n, "low_freq_factor"), number(f, n, "high_freq_factor"),
                        requiredInt(f, n, "original_max_position_embeddings"));
                default -> throw bad(f, "has rope scaling type '" + type + "', which QuantGate does not implement; "
                        + supported);
            };
        } catch (IllegalArgumentException e) {
            if (e.getMessage().contains(f.toString())) {
                throw e;
            }
            throw bad(f, "has an impossible rope_scaling " + n + ": " + e.getMessage());
        }
    }

    private static int requiredInt(Path f, JsonNode root, String key) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) {
            throw bad(f, "has no " + key);
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            throw bad(f, "has " + key + "=" + n + "; expected an integer");
        }
        return n.intValue();
    }

    private static int optionalInt(Path f, JsonNode root, String key, int dflt) {
        return root.hasNonNull(key) ? requiredInt(f, root, key) : dflt;
    }

    /** A float rounded once from the decimal text, so a value written from a float reads back as that float. */
    private static float number(Path f, JsonNode root, String key) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) {
            throw bad(f, "has no " + key);
        }
        if (!n.isNumber()) {
            throw bad(f, "has " + key + "=" + n + "; expected a number");
        }
        float v = n.isBigDecimal() ? Float.parseFloat(n.decimalValue().toString()) : (float) n.doubleValue();
        if (!Float.isFinite(v)) {
            throw bad(f, "has " + key + "=" + n + ", which is not a finite float");
        }
        return v;
    }

    private static boolean bool(Path f, JsonNode root, String key, boolean dflt) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isBoolean()) {
            throw bad(f, "has " + key + "=" + n + "; expected true or false");
        }
        return n.booleanValue();
    }

    private static String optionalText(Path f, JsonNode root, String key, String dflt) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isTextual()) {
            throw bad(f, "has " + key + "=" + n + "; expected a string");
        }
        return n.textValue();
    }

    private static IllegalArgumentException bad(Path f, String what) {
        return new IllegalArgumentException("config " + f + " " + what);
    }
}
