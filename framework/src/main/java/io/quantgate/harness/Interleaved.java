package io.quantgate.harness;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * The interleaved round loop, the only one in QuantGate (SPEC §4: comparisons are interleaved in one run). Every round
 * runs each trial once, and the order rotates by one each round (A B C, B C A, C A B, …) so that no trial always
 * follows the same neighbour (which would leave it a warm or a cold cache, or a clock that just rose). Sample
 * {@code r} of every trial comes from the same round, so ratios of trial samples are paired. {@link #measure} may be
 * called again to append rounds (how an inconclusive gate re-measures). Not thread-safe.
 */
final class Interleaved {
    private final List<Trial> trials;
    private final int pauseMillis;
    private double[][] seconds;
    private int rounds;      // measured rounds so far
    private int roundIndex;  // every round run, warmup included: drives the rotation
    private int warmupRounds;
    private boolean budgetCut;

    Interleaved(List<Trial> trials, int pauseMillis) {
        if (trials.isEmpty()) {
            throw new IllegalArgumentException("nothing to measure: no trials");
        }
        this.trials = List.copyOf(trials);
        this.pauseMillis = pauseMillis;
        this.seconds = new double[trials.size()][16];
    }

    /** Up to {@code n} unmeasured rounds, stopping (after at least one) once {@code maxSeconds} are spent. */
    void warmup(int n, double maxSeconds) {
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            runRound(false);
            warmupRounds++;
            if (System.nanoTime() - start > maxSeconds * 1e9) {
                break;
            }
        }
    }

    /**
     * Runs up to {@code n} more measured rounds; stops early when {@code maxSeconds} are spent and at least
     * {@link Sampling#MIN_ROUNDS} rounds were measured in this call.
     *
     * @param progress receives a line about every 5 s; may be null
     * @return rounds measured by this call
     */
    int measure(int n, double maxSeconds, Consumer<String> progress) {
        long start = System.nanoTime();
        long budget = (long) (maxSeconds * 1e9);
        long lastLog = start;
        int done = 0;
        while (done < n) {
            runRound(true);
            done++;
            long now = System.nanoTime();
            if (progress != null && now - lastLog > 5_000_000_000L) {
                progress.accept(String.format(Locale.ROOT, "%d/%d rounds, %.0f s", done, n, (now - start) / 1e9));
                lastLog = now;
            }
            if (now - start > budget && done >= Sampling.MIN_ROUNDS && done < n) {
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
            pause();
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

    private void pause() {
        if (pauseMillis > 0) {
            try {
                Thread.sleep(pauseMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while measuring", e);
            }
        }
    }

    /** Seconds of every measured round of trial {@code i}, in round order. */
    double[] seconds(int i) {
        return Arrays.copyOf(seconds[i], rounds);
    }

    int rounds() {
        return rounds;
    }

    int warmupRounds() {
        return warmupRounds;
    }

    /** Whether a time budget ended a {@link #measure} call before its round count. */
    boolean budgetCut() {
        return budgetCut;
    }
}
