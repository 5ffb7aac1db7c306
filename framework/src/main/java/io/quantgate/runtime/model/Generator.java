package io.quantgate.runtime.model;

import io.quantgate.runtime.tokenizer.Tokenizer;

import java.util.Arrays;
import java.util.Objects;

/**
 * Greedy (argmax) generation, as llama2.c {@code run} with temperature 0: the prompt is prefilled in one
 * batch, then one token per step until {@code maxNewTokens}, EOS, BOS (llama2.c's sequence delimiter) or
 * the end of the context.
 */
public final class Generator {
    private final LlamaModel model;
    private final Tokenizer tokenizer;

    public Generator(LlamaModel model, Tokenizer tokenizer) {
        this.model = Objects.requireNonNull(model, "model");
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
    }

    /**
     * Generates after {@code prompt} (which should start with BOS; an empty prompt means {@code [BOS]}).
     * Resets the model first.
     *
     * @return the new tokens only, without the stop token
     */
    public int[] generate(int[] prompt, int maxNewTokens) {
        if (prompt.length == 0) {
            prompt = new int[] {tokenizer.bos()};
        }
        int seqLen = model.config().seqLen();
        if (prompt.length > seqLen) {
            throw new IllegalArgumentException("prompt of " + prompt.length + " tokens exceeds the context of " + seqLen);
        }
        model.reset();
        float[][] prefill = model.forwardBatch(prompt, 0);
        float[] logits = prefill[prefill.length - 1];
        int[] out = new int[Math.max(0, maxNewTokens)];
        int n = 0;
        int pos = prompt.length;
        while (n < out.length) {
            int next = argmax(logits);
            if (next == tokenizer.eos() || next == tokenizer.bos()) {
                break;
            }
            out[n++] = next;
            if (pos >= seqLen || n == out.length) {
                break;
            }
            logits = model.forward(next, pos++);
        }
        return Arrays.copyOf(out, n);
    }

    /** Encodes {@code prompt} (with BOS), generates, and decodes prompt + continuation. */
    public String generateText(String prompt, int maxNewTokens) {
        int[] p = tokenizer.encode(prompt, true);
        int[] gen = generate(p, maxNewTokens);
        int[] all = Arrays.copyOf(p, p.length + gen.length);
        System.arraycopy(gen, 0, all, p.length, gen.length);
        return tokenizer.decode(all);
    }

    /** Index of the largest value (the first on ties). */
    public static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }
}
