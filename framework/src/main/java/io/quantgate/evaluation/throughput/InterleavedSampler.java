package io.quantgate.evaluation.throughput;

import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * Times several trials round-robin (SPEC §4: comparisons are interleaved in one run): every round runs each
 * trial once, and the order rotates by one each round (A B C, B C A, C A B, …) so that no trial always
 * follows the same neighbour (which would leave it a warm or a cold cache, or a clock that just rose).
 * Sample {@code r} of every trial comes from the same round, so ratios of trial samples are paired.
 * Not thread-safe.
 */
public final class InterleavedSampler {

    /** One timed call; {@code round} lets a trial rotate its inputs (weight copies, probe slices). */
    @FunctionalInterface
    public interface Trial {
        /** Untimed work before the timed call (e.g. clearing a KV cache). */
        default void prepare(int round) {
        }

        void run(int round);
    }

    private final List<String> names;
    private final List<Trial> trials;
    private double[][] seconds;
    private int rounds;      // measured rounds so far
    private int roundIndex;  // every round run, warmup included: drives the rotation
    private int warmupRounds;
    private boolean budgetCut;

    public InterleavedSampler(List<String> names, List<Trial> trials) {
        if (names.size() != trials.size() || trials.isEmpty()) {
            throw new IllegalArgumentException("need as many names as trials, at least one");
        }
        this.names = List.copyOf(names);
        this.trials = List.copyOf(trials);
        this.seconds = new double[trials.size()][16];
    }

    public void warmup(int n) {
        for (int i = 0; i < n; i++) {
            runRound(false);
            warmupRounds++;
        }
    }

    /**
     * Runs up to {@code n} more measured rounds; stops early when {@code maxSeconds} are spent and at least
     * {@link SamplingPlan#MIN_ROUNDS} rounds were measured in this call.
     *
     * @param progress receives a line about every 5 s; may be null
     * @return rounds measured by this call
     */
    public int measure(int n, double maxSeconds, Consumer<String> progress) {
        long start = System.nanoTime();
        long budget = (long) (maxSeconds * 1e9);
        long lastLog = start;
        int done = 0;
        while (done < n) {
            runRound(true);
            done++;
            long now = System.nanoTime();
            if (progress != null && now - lastLog > 5_000_000_000L) {
                progress.accept(String.format(java.util.Locale.ROOT, "%d/%d rounds, %.0f s", done, n, (now - start) / 1e9));
                lastLog = now;
            }
            if (now - start > budget && done >= SamplingPlan.MIN_ROUNDS && done < n) {
                budgetCut = true;
                break;
            }
        }
        return done;
    }

    private void runRound(boolean measured) {
        int n = trials.size();
        if (measured && rounds == seconds[0].length) {
            for (int i = 0; i < n; i++) {
                seconds[i] = Arrays.copyOf(seconds[i], rounds * 2);
            }
        }
        for (int j = 0; j < n; j++) {
            int i = (j + roundIndex) % n;
            Trial t = trials.get(i);
            t.prepare(roundIndex);
            long t0 = System.nanoTime();
            t.run(roundIndex);
            long dt = System.nanoTime() - t0;
            if (measured) {
                seconds[i][rounds] = Math.max(dt, 1) / 1e9;
            }
        }
        roundIndex++;
        if (measured) {
            rounds++;
        }
    }

    /** Seconds of every measured round of trial {@code i}, in round order. */
    public double[] seconds(int i) {
        return Arrays.copyOf(seconds[i], rounds);
    }

    public int rounds() {
        return rounds;
    }

    public int warmupRounds() {
        return warmupRounds;
    }

    /** Whether a time budget ended a {@link #measure} call before its round count. */
    public boolean budgetCut() {
        return budgetCut;
    }

    public List<String> names() {
        return names;
    }
}
