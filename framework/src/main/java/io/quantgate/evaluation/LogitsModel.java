package io.quantgate.evaluation;

/**
 * A causal language model seen only through its next-token logits.
 *
 * <p>{@link #logits(int[])} evaluates one whole sequence that starts at position 0 with an empty
 * KV cache: an implementation that keeps a cache must reset it at the start of every call, so that
 * two calls with the same tokens give the same logits whatever was evaluated before.
 */
public interface LogitsModel {

    /**
     * Next-token logits for every position of {@code tokens}.
     *
     * @param tokens token ids, each in {@code [0, vocabSize())}; position 0 is the first token of
     *               a fresh sequence (empty cache)
     * @return {@code tokens.length} rows of {@code vocabSize()} logits; row {@code i} is the
     *         unnormalized log-distribution of the token at position {@code i + 1}
     */
    float[][] logits(int[] tokens);

    /**
     * Like {@link #logits(int[])}, but the caller needs only rows {@code firstRow ..}: rows before it may
     * be null, which spares a model with a large vocabulary copying logits nobody reads (perplexity
     * scores only the second half of each chunk).
     */
    default float[][] logits(int[] tokens, int firstRow) {
        return logits(tokens);
    }

    /** Number of logits per position (the vocabulary size). */
    int vocabSize();
}
