package io.quantgate.runtime.safetensors;

import io.quantgate.runtime.model.TensorNames;

import java.util.Map;
import java.util.Optional;

/**
 * Hugging Face tensor names of the Llama-family {@code *ForCausalLM} models (Llama, Mistral, Qwen2, Qwen3)
 * ↔ QuantGate's {@link TensorNames canonical names}.
 */
public final class HuggingFaceNames {
    private HuggingFaceNames() {
    }

    private static final String LAYER_PREFIX = "model.layers.";

    private static final Map<String, String> GLOBAL = Map.of(
            "model.embed_tokens.weight", TensorNames.EMBED,
            "model.norm.weight", TensorNames.NORM,
            "lm_head.weight", TensorNames.LM_HEAD);

    /** Per-layer HF suffix → canonical suffix. */
    private static final Map<String, String> LAYER = Map.ofEntries(
            Map.entry("input_layernorm.weight", TensorNames.ATTN_NORM),
            Map.entry("self_attn.q_proj.weight", TensorNames.Q),
            Map.entry("self_attn.k_proj.weight", TensorNames.K),
            Map.entry("self_attn.v_proj.weight", TensorNames.V),
            Map.entry("self_attn.o_proj.weight", TensorNames.O),
            Map.entry("self_attn.q_proj.bias", TensorNames.Q_BIAS),
            Map.entry("self_attn.k_proj.bias", TensorNames.K_BIAS),
            Map.entry("self_attn.v_proj.bias", TensorNames.V_BIAS),
            Map.entry("self_attn.q_norm.weight", TensorNames.Q_NORM),
            Map.entry("self_attn.k_norm.weight", TensorNames.K_NORM),
            Map.entry("post_attention_layernorm.weight", TensorNames.MLP_NORM),
            Map.entry("mlp.gate_proj.weight", TensorNames.GATE),
            Map.entry("mlp.up_proj.weight", TensorNames.UP),
            Map.entry("mlp.down_proj.weight", TensorNames.DOWN));

    /** The canonical name of a Hugging Face tensor, if QuantGate has a place for it. */
    public static Optional<String> toCanonical(String hf) {
        String g = GLOBAL.get(hf);
        if (g != null) {
            return Optional.of(g);
        }
        return layerOf(hf).flatMap(l -> {
            String suffix = hf.substring(LAYER_PREFIX.length() + Integer.toString(l).length() + 1);
            return Optional.ofNullable(LAYER.get(suffix)).map(c -> TensorNames.layer(l, c));
        });
    }

    /**
     * The Hugging Face name of a canonical tensor.
     *
     * @throws IllegalArgumentException when the canonical name has no Hugging Face counterpart
     */
    public static String toHuggingFace(String canonical) {
        for (Map.Entry<String, String> e : GLOBAL.entrySet()) {
            if (e.getValue().equals(canonical)) {
                return e.getKey();
            }
        }
        String within = TensorNames.withinLayer(canonical);
        if (!within.equals(canonical)) {
            String layer = canonical.substring("layers.".length(), canonical.length() - within.length() - 1);
            for (Map.Entry<String, String> e : LAYER.entrySet()) {
                if (e.getValue().equals(within)) {
                    return LAYER_PREFIX + layer + "." + e.getKey();
                }
            }
        }
        throw new IllegalArgumentException("tensor '" + canonical + "' has no Hugging Face name (known: embed, "
                + "norm, lm_head and layers.N." + LAYER.values().stream().sorted().toList() + ")");
    }

    /** The layer index of a {@code model.layers.N.*} name (canonical digits only). */
    public static Optional<Integer> layerOf(String hf) {
        if (!hf.startsWith(LAYER_PREFIX)) {
            return Optional.empty();
        }
        int dot = hf.indexOf('.', LAYER_PREFIX.length());
        String digits = dot < 0 ? "" : hf.substring(LAYER_PREFIX.length(), dot);
        if (digits.isEmpty() || digits.length() > 9 || !digits.chars().allMatch(Character::isDigit)
                || (digits.length() > 1 && digits.charAt(0) == '0')) {
            return Optional.empty();
        }
        return Optional.of(Integer.parseInt(digits));
    }
}
