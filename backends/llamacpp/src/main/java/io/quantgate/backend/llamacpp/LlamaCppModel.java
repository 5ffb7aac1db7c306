package io.quantgate.backend.llamacpp;

import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.LlamaOutput;
import de.kherud.llama.ModelParameters;
import io.quantgate.backend.BackendException;
import io.quantgate.backend.BackendModel;
import io.quantgate.backend.Prompts;
import io.quantgate.backend.RunPlan;
import io.quantgate.evaluation.LogitsModel;

import java.nio.file.Path;
import java.util.Optional;

/**
 * A GGUF file loaded in llama.cpp. The binding runs llama.cpp's server loop and streams generated tokens, so the
 * timings are wall clock on the streamed outputs: prefill = from the request to the first token (the prompt in one
 * batch of up to 512, then sampling of one token); decode of n steps = from the first streamed token to the
 * (n+1)-th (n + 2 are asked for, as the server sometimes folds its last token into the closing output), i.e. n
 * single-token decode steps each followed by greedy sampling (llama.cpp picks the tokens; our
 * native tg feeds given tokens and does not sample, a difference of one argmax over the vocabulary per step).
 * Prompt caching is off, so every request starts from an empty cache.
 */
final class LlamaCppModel implements BackendModel {
    private final RunPlan plan;
    private final LlamaModel model;
    private final int vocab;
    private final int ctx;

    LlamaCppModel(RunPlan plan, Path gguf, int vocab, int ctx, int threads) {
        this.plan = plan;
        this.vocab = vocab;
        this.ctx = ctx;
        int t = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        // three positions beyond the context asked: the token sampled after a full-context prompt, and the two a
        // decode run of ctx steps generates last (llama.cpp only warns when this exceeds the trained context)
        ModelParameters p = new ModelParameters().setModel(gguf.toString()).setCtxSize(ctx + 3).setThreads(t)
                .setThreadsBatch(t).setBatchSize(Math.min(ctx, 2048)).setUbatchSize(Math.min(ctx, 512))
                .setGpuLayers(0).setParallel(1).disableLog();
        try {
            this.model = new LlamaModel(p);
        } catch (RuntimeException e) {
            throw new BackendException("llama.cpp could not load " + gguf + ": " + e.getMessage(), e);
        }
    }

    @Override
    public RunPlan plan() {
        return plan;
    }

    @Override
    public int contextLength() {
        return ctx;
    }

    @Override
    public int vocabSize() {
        return vocab;
    }

    @Override
    public Optional<LogitsModel> logits() {
        return Optional.empty();
    }

    private static InferenceParameters request(int[] prompt, int nPredict) {
        // greedy, no EOS stop, no prompt cache (an empty KV cache every time); never setNProbs (aborts the JVM)
        return TokenPrompts.withTokens(new InferenceParameters("").setNPredict(nPredict).setTemperature(0f)
                .setTopK(1).setIgnoreEos(true).setCachePrompt(false), prompt);
    }

    @Override
    public void reset() {
        // every request runs with cache_prompt off: the server starts it from an empty KV cache
    }

    /**
     * The prompt and one sampled token: the server API has no "evaluate and stop", so a prefill also samples the next
     * token (one sampling step, no further forward pass). The harness times the whole call.
     */
    @Override
    public void prefill(int[] prompt) {
        Prompts.check(prompt, ctx, vocab, "prefill");
        int outputs = 0;
        for (LlamaOutput o : model.generate(request(prompt, 1))) {
            outputs++;
        }
        if (outputs == 0) {
            throw new BackendException("llama.cpp produced no output after a prompt of " + prompt.length + " tokens");
        }
    }

    /**
     * {@code n} forward passes, as native's decode of {@code n} tokens: a one-token prompt, then {@code n - 1} sampled
     * tokens, each evaluated (the {@code n}th sampled token is not). The server picks the tokens (greedy).
     */
    @Override
    public void decode(int[] tokens) {
        Prompts.check(tokens, ctx, vocab, "decode");
        int n = tokens.length;
        int outputs = 0;
        for (LlamaOutput o : model.generate(request(new int[] {tokens[0]}, n))) {
            outputs++;
        }
        // the server sometimes folds its last token into the closing output
        if (outputs < n - 1) {
            throw new BackendException("llama.cpp streamed " + outputs + " outputs, expected " + n);
        }
    }

    @Override
    public void close() {
        model.close();
    }
}
