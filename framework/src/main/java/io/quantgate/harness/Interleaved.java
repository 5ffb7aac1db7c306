package io.quantgate.harness;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * The interleaved round loop, the only one in QuantGate (SPEC §4: comparisons are interleaved in one run). Every round
 * runs each trial once — a trial whose call is shorter than the least sample time several times in a row, each call
 * timed alone and the sample their mean (as a JMH iteration spans many calls) — and the order rotates by one each round (A B C, B C A, C A B, …) so that no trial always
 * follows the same neighbour (which would leave it a warm or a cold cache, or a clock that just rose). Sample
 * {@code r} of every trial comes from the same round, so ratios of trial samples are paired. {@link #measure} may be
 * called again to append rounds (how an inconclusive gate re-measures).
 *
 * <p>A <em>bracket</em> (the bandwidth probe, for model workloads) may be run right before (ahead of a sample's
 * untimed lead-in call) and right after every measured sample of chosen trials, each read timed alone and kept beside
 * the sample: a sample of seconds (a tg128) is then
 * paired with the memory bandwidth of the moments around it rather than with one read elsewhere in a round that
 * lasts several seconds — this VM's memory bandwidth switches between ≈ 30 and ≈ 60 GB/s within a second.
 * Not thread-safe.
 */
final class Interleaved {
    private final List<Trial> trials;
    private final int pauseMillis;
    private final long minSampleNanos;
    private final int[] callsPerSample;  // decided once, from the first timed calls
    private final int[] callIndex;       // every call of each trial: drives the trial's own rotation (weight copies)
    private final Trial bracket;         // null: no bracket reads
    private final boolean[] bracketed;   // trials whose samples the bracket encloses
    private int bracketCalls;            // every bracket read, numbered: the bracket's own call index
    private double[][] bracketBefore;    // [trial][round] seconds of the bracket read just before the sample
    private double[][] bracketAfter;     // ... and just after it
    private boolean calibrated;
    private double[][] seconds;
    private int rounds;      // measured rounds so far
    private int roundIndex;  // every round run, warmup included: drives the rotation
    private int warmupRounds;
    private boolean budgetCut;

    Interleaved(List<Trial> trials, int pauseMillis) {
        this(trials, pauseMillis, 0);
    }

    /**
     * @param minSampleMillis least duration of one sample: a trial whose call is shorter runs
     *                        {@code ceil(minSampleMillis / call time)} calls per round (at most 10,000), each timed
     *                        alone, and its sample is their mean; 0 for one call per sample
     */
    Interleaved(List<Trial> trials, int pauseMillis, double minSampleMillis) {
        this(trials, pauseMillis, minSampleMillis, null, null);
    }

    /**
     * @param bracket   run (and timed alone) right before and right after every sample of a bracketed trial; null
     *                  for none
     * @param bracketed which trials the bracket encloses (one flag per trial); ignored without a bracket
     */
    Interleaved(List<Trial> trials, int pauseMillis, double minSampleMillis, Trial bracket, boolean[] bracketed) {
        if (trials.isEmpty()) {
            throw new IllegalArgumentException("nothing to measure: no trials");
        }
        if (bracket != null && (bracketed == null || bracketed.length != trials.size())) {
            throw new IllegalArgumentException("a bracket needs one flag per trial");
        }
        this.bracket = bracket;
        this.bracketed = bracket == null ? new boolean[trials.size()] : bracketed.clone();
        this.bracketBefore = new double[trials.size()][16];
        this.bracketAfter = new double[trials.size()][16];
        this.trials = List.copyOf(trials);
        this.pauseMillis = pauseMillis;
        this.minSampleNanos = (long) (minSampleMillis * 1e6);
        this.seconds = new double[trials.size()][16];
        this.callsPerSample = new int[trials.size()];
        this.callIndex = new int[trials.size()];
        java.util.Arrays.fill(callsPerSample, 1);
    }

    /** Calls per sample of trial {@code i} (1 until calibrated). */
    int callsPerSample(int i) {
        return callsPerSample[i];
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
                bracketBefore[i] = Arrays.copyOf(bracketBefore[i], rounds * 2);
                bracketAfter[i] = Arrays.copyOf(bracketAfter[i], rounds * 2);
            }
        }
        long[] firstCall = calibrated || minSampleNanos == 0 ? null : new long[n];
        for (int j = 0; j < n; j++) {
            int i = (j + roundIndex) % n;
            Trial t = trials.get(i);
            long total = 0;
            int calls = callsPerSample[i];
            // the bracket's first read comes before the lead-in call, so that the call still warms what the timed
            // calls use (the probe streams hundreds of MiB through every core's caches); warmup rounds read none. A
            // sample of one call reads it after that call's prepare instead: a decode at depth prepares with a prompt
            // of seconds, which would leave the read that far from the timed call
            boolean bracket = bracketed[i] && measured;
            double before = bracket && calls > 1 ? bracketRead() : Double.NaN;
            if (calls > 1) {
                // one untimed lead-in call: the first call after another trial pays for waking this trial's threads
                // and caches, which back-to-back calls in real use do not
                int call = callIndex[i]++;
                t.prepare(call);
                t.run(call);
            }
            for (int c = 0; c < calls; c++) {
                int call = callIndex[i]++;
                t.prepare(call);
                if (bracket && calls == 1) {
                    before = bracketRead();
                }
                pause();
                long t0 = System.nanoTime();
                t.run(call);
                total += Math.max(System.nanoTime() - t0, 1);
            }
            double after = bracket ? bracketRead() : Double.NaN;
            if (firstCall != null) {
                firstCall[i] = total;
            }
            if (measured) {
                seconds[i][rounds] = total / 1e9 / calls;
                bracketBefore[i][rounds] = before;
                bracketAfter[i][rounds] = after;
            }
        }
        if (firstCall != null) {
            // one round timed: from now on every trial's sample spans at least minSampleNanos, and all trials take
            // the same count (the largest), so that whatever a sample costs beyond its calls weighs the same on each
            int most = 1;
            for (int i = 0; i < n; i++) {
                most = (int) Math.max(most, Math.min(10_000, (minSampleNanos + firstCall[i] - 1) / firstCall[i]));
            }
            for (int i = 0; i < n; i++) {
                callsPerSample[i] = firstCall[i] >= minSampleNanos ? 1 : most;
            }
            calibrated = true;
            if (measured) {
                // this round's samples were single calls: measure it again with the decided counts
                roundIndex++;
                runRound(true);
                return;
            }
        }
        roundIndex++;
        if (measured) {
            rounds++;
        }
    }

    /** One bracket read, its own preparation untimed: seconds. */
    private double bracketRead() {
        int call = bracketCalls++;
        bracket.prepare(call);
        long t0 = System.nanoTime();
        bracket.run(call);
        return Math.max(System.nanoTime() - t0, 1) / 1e9;
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

    /** Whether the bracket encloses trial {@code i}'s samples. */
    boolean bracketed(int i) {
        return bracketed[i];
    }

    /** Seconds of the bracket read just before each measured sample of trial {@code i} (NaN where not bracketed). */
    double[] bracketBefore(int i) {
        return Arrays.copyOf(bracketBefore[i], rounds);
    }

    /** Seconds of the bracket read just after each measured sample of trial {@code i} (NaN where not bracketed). */
    double[] bracketAfter(int i) {
        return Arrays.copyOf(bracketAfter[i], rounds);
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
