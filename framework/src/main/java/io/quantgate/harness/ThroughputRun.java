package io.quantgate.harness;

import io.quantgate.backend.BackendModel;
import io.quantgate.kernel.LinearKernel;
import io.quantgate.kernel.Linear;
import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.format.QuantizedMatrix;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.results.model.Range;
import io.quantgate.results.model.SampleStats;
import io.quantgate.results.model.ThroughputRow;

import io.quantgate.kernels.nativeimpl.WeightArena;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * One {@link ThroughputPlan} being measured: its subjects' trials and the bandwidth probe in one {@link Interleaved}
 * loop — the probe one more trial of each kernel round, and a read just before and just after every sample of a model
 * round (a round of tg128s lasts seconds). {@link #measure} appends rounds (an inconclusive gate asks for more); {@link #rows} turns what was measured so
 * far into one {@link ThroughputRow} per comparison. Closing frees kernel weights (engines belong to the
 * {@link ModelPool}).
 */
public final class ThroughputRun implements AutoCloseable {
    /** Seeds of the random prompt (pp) and decode tokens (tg): every engine runs exactly the same tokens. */
    static final long PROMPT_SEED = 42;
    static final long DECODE_SEED = 43;
    /** Probe slices in each read around a model sample. */
    static final int BRACKET_SLICES = 8;

    /** What one timed call of a subject amounts to. */
    private record Cost(double units, double bytes, double flops, double decodeBytesPerToken) {
    }

    private final ThroughputPlan plan;
    private final BandwidthProbe probe;
    private final Consumer<String> progress;
    private final Arena arena = WeightArena.ofShared(); // kernel working sets on the memory the models use
    private final List<Linear> prepared = new ArrayList<>();
    private final List<Cost> costs = new ArrayList<>();
    private final Interleaved loop;
    private boolean warm;

    ThroughputRun(ThroughputPlan plan, ModelPool pool, BandwidthProbe probe, MemorySizing sizing,
                  Function<String, LinearKernel> kernels, Consumer<String> progress) {
        this.plan = plan;
        this.probe = probe;
        this.progress = progress;
        List<Trial> trials = new ArrayList<>();
        try {
            for (int i = 0; i < plan.subjects().size(); i++) {
                Subject s = plan.subjects().get(i);
                Trial t = plan.workload() instanceof Workload.Kernel k
                        ? kernelTrial(kernels.apply(s.kernel()), s, k, sizing.workingSetBytes(), seed(s, k))
                        : modelTrial(s, plan.workload(), pool);
                trials.add(guarded(i, t));
            }
            if (plan.workload() instanceof Workload.Kernel) {
                // a kernel round lasts tens of milliseconds: the probe is one more trial of it
                trials.add(probe::read);
                this.loop = new Interleaved(trials, plan.sampling().pauseMillis(), plan.sampling().minSampleMillis());
            } else {
                // a model round lasts seconds (a tg128 each subject), longer than this VM's memory keeps one
                // bandwidth: every sample is bracketed by a probe read just before and just after it, each of
                // BRACKET_SLICES slices (≈ 10-20 ms: one slice, 1-2 ms, caught passing dips of the bandwidth)
                boolean[] all = new boolean[trials.size()];
                java.util.Arrays.fill(all, true);
                Trial bracket = call -> {
                    for (int k = 0; k < BRACKET_SLICES; k++) {
                        probe.read(call * BRACKET_SLICES + k);
                    }
                };
                this.loop = new Interleaved(trials, plan.sampling().pauseMillis(), plan.sampling().minSampleMillis(),
                        bracket, all);
            }
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    private Trial modelTrial(Subject s, Workload w, ModelPool pool) {
        if (pool == null) {
            throw new IllegalArgumentException(w.label() + " needs a model: no engines were given");
        }
        int tokens = w.tokens();
        int depth = w instanceof Workload.Decode d ? d.depth() : 0;
        BackendModel m = pool.open(s, depth + tokens);
        int vocab = pool.weights().config().vocabSize();
        ModelCost cost = ModelCost.of(pool.weights(), s.config());
        if (w instanceof Workload.Decode) {
            // an engine that cannot decode at depth fails its first round (guarded: bench backends measures the others)
            String refused = depth == 0 ? null : m.cannotDecodeAfterPrompt()
                    .map(why -> w.label() + " (decode after a " + depth + "-token prompt): " + why).orElse(null);
            int[] gen = new SplittableRandom(DECODE_SEED).ints(tokens, 0, vocab).toArray();
            // the prompt before a decode at depth: untimed, in prepare (llama-bench's -d fills the cache the same way)
            int[] prompt = depth > 0 ? new SplittableRandom(PROMPT_SEED).ints(depth, 0, vocab).toArray() : null;
            double perToken = cost.decodeBytesPerToken(depth, tokens);
            costs.add(new Cost(tokens, tokens * perToken, Double.NaN, perToken));
            return new Trial() {
                @Override
                public void prepare(int round) {
                    if (refused != null) {
                        throw new UnsupportedOperationException(refused);
                    }
                    m.reset();
                    if (prompt != null) {
                        m.prefill(prompt);
                    }
                }

                @Override
                public void run(int round) {
                    m.decodeAfter(depth, gen);
                }
            };
        }
        int[] prompt = new SplittableRandom(PROMPT_SEED).ints(tokens, 0, vocab).toArray();
        // a prompt that fits one batch reads every weight once; one pass per batch of QuantGate's engine
        double passes = Math.ceil(tokens / (double) io.quantgate.runtime.model.LlamaModel.DEFAULT_MAX_BATCH);
        costs.add(new Cost(tokens, passes * cost.weightBytesPerToken(), Double.NaN, Double.NaN));
        return new Trial() {
            @Override
            public void prepare(int round) {
                m.reset();
            }

            @Override
            public void run(int round) {
                m.prefill(prompt);
            }
        };
    }

    private Trial kernelTrial(LinearKernel kernel, Subject s, Workload.Kernel w, long workingSet, long seed) {
        kernel.unavailableReason().ifPresent(why -> {
            throw new ModelPool.BackendUnavailableException("kernel '" + s.kernel() + "' is not available here: " + why);
        });
        ConfigId id = s.configId();
        ActivationMode act = s.effectiveActivations();
        kernel.cannotRun(id, act, w.n(), w.k()).ifPresent(why -> {
            throw new IllegalArgumentException("kernel '" + s.kernel() + "' cannot run " + id + " at " + w.n() + "x"
                    + w.k() + ": " + why);
        });
        long bytes = QuantizedMatrix.packedBytes(id, w.n(), w.k());
        int count = (int) Math.max(2, (workingSet + bytes - 1) / bytes);
        Linear[] copies = new Linear[count];
        for (int c = 0; c < count; c++) {
            copies[c] = Linear.prepare(kernel, QuantizedMatrix.random(id, w.n(), w.k(), seed + c, arena), act);
            prepared.add(copies[c]);
        }
        int m = w.batch();
        MemorySegment x = arena.allocate((long) m * w.k() * Float.BYTES, 64);
        SplittableRandom rnd = new SplittableRandom(7L + m);
        for (long i = 0; i < (long) m * w.k(); i++) {
            x.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (rnd.nextDouble() * 2 - 1));
        }
        MemorySegment y = arena.allocate((long) m * w.n() * Float.BYTES, 64);
        costs.add(new Cost(bytes / 1e9, bytes, 2.0 * m * w.n() * w.k(), Double.NaN));
        return r -> copies[r % copies.length].gemm(x, m, y);
    }

    /**
     * Kernel subjects of the same format and shape get the very same weights (the same seeds), each in its own
     * memory: two kernels compared on one config compute on identical matrices.
     */
    private static long seed(Subject s, Workload.Kernel k) {
        return 1000L + 1_000_003L * Math.floorMod((s.configLabel() + "/" + k.n() + "x" + k.k()).hashCode(), 1 << 20);
    }

    /** A trial whose failure names its subject, so a caller can drop it and measure the others. */
    private Trial guarded(int index, Trial t) {
        Subject s = plan.subjects().get(index);
        return new Trial() {
            @Override
            public void prepare(int round) {
                try {
                    t.prepare(round);
                } catch (RuntimeException e) {
                    throw new SubjectFailedException(index, s, e);
                }
            }

            @Override
            public void run(int round) {
                try {
                    t.run(round);
                } catch (RuntimeException e) {
                    throw new SubjectFailedException(index, s, e);
                }
            }
        };
    }

    /** A subject's engine or kernel failed while being measured. */
    public static final class SubjectFailedException extends IllegalStateException {
        private final int index;

        SubjectFailedException(int index, Subject subject, RuntimeException cause) {
            super(subject.describe() + " failed: " + cause.getMessage(), cause);
            this.index = index;
        }

        /** Index of the failed subject in the plan's subjects. */
        public int index() {
            return index;
        }
    }

    public ThroughputPlan plan() {
        return plan;
    }

    /**
     * Runs the plan's warmup (once: its rounds, within a fifth of the time budget) and up to {@code rounds} measured
     * rounds within the plan's time budget.
     */
    public int measure(int rounds) {
        if (!warm) {
            loop.warmup(plan.sampling().warmup(), plan.sampling().maxSeconds() / 5);
            warm = true;
        }
        return loop.measure(rounds, plan.sampling().maxSeconds(), progress);
    }

    public int rounds() {
        return loop.rounds();
    }

    /** One row per comparison of the plan, from every round measured so far. */
    public List<ThroughputRow> rows() {
        List<ThroughputRow> out = new ArrayList<>();
        for (ThroughputPlan.Comparison c : plan.comparisons()) {
            out.add(row(c.subject(), c.reference()));
        }
        return out;
    }

    private ThroughputRow row(int subject, int reference) {
        double[] sA = loop.seconds(subject);
        int r = sA.length;
        if (r == 0) {
            throw new IllegalStateException("no measured rounds yet");
        }
        Sampling sampling = plan.sampling();
        double sigma = sampling.outlierSigma();
        double level = sampling.confidence();
        Cost a = costs.get(subject);
        double[] rates = new double[r];
        double[] probeGbs = new double[r];
        double[] fraction = new double[r];
        if (loop.bracketed(subject)) {
            // the mean of the two reads around the sample (GB/s of each): the bandwidth of the moments it ran in
            double[] before = loop.bracketBefore(subject);
            double[] after = loop.bracketAfter(subject);
            double bytes = (double) BRACKET_SLICES * probe.bytesPerRead();
            for (int i = 0; i < r; i++) {
                probeGbs[i] = (bytes / before[i] + bytes / after[i]) / 2 / 1e9;
            }
        } else {
            double[] sP = loop.seconds(plan.subjects().size()); // the probe, the last trial of the round
            for (int i = 0; i < r; i++) {
                probeGbs[i] = probe.bytesPerRead() / sP[i] / 1e9;
            }
        }
        for (int i = 0; i < r; i++) {
            rates[i] = a.units() / sA[i];
            fraction[i] = a.bytes() / sA[i] / 1e9 / probeGbs[i];
        }
        SampleStats probeStats = SampleStats.of(probeGbs, sigma);
        double[] sB = null;
        double[] refRates = null;
        double[] speedups = null;
        SampleStats refRate = null;
        SampleStats speedup = null;
        Range speedupCi = Range.NONE;
        if (reference >= 0) {
            sB = loop.seconds(reference);
            Cost b = costs.get(reference);
            refRates = new double[r];
            speedups = new double[r];
            for (int i = 0; i < r; i++) {
                refRates[i] = b.units() / sB[i];
                // both calls do the same work (same shape and batch, or the same tokens): the speedup is the time
                // ratio (a ratio of GB/s would not be: two configs read different numbers of bytes)
                speedups[i] = sB[i] / sA[i];
            }
            refRate = SampleStats.of(refRates, sigma);
            speedup = SampleStats.of(speedups, sigma);
            speedupCi = range(Bootstrap.medianCi(SampleStats.dropOutliers(speedups, sigma), level));
        }
        Workload w = plan.workload();
        Workload.Kernel kw = w instanceof Workload.Kernel k ? k : null;
        double gflops = Double.isNaN(a.flops()) ? Double.NaN : a.flops() / SampleStats.median(sA) / 1e9;
        double ceiling = Double.isNaN(a.decodeBytesPerToken()) ? Double.NaN
                : probeStats.median() * 1e9 / a.decodeBytesPerToken();
        return new ThroughputRow(w.label(), w.level(), plan.subjects().get(subject).describe(),
                reference < 0 ? null : plan.subjects().get(reference).describe(), kw == null ? null : kw.n(),
                kw == null ? null : kw.k(), kw == null ? null : kw.batch(), kw == null ? w.tokens() : null, w.unit(),
                a.bytes(), loop.warmupRounds(), r, loop.budgetCut(), level, SampleStats.of(rates, sigma),
                range(Bootstrap.medianCi(SampleStats.dropOutliers(rates, sigma), level)), refRate, speedup,
                speedupCi, probeStats, SampleStats.of(fraction, sigma), gflops, ceiling,
                new ThroughputRow.RowSamples(sA, sB, probeGbs, rates, refRates, speedups));
    }

    private static Range range(double[] lowHigh) {
        return new Range(lowHigh[0], lowHigh[1]);
    }

    @Override
    public void close() {
        RuntimeException first = null;
        for (Linear p : prepared) {
            try {
                p.close();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        prepared.clear();
        arena.close();
        if (first != null) {
            throw first;
        }
    }
}
