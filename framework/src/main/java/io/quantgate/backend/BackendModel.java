package io.quantgate.backend;

import io.quantgate.evaluation.LogitsModel;

import java.util.Optional;

/**
 * One config of one model loaded into a backend. The workloads follow llama-bench: {@link #prefill} is the pp test
 * (a prompt in one batch from an empty cache), {@link #decode} the tg test (single-token steps from an empty cache).
 * The harness times these calls itself, from the caller's side, the same way for every engine ({@code System.nanoTime}
 * around the call, {@link #reset} untimed before it); an engine's own idea of its time is never used. Not
 * thread-safe.
 */
public interface BackendModel extends AutoCloseable {

    /** What this model runs (the plan it was opened under). */
    RunPlan plan();

    /** The KV-cache length it was opened with: prompts and decode runs must fit. */
    int contextLength();

    int vocabSize();

    /** Next-token logits for perplexity, or empty when the engine cannot give them ({@link RunPlan#noLogits()} says why). */
    Optional<LogitsModel> logits();

    /** Empties the KV cache, so that the next {@link #prefill} or {@link #decode} starts at position 0. Untimed. */
    void reset();

    /**
     * Runs {@code prompt} as one batch at positions 0, 1, ... (after a {@link #reset}), computing (at least) the logits
     * of its last position.
     */
    void prefill(int[] prompt);

    /**
     * Runs {@code tokens.length} single-token decode steps at positions 0, 1, ... (after a {@link #reset}). Engines
     * that choose their own tokens while generating (llama.cpp's server loop) decode as many steps as asked; the plan
     * says so.
     */
    void decode(int[] tokens);

    /**
     * Why this engine cannot time decode steps after a prompt (llama-bench's depth: {@link #decodeAfter}), or empty
     * when it can. Engines that only decode from an empty cache say so here; the bench commands ask before any round
     * runs (and a decode at depth refuses them again in its first round).
     */
    default Optional<String> cannotDecodeAfterPrompt() {
        return Optional.of(plan().describe() + " decodes only from an empty cache here");
    }

    /**
     * Runs {@code tokens.length} single-token decode steps at positions {@code start, start + 1, ...}, after a
     * {@link #prefill} of {@code start} tokens (a decode at depth {@code start}); engines that cannot refuse it
     * ({@link #cannotDecodeAfterPrompt}).
     */
    default void decodeAfter(int start, int[] tokens) {
        if (start == 0) {
            decode(tokens);
            return;
        }
        throw new UnsupportedOperationException(cannotDecodeAfterPrompt().orElse("decodeAfter is not implemented"));
    }

    @Override
    void close();
}
