package io.quantgate.backend;

import io.quantgate.evaluation.LogitsModel;

import java.util.Optional;

/**
 * One config of one model loaded into a backend. The timing hooks follow llama-bench: {@link #prefill} is
 * the pp test (a prompt in one batch from an empty cache), {@link #decode} the tg test (single-token steps
 * from an empty cache). Both return the seconds the engine spent, measured as close to the engine as the
 * backend can (in process: {@code System.nanoTime} around the call; an external engine reports its own).
 * Not thread-safe.
 */
public interface BackendModel extends AutoCloseable {

    /** What this model runs (the plan it was opened under). */
    RunPlan plan();

    /** The KV-cache length it was opened with: prompts and decode runs must fit. */
    int contextLength();

    int vocabSize();

    /** Next-token logits for perplexity, or empty when the engine cannot give them ({@link RunPlan#noLogits()} says why). */
    Optional<LogitsModel> logits();

    /**
     * Runs {@code prompt} from an empty cache as one batch, computing (at least) the logits of its last position.
     *
     * @return seconds spent
     */
    double prefill(int[] prompt);

    /**
     * Runs {@code tokens.length} single-token decode steps from an empty cache, at positions 0, 1, ...
     * Engines that choose their own tokens while generating (llama.cpp's server loop) decode as many steps
     * as asked; the plan says so.
     *
     * @return seconds spent
     */
    double decode(int[] tokens);

    @Override
    void close();
}
