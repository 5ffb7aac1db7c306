package io.quantgate.runtime.gguf;

import io.quantgate.runtime.model.TensorNames;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * llama.cpp's tensor names ({@code blk.3.attn_q.weight}) ↔ QuantGate's {@link TensorNames canonical
 * names} ({@code layers.3.attn.q}). Names outside this table ({@code rope_freqs.weight},
 * {@code blk.0.attn_output.bias}, ...) have no canonical name.
 */
public final class GgufNames {
    private GgufNames() {
    }

    private static final Map<String, String> GLOBAL = Map.of(
            "token_embd.weight", TensorNames.EMBED,
            "output_norm.weight", TensorNames.NORM,
            "output.weight", TensorNames.LM_HEAD);

    /** Within-layer names, in the order a layer's tensors are listed and written. */
    private static final List<Map.Entry<String, String>> LAYER = List.of(
            Map.entry("attn_norm.weight", TensorNames.ATTN_NORM),
            Map.entry("attn_q.weight", TensorNames.Q),
            Map.entry("attn_k.weight", TensorNames.K),
            Map.entry("attn_v.weight", TensorNames.V),
            Map.entry("attn_q.bias", TensorNames.Q_BIAS),
            Map.entry("attn_k.bias", TensorNames.K_BIAS),
            Map.entry("attn_v.bias", TensorNames.V_BIAS),
            Map.entry("attn_q_norm.weight", TensorNames.Q_NORM),
            Map.entry("attn_k_norm.weight", TensorNames.K_NORM),
            Map.entry("attn_output.weight", TensorNames.O),
            Map.entry("ffn_norm.weight", TensorNames.MLP_NORM),
            Map.entry("ffn_gate.weight", TensorNames.GATE),
            Map.entry("ffn_up.weight", TensorNames.UP),
            Map.entry("ffn_down.weight", TensorNames.DOWN));

    /** Canonical within-layer suffixes in listing order. */
    public static List<String> layerOrder() {
        return LAYER.stream().map(Map.Entry::getValue).toList();
    }

    /** The canonical name of a llama.cpp tensor name, if it has one. */
    public static Optional<String> toCanonical(String gguf) {
        String g = GLOBAL.get(gguf);
        if (g != null) {
            return Optional.of(g);
        }
        int layer = layerIndex(gguf);
        if (layer < 0) {
            return Optional.empty();
        }
        String rest = gguf.substring(gguf.indexOf('.', 4) + 1);
        for (Map.Entry<String, String> e : LAYER) {
            if (e.getKey().equals(rest)) {
                return Optional.of(TensorNames.layer(layer, e.getValue()));
            }
        }
        return Optional.empty();
    }

    /** The llama.cpp name of a canonical name, if it has one. */
    public static Optional<String> toGguf(String canonical) {
        for (Map.Entry<String, String> e : GLOBAL.entrySet()) {
            if (e.getValue().equals(canonical)) {
                return Optional.of(e.getKey());
            }
        }
        String within = TensorNames.withinLayer(canonical);
        if (within.equals(canonical)) {
            return Optional.empty();
        }
        String layer = canonical.substring("layers.".length(), canonical.indexOf('.', "layers.".length()));
        for (Map.Entry<String, String> e : LAYER) {
            if (e.getValue().equals(within)) {
                return Optional.of("blk." + layer + "." + e.getKey());
            }
        }
        return Optional.empty();
    }

    /** N of {@code blk.N.*}, or −1 when the name is not a per-block name. */
    static int layerIndex(String gguf) {
        if (!gguf.startsWith("blk.")) {
            return -1;
        }
        int dot = gguf.indexOf('.', 4);
        if (dot <= 4 || dot - 4 > 9 || !gguf.substring(4, dot).chars().allMatch(c -> c >= '0' && c <= '9')) {
            return -1;
        }
        return Integer.parseInt(gguf.substring(4, dot));
    }
}
