package io.quantgate.runtime.model;

/**
 * The hyper-parameters of a Llama-architecture decoder.
 *
 * @param dim              model (residual) width
 * @param hiddenDim        FFN inner width
 * @param nLayers          number of transformer blocks
 * @param nHeads           query heads
 * @param nKvHeads         key/value heads (grouped-query attention when fewer than {@code nHeads})
 * @param vocabSize        vocabulary size
 * @param seqLen           maximum context (KV-cache length)
 * @param ropeTheta        RoPE base (10000 for Llama 2)
 * @param normEps          RMSNorm epsilon
 * @param sharedClassifier whether the classifier is the token-embedding matrix
 * @param ropeStyle        which pairs RoPE rotates
 */
public record LlamaConfig(int dim, int hiddenDim, int nLayers, int nHeads, int nKvHeads, int vocabSize, int seqLen,
                          float ropeTheta, float normEps, boolean sharedClassifier, RopeStyle ropeStyle) {

    public static final float DEFAULT_ROPE_THETA = 10000f;
    public static final float DEFAULT_NORM_EPS = 1e-5f;

    /** Which elements of a head RoPE rotates together. */
    public enum RopeStyle {
        /** Adjacent pairs {@code (x[2i], x[2i+1])}: Meta's and llama2.c's convention. */
        INTERLEAVED,
        /** Halves {@code (x[i], x[i + headSize/2])}: Hugging Face's {@code rotate_half}. */
        ROTATE_HALF
    }

    public LlamaConfig {
        if (dim <= 0 || hiddenDim <= 0 || nLayers <= 0 || nHeads <= 0 || nKvHeads <= 0 || vocabSize <= 0 || seqLen <= 0) {
            throw new IllegalArgumentException("every size must be positive: " + describe(dim, hiddenDim, nLayers,
                    nHeads, nKvHeads, vocabSize, seqLen));
        }
        if (dim % nHeads != 0) {
            throw new IllegalArgumentException("dim " + dim + " is not a multiple of n_heads " + nHeads);
        }
        if (nHeads % nKvHeads != 0) {
            throw new IllegalArgumentException("n_heads " + nHeads + " is not a multiple of n_kv_heads " + nKvHeads);
        }
        if ((dim / nHeads) % 2 != 0) {
            throw new IllegalArgumentException("head size " + dim / nHeads + " is odd; RoPE rotates pairs");
        }
        if (!(ropeTheta > 0) || Float.isInfinite(ropeTheta)) {
            throw new IllegalArgumentException("rope theta must be positive and finite, got " + ropeTheta);
        }
        if (!(normEps > 0) || Float.isInfinite(normEps)) {
            throw new IllegalArgumentException("norm eps must be positive and finite, got " + normEps);
        }
        java.util.Objects.requireNonNull(ropeStyle, "ropeStyle");
    }

    /** A llama2.c-style config: theta 10000, eps 1e-5, interleaved RoPE. */
    public static LlamaConfig llama2c(int dim, int hiddenDim, int nLayers, int nHeads, int nKvHeads, int vocabSize,
                                      int seqLen, boolean sharedClassifier) {
        return new LlamaConfig(dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize, seqLen, DEFAULT_ROPE_THETA,
                DEFAULT_NORM_EPS, sharedClassifier, RopeStyle.INTERLEAVED);
    }

    public int headSize() {
        return dim / nHeads;
    }

    public int kvDim() {
        return nKvHeads * headSize();
    }

    /** Query heads per key/value head. */
    public int kvMul() {
        return nHeads / nKvHeads;
    }

    static String describe(int dim, int hiddenDim, int nLayers, int nHeads, int nKvHeads, int vocabSize, int seqLen) {
        return "dim=" + dim + ", hidden_dim=" + hiddenDim + ", n_layers=" + nLayers + ", n_heads=" + nHeads
                + ", n_kv_heads=" + nKvHeads + ", vocab_size=" + vocabSize + ", seq_len=" + seqLen;
    }
}
