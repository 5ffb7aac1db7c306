package io.quantgate.harness;

/**
 * One timed call the harness makes each round: {@link #prepare} runs untimed (clear a KV cache, pick the next weight
 * copy), {@link #run} is timed. {@code round} counts every round run, warmup included, so a trial can rotate its
 * inputs.
 */
public interface Trial {
    default void prepare(int round) {
    }

    void run(int round);
}
