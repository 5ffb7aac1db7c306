package io.quantgate.evaluation;

import io.quantgate.runtime.model.LlamaModel;

import java.util.Objects;

/**
 * A {@link LlamaModel} seen as a {@link LogitsModel}: every call clears the KV cache and runs the
 * sequence from position 0 as batched prefill. Does not own the model.
 */
public final class LlamaLogitsModel implements LogitsModel {
    private final LlamaModel model;

    public LlamaLogitsModel(LlamaModel model) {
        this.model = Objects.requireNonNull(model, "model");
    }

    @Override
    public float[][] logits(int[] tokens) {
        return logits(tokens, 0);
    }

    @Override
    public float[][] logits(int[] tokens, int firstRow) {
        if (tokens.length > model.config().seqLen()) {
            throw new IllegalArgumentException(tokens.length + " tokens do not fit the model's context of "
                    + model.config().seqLen() + " (lower --ctx)");
        }
        model.reset();
        return model.forwardBatch(tokens, 0, firstRow);
    }

    @Override
    public int vocabSize() {
        return model.config().vocabSize();
    }

    public LlamaModel model() {
        return model;
    }
}
