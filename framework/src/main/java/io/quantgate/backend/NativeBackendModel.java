package io.quantgate.backend;

import io.quantgate.evaluation.LlamaLogitsModel;
import io.quantgate.evaluation.LogitsModel;
import io.quantgate.kernel.LinearKernel;
import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.runtime.model.LlamaModel;
import io.quantgate.runtime.model.ModelWeights;

import java.util.Optional;

/** A {@link LlamaModel} behind the backend SPI. */
public final class NativeBackendModel implements BackendModel {
    private final RunPlan plan;
    private final LlamaModel model;
    private final LlamaLogitsModel logits;

    NativeBackendModel(RunPlan plan, ModelWeights weights, QuantizationConfig quant, ActivationMode act, int ctx,
                       LinearKernel kernel) {
        this.plan = plan;
        this.model = new LlamaModel(weights, quant, act, LlamaModel.DEFAULT_MAX_BATCH, ctx, kernel);
        this.logits = new LlamaLogitsModel(model);
    }

    /** The engine itself, for callers that need more than the SPI (bandwidth ceilings, tests). */
    public LlamaModel model() {
        return model;
    }

    @Override
    public RunPlan plan() {
        return plan;
    }

    @Override
    public int contextLength() {
        return model.config().seqLen();
    }

    @Override
    public int vocabSize() {
        return model.config().vocabSize();
    }

    @Override
    public Optional<LogitsModel> logits() {
        return Optional.of(logits);
    }

    @Override
    public void reset() {
        model.reset();
    }

    @Override
    public void prefill(int[] prompt) {
        Prompts.check(prompt, contextLength(), vocabSize(), "prefill");
        model.forwardBatch(prompt, 0, prompt.length - 1); // the last position's logits only, as llama-bench
    }

    @Override
    public void decode(int[] tokens) {
        decodeAfter(0, tokens);
    }

    @Override
    public Optional<String> cannotDecodeAfterPrompt() {
        return Optional.empty();
    }

    @Override
    public void decodeAfter(int start, int[] tokens) {
        Prompts.check(tokens, contextLength(), vocabSize(), "decode");
        if (start < 0 || tokens.length > contextLength() - start) {
            throw new IllegalArgumentException("decode of " + tokens.length + " steps after " + start
                    + " positions does not fit the context of " + contextLength());
        }
        for (int p = 0; p < tokens.length; p++) {
            model.forward(tokens[p], start + p);
        }
    }

    @Override
    public void close() {
        model.close();
    }
}
