package io.quantgate.runtime.model;

import java.util.Objects;

/**
 * The hyper-parameters of a Llama-family decoder (Llama 1/2/3, Mistral, Qwen2, Qwen3).
 *
 * @param dim              model (residual) width
 * @param hiddenDim        FFN inner width
 * @param nLayers          number of transformer blocks
 * @param nHeads           query heads
 * @param nKvHeads         key/value heads (grouped-query attention when fewer than {@code nHeads})
 * @param headSize         width of one head ({@code dim / nHeads} except in e.g. Qwen3, which sets it apart)
 * @param vocabSize        vocabulary size
 * @param seqLen           maximum context (KV-cache length)
 * @param ropeTheta        RoPE base (10000 for Llama 2, 500000 for Llama 3, 1e6 for Qwen2)
 * @param ropeScaling      frequency scaling of long-context models ({@link RopeScaling#NONE} when none)
 * @param normEps          RMSNorm epsilon
 * @param sharedClassifier whether the classifier is the token-embedding matrix
 * @param ropeStyle        which pairs RoPE rotates
 * @param attentionBias    whether q/k/v have biases (Qwen2)
 * @param qkNorm           whether queries and keys get a per-head RMSNorm before RoPE (Qwen3)
 */
public record LlamaConfig(int dim, int hiddenDim, int nLayers, int nHeads, int nKvHeads, int headSize, int vocabSize,
                          int seqLen, float ropeTheta, RopeScaling ropeScaling, float normEps, boolean sharedClassifier,
                          RopeStyle ropeStyle, boolean attentionBias, boolean qkNorm) {

    public static final float DEFAULT_ROPE_THETA = 10000f;
    public static final float DEFAULT_NORM_EPS = 1e-5f;
    /**
     * The longest context QuantGate accepts (2^24 positions; the longest released models have 10M). No tensor's
     * shape bounds the context, so a corrupt header value (2^31 - 1) would otherwise size the RoPE tables and the
     * KV cache and fail as an OutOfMemoryError.
     */
    public static final int MAX_CONTEXT = 1 << 24;

    /** Which elements of a head RoPE rotates together. */
    public enum RopeStyle {
        /** Adjacent pairs {@code (x[2i], x[2i+1])}: Meta's, llama2.c's and GGUF {@code llama}'s convention. */
        INTERLEAVED,
        /** Halves {@code (x[i], x[i + headSize/2])}: Hugging Face's {@code rotate_half} (GGUF "neox"). */
        ROTATE_HALF
    }

    /**
     * RoPE frequency scaling as Hugging Face's {@code rope_scaling} defines it.
     *
     * @param type             none, linear (every frequency ÷ factor) or llama3 (low frequencies ÷ factor,
     *                         high ones kept, a smooth blend between)
     * @param factor           the scaling factor
     * @param lowFreqFactor    llama3 only
     * @param highFreqFactor   llama3 only
     * @param originalContext  llama3 only: {@code original_max_position_embeddings}
     */
    public record RopeScaling(Type type, float factor, float lowFreqFactor, float highFreqFactor, int originalContext) {
        public enum Type { NONE, LINEAR, LLAMA3 }

        public static final RopeScaling NONE = new RopeScaling(Type.NONE, 1f, 0f, 0f, 0);

        public RopeScaling {
            Objects.requireNonNull(type, "type");
            if (type != Type.NONE && !(factor > 0 && Float.isFinite(factor))) {
                throw new IllegalArgumentException("rope scaling factor must be positive and finite, got " + factor);
            }
            if (type == Type.LLAMA3 && !(highFreqFactor > lowFreqFactor && lowFreqFactor > 0 && originalContext > 0)) {
                throw new IllegalArgumentException("llama3 rope scaling needs high_freq_factor > low_freq_factor > 0 and "
                        + "original_max_position_embeddings > 0, got " + this);
            }
        }

        /** The scaled angular frequency of one rotary pair. */
        public double scale(double freq) {
            return switch (type) {
                case NONE -> freq;
                case LINEAR -> freq / factor;
                case LLAMA3 -> {
                    double wavelen = 2 * Math.PI / freq;
                    double lowWavelen = originalContext / (double) lowFreqFactor;
                    double highWavelen = originalContext / (double) highFreqFactor;
                    if (wavelen < highWavelen) {
                        yield freq;
                    } else if (wavelen > lowWavelen) {
                        yield freq / factor;
                    }
                    double smooth = (originalContext / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                    yield (1 - smooth) * freq / factor + smooth * freq;
                }
            };
        }
    }

    public LlamaConfig {
        if (dim <= 0 || hiddenDim <= 0 || nLayers <= 0 || nHeads <= 0 || nKvHeads <= 0 || headSize <= 0
                || vocabSize <= 0 || seqLen <= 0) {
            throw new IllegalArgumentException("every size must be positive: " + describe(dim, hiddenDim, nLayers,
                    nHeads, nKvHeads, vocabSize, seqLen) + ", head_size=" + headSize);
        }
        if (seqLen > MAX_CONTEXT) {
            throw new IllegalArgumentException("context length " + seqLen + " exceeds " + MAX_CONTEXT
                    + " positions, the most QuantGate accepts: the header is corrupt");
        }
        if (nHeads % nKvHeads != 0) {
            throw new IllegalArgumentException("n_heads " + nHeads + " is not a multiple of n_kv_heads " + nKvHeads);
        }
        if (headSize % 2 != 0) {
            throw new IllegalArgumentException("head size " + headSize + " is odd; RoPE rotates pairs");
        }
        if ((long) nHeads * headSize > Integer.MAX_VALUE / 64) {
            throw new IllegalArgumentException("n_heads × head_size = " + (long) nHeads * headSize + " is too large");
        }
        if (!(ropeTheta > 0) || Float.isInfinite(ropeTheta)) {
            throw new IllegalArgumentException("rope theta must be positive and finite, got " + ropeTheta);
        }
        if (!(normEps > 0) || Float.isInfinite(normEps)) {
            throw new IllegalArgumentException("norm eps must be positive and finite, got " + normEps);
        }
        Objects.requireNonNull(ropeScaling, "ropeScaling");
        Objects.requireNonNull(ropeStyle, "ropeStyle");
    }

    /** A llama2.c-style config: head size dim/nHeads, theta 10000, eps 1e-5, interleaved RoPE, no extras. */
    public static LlamaConfig llama2c(int dim, int hiddenDim, int nLayers, int nHeads, int nKvHeads, int vocabSize,
                                      int seqLen, boolean sharedClassifier) {
        if (nHeads <= 0 || dim % nHeads != 0) {
            throw new IllegalArgumentException("dim " + dim + " is not a multiple of n_heads " + nHeads);
        }
        return new LlamaConfig(dim, hiddenDim, nLayers, nHeads, nKvHeads, dim / nHeads, vocabSize, seqLen,
                DEFAULT_ROPE_THETA, RopeScaling.NONE, DEFAULT_NORM_EPS, sharedClassifier, RopeStyle.INTERLEAVED,
                false, false);
    }

    /** This config with another context length (the KV cache the runtime allocates). */
    public LlamaConfig withSeqLen(int newSeqLen) {
        return new LlamaConfig(dim, hiddenDim, nLayers, nHeads, nKvHeads, headSize, vocabSize, newSeqLen, ropeTheta,
                ropeScaling, normEps, sharedClassifier, ropeStyle, attentionBias, qkNorm);
    }

    /** Width of all query heads together ({@code nHeads · headSize}, the output of the q projection). */
    public int qDim() {
        return nHeads * headSize;
    }

    public int kvDim() {
        return nKvHeads * headSize;
    }

    /** Query heads per key/value head. */
    public int kvMul() {
        return nHeads / nKvHeads;
    }

    /** Parameters of the linear layers and embeddings (what a forward pass reads per token, roughly). */
    public long parameterCount() {
        long perLayer = (long) dim * qDim() * 2 + 2L * dim * kvDim() + 3L * dim * hiddenDim + 2L * dim;
        return (long) vocabSize * dim * (sharedClassifier ? 1 : 2) + nLayers * perLayer + dim;
    }

    static String describe(int dim, int hiddenDim, int nLayers, int nHeads, int nKvHeads, int vocabSize, int seqLen) {
        return "dim=" + dim + ", hidden_dim=" + hiddenDim + ", n_layers=" + nLayers + ", n_heads=" + nHeads
                + ", n_kv_heads=" + nKvHeads + ", vocab_size=" + vocabSize + ", seq_len=" + seqLen;
    }
}
