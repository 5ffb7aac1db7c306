package io.quantgate.runtime.model;

/**
 * QuantGate's canonical tensor names, the same for every file format, so that one {@code mixed:} config
 * works on llama2.c, GGUF and Hugging Face files alike. Per-layer tensors are {@code layers.<l>.<name>};
 * a {@code mixed:} rule matches either the whole name or the part after {@code layers.<l>.}, so
 * {@code attn.*=fp4-g64} covers every layer's attention and {@code layers.0.*=fp16} only layer 0.
 *
 * <p>Matrices are {@code [out, in]} row-major ({@code y = W·x}). Query and key rows are in the order the
 * config's {@link LlamaConfig.RopeStyle} expects (loaders permute where a file's convention differs).
 */
public final class TensorNames {
    private TensorNames() {
    }

    /** Token embeddings {@code [vocab, dim]}. */
    public static final String EMBED = "embed";
    /** Final RMSNorm weight {@code [dim]}. */
    public static final String NORM = "norm";
    /** Classifier {@code [vocab, dim]}; absent when the config says the classifier is the embedding. */
    public static final String LM_HEAD = "lm_head";

    // per-layer suffixes
    public static final String ATTN_NORM = "attn_norm";
    public static final String Q = "attn.q";
    public static final String K = "attn.k";
    public static final String V = "attn.v";
    public static final String O = "attn.o";
    /** Biases of q/k/v (Qwen2), {@code [out]}. */
    public static final String Q_BIAS = "attn.q.bias";
    public static final String K_BIAS = "attn.k.bias";
    public static final String V_BIAS = "attn.v.bias";
    /** Per-head RMSNorm of queries and keys (Qwen3), {@code [headSize]}. */
    public static final String Q_NORM = "attn.q_norm";
    public static final String K_NORM = "attn.k_norm";
    public static final String MLP_NORM = "mlp_norm";
    /** SwiGLU: {@code down(silu(gate·x) ⊙ up·x)}. */
    public static final String GATE = "mlp.gate";
    public static final String UP = "mlp.up";
    public static final String DOWN = "mlp.down";

    /** The linear layers of one block, in forward order. */
    public static final java.util.List<String> LAYER_LINEARS = java.util.List.of(Q, K, V, O, GATE, UP, DOWN);

    public static String layer(int l, String suffix) {
        return "layers." + l + "." + suffix;
    }

    /** {@code "attn.q"} for {@code "layers.3.attn.q"}; the name itself when it is not a per-layer name. */
    public static String withinLayer(String name) {
        return io.quantgate.kernels.format.QuantizationConfig.Rule.withinLayer(name); // the rule matcher's own split
    }
}
