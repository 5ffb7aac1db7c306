package io.quantgate.evaluation.throughput;

import io.quantgate.results.model.SampleStats;
import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.format.QuantizedMatrix;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.kernels.nativeimpl.NativeKernels;
import io.quantgate.runtime.model.LlamaModel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * A configuration, its reference and a {@link BandwidthProbe}, timed in the same interleaved rounds
 * ({@link InterleavedSampler}); {@link #row} turns the raw times into a {@link ThroughputRow}. Measuring may
 * continue after a row was taken ({@link #measure} again appends rounds), which is how an inconclusive gate
 * re-measures. Not thread-safe, and the native kernels' thread pool takes one caller at a time: callers
 * serialize measurements.
 *
 * <ul>
 *   <li>{@link #kernel}: {@code y = x·Wᵀ} through {@link NativeKernels#gemm} on seeded random weights; each
 *       case rotates over its own copies, enough that the working set is at least {@code workingSetBytes}
 *       (pass 4 × the last-level cache so every call streams from DRAM).</li>
 *   <li>{@link #prefill}: {@code tokens} prompt positions in one batch from an empty KV cache, logits of the
 *       last position only (llama-bench's pp).</li>
 *   <li>{@link #decode}: {@code tokens} single-token steps from an empty cache (llama-bench's tg); the cache
 *       is cleared outside the timed region.</li>
 * </ul>
 */
public final class ThroughputBench implements AutoCloseable {
    private static final int CONFIG = 0;
    private static final int REFERENCE = 1;
    private static final int PROBE = 2;

    private final String label;
    private final String level;
    private final String config;
    private final String reference;
    private final String activations;
    private final int n;
    private final int k;
    private final int batch;
    private final int tokens;
    private final String unit;
    private final double bytesPerCall;
    private final double refBytesPerCall;
    private final double workPerCall;     // unit numerator: GB per call (kernel) or tokens per call
    private final double refWorkPerCall;
    private final double flopsPerCall;    // kernel only
    private final double bytesPerToken;   // decode only: for the ceiling
    private final BandwidthProbe probe;
    private final InterleavedSampler sampler;
    private final Arena arena;            // kernel weights and activations; null at model level

    private ThroughputBench(String label, String level, String config, String reference, String activations, int n, int k,
                            int batch, int tokens, String unit, double bytesPerCall, double refBytesPerCall,
                            double workPerCall, double refWorkPerCall, double flopsPerCall, double bytesPerToken,
                            BandwidthProbe probe, InterleavedSampler.Trial configTrial,
                            InterleavedSampler.Trial referenceTrial, Arena arena) {
        this.label = label;
        this.level = level;
        this.config = config;
        this.reference = reference;
        this.activations = activations;
        this.n = n;
        this.k = k;
        this.batch = batch;
        this.tokens = tokens;
        this.unit = unit;
        this.bytesPerCall = bytesPerCall;
        this.refBytesPerCall = refBytesPerCall;
        this.workPerCall = workPerCall;
        this.refWorkPerCall = refWorkPerCall;
        this.flopsPerCall = flopsPerCall;
        this.bytesPerToken = bytesPerToken;
        this.probe = probe;
        this.arena = arena;
        this.sampler = new InterleavedSampler(List.of(config, "reference " + reference, "probe"),
                List.of(configTrial, referenceTrial, probe::read));
    }

    /**
     * GEMV/GEMM of one weight shape.
     *
     * @param n               output rows of W
     * @param k               inputs (columns) of W
     * @param m               activation rows (1 = GEMV)
     * @param workingSetBytes each case rotates over copies of its weights totalling at least this
     */
    public static ThroughputBench kernel(ConfigId config, ConfigId reference, ActivationMode act, int n, int k, int m,
                                         long workingSetBytes, BandwidthProbe probe) {
        if (n < 1 || k < 1 || m < 1) {
            throw new IllegalArgumentException("kernel shape needs N, K and M >= 1, got N=" + n + " K=" + k + " M=" + m);
        }
        Arena arena = Arena.ofShared();
        try {
            QuantizedMatrix[] a = copies(config, n, k, workingSetBytes, 1000, arena);
            QuantizedMatrix[] b = copies(reference, n, k, workingSetBytes, 500_000, arena);
            MemorySegment x = arena.allocate((long) m * k * Float.BYTES, 64);
            SplittableRandom rnd = new SplittableRandom(7L + m);
            for (long i = 0; i < (long) m * k; i++) {
                x.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (rnd.nextDouble() * 2 - 1));
            }
            MemorySegment y = arena.allocate((long) m * n * Float.BYTES, 64);
            ActivationMode actA = config.format().isDense() ? ActivationMode.FP32 : act;
            ActivationMode actB = reference.format().isDense() ? ActivationMode.FP32 : act;
            InterleavedSampler.Trial ta = r -> NativeKernels.gemm(a[r % a.length], actA, x, m, y);
            InterleavedSampler.Trial tb = r -> NativeKernels.gemm(b[r % b.length], actB, x, m, y);
            double bytesA = a[0].packedBytes();
            double bytesB = b[0].packedBytes();
            return new ThroughputBench(n + "x" + k + " M=" + m, "kernel", config.toString(), reference.toString(),
                    act.name().toLowerCase(Locale.ROOT), n, k, m, 0, "GB/s", bytesA, bytesB, bytesA / 1e9, bytesB / 1e9,
                    2.0 * m * n * k, Double.NaN, probe, ta, tb, arena);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static QuantizedMatrix[] copies(ConfigId id, int n, int k, long workingSet, long seed, Arena arena) {
        QuantizedMatrix first = QuantizedMatrix.random(id, n, k, seed, arena);
        int count = (int) Math.max(2, (workingSet + first.packedBytes() - 1) / first.packedBytes());
        QuantizedMatrix[] out = new QuantizedMatrix[count];
        out[0] = first;
        for (int i = 1; i < count; i++) {
            out[i] = QuantizedMatrix.random(id, n, k, seed + i, arena);
        }
        return out;
    }

    /** Prefill of {@code tokens} random prompt tokens (pp); both models must allow that many positions. */
    public static ThroughputBench prefill(LlamaModel model, String config, LlamaModel ref, String reference, int tokens,
                                          BandwidthProbe probe) {
        checkContext(model, tokens, config);
        checkContext(ref, tokens, reference);
        int[] prompt = new SplittableRandom(42).ints(tokens, 0, model.config().vocabSize()).toArray();
        InterleavedSampler.Trial ta = resetThen(model, m -> m.forwardBatch(prompt, 0, tokens - 1));
        InterleavedSampler.Trial tb = resetThen(ref, m -> m.forwardBatch(prompt, 0, tokens - 1));
        // a prompt that fits one batch reads every weight once; longer prompts once per batch
        double passesA = Math.ceil(tokens / (double) model.maxBatch());
        double passesB = Math.ceil(tokens / (double) ref.maxBatch());
        return new ThroughputBench("pp" + tokens, "prefill", config, reference,
                model.activationMode().name().toLowerCase(Locale.ROOT), 0, 0, 0, tokens, "tokens/s",
                passesA * model.weightBytesPerToken(), passesB * ref.weightBytesPerToken(), tokens, tokens, Double.NaN,
                Double.NaN, probe, ta, tb, null);
    }

    /** Decode of {@code tokens} single-token steps from an empty cache (tg). */
    public static ThroughputBench decode(LlamaModel model, String config, LlamaModel ref, String reference, int tokens,
                                         BandwidthProbe probe) {
        checkContext(model, tokens, config);
        checkContext(ref, tokens, reference);
        int[] gen = new SplittableRandom(43).ints(tokens, 0, model.config().vocabSize()).toArray();
        InterleavedSampler.Trial ta = resetThen(model, m -> {
            for (int p = 0; p < tokens; p++) {
                m.forward(gen[p], p);
            }
        });
        InterleavedSampler.Trial tb = resetThen(ref, m -> {
            for (int p = 0; p < tokens; p++) {
                m.forward(gen[p], p);
            }
        });
        // bytes a step reads, averaged over the positions (the KV cache grows by one each step)
        double perTokenA = model.weightBytesPerToken() + (model.kvBytesRead(0) + model.kvBytesRead(tokens - 1)) / 2.0;
        double perTokenB = ref.weightBytesPerToken() + (ref.kvBytesRead(0) + ref.kvBytesRead(tokens - 1)) / 2.0;
        return new ThroughputBench("tg" + tokens, "decode", config, reference,
                model.activationMode().name().toLowerCase(Locale.ROOT), 0, 0, 0, tokens, "tokens/s",
                tokens * perTokenA, tokens * perTokenB, tokens, tokens, Double.NaN, perTokenA, probe, ta, tb, null);
    }

    /**
     * Prefill or decode of {@code config} on another engine ({@code engineRun} runs one pp or tg workload from
     * an empty cache), interleaved with {@code reference} on the native kernels and the probe. Byte counts
     * come from {@code sameWeights}, the native model of the same config (the engine runs the same weights).
     */
    public static ThroughputBench engine(boolean decode, String config, String engineLabel,
                                         InterleavedSampler.Trial engineRun, LlamaModel sameWeights, LlamaModel ref,
                                         String reference, int tokens, BandwidthProbe probe) {
        checkContext(ref, tokens, reference);
        int[] prompt = new SplittableRandom(42).ints(tokens, 0, ref.config().vocabSize()).toArray();
        int[] gen = new SplittableRandom(43).ints(tokens, 0, ref.config().vocabSize()).toArray();
        InterleavedSampler.Trial tb = decode ? resetThen(ref, m -> {
            for (int p = 0; p < tokens; p++) {
                m.forward(gen[p], p);
            }
        }) : resetThen(ref, m -> m.forwardBatch(prompt, 0, tokens - 1));
        double perTokenA = sameWeights.weightBytesPerToken()
                + (decode ? (sameWeights.kvBytesRead(0) + sameWeights.kvBytesRead(tokens - 1)) / 2.0 : 0);
        double perTokenB = ref.weightBytesPerToken() + (decode ? (ref.kvBytesRead(0) + ref.kvBytesRead(tokens - 1)) / 2.0 : 0);
        return new ThroughputBench((decode ? "tg" : "pp") + tokens, decode ? "decode" : "prefill", config, reference,
                engineLabel, 0, 0, 0, tokens, "tokens/s", decode ? tokens * perTokenA : perTokenA,
                decode ? tokens * perTokenB : perTokenB, tokens, tokens, Double.NaN, decode ? perTokenA : Double.NaN,
                probe, engineRun, tb, null);
    }

    private static void checkContext(LlamaModel m, int tokens, String name) {
        if (tokens < 1 || tokens > m.config().seqLen()) {
            throw new IllegalArgumentException(tokens + " tokens do not fit the context of " + m.config().seqLen()
                    + " positions of model variant " + name);
        }
    }

    private static InterleavedSampler.Trial resetThen(LlamaModel model, Consumer<LlamaModel> body) {
        return new InterleavedSampler.Trial() {
            @Override
            public void prepare(int round) {
                model.reset();
            }

            @Override
            public void run(int round) {
                body.accept(model);
            }
        };
    }

    public void warmup(int rounds) {
        sampler.warmup(rounds);
    }

    /** Appends up to {@code rounds} measured rounds (see {@link InterleavedSampler#measure}). */
    public int measure(int rounds, double maxSeconds, Consumer<String> progress) {
        return sampler.measure(rounds, maxSeconds, progress);
    }

    public String label() {
        return label;
    }

    /** Statistics of everything measured so far. */
    public ThroughputRow row(double outlierSigma, double level) {
        double[] sA = sampler.seconds(CONFIG);
        double[] sB = sampler.seconds(REFERENCE);
        double[] sP = sampler.seconds(PROBE);
        int r = sA.length;
        if (r == 0) {
            throw new IllegalStateException("no measured rounds yet");
        }
        double[] rateA = new double[r];
        double[] rateB = new double[r];
        double[] probeGbs = new double[r];
        double[] ratio = new double[r];
        double[] fraction = new double[r];
        for (int i = 0; i < r; i++) {
            rateA[i] = workPerCall / sA[i];
            rateB[i] = refWorkPerCall / sB[i];
            probeGbs[i] = probe.bytesPerRead() / sP[i] / 1e9;
            // both calls do the same work (same shape and batch, or the same tokens): the speedup is the time ratio.
            // (A ratio of GB/s would not be: the two configs read different numbers of bytes.)
            ratio[i] = sB[i] / sA[i];
            fraction[i] = bytesPerCall / sA[i] / 1e9 / probeGbs[i];
        }
        SampleStats rate = SampleStats.of(rateA, outlierSigma);
        SampleStats probeStats = SampleStats.of(probeGbs, outlierSigma);
        double[] keptRatios = SampleStats.dropOutliers(ratio, outlierSigma);
        double[] keptRates = SampleStats.dropOutliers(rateA, outlierSigma);
        double gflops = Double.isNaN(flopsPerCall) ? Double.NaN : flopsPerCall / SampleStats.median(sA) / 1e9;
        double ceiling = Double.isNaN(bytesPerToken) ? Double.NaN : probeStats.median() * 1e9 / bytesPerToken;
        return new ThroughputRow(label, this.level, config, reference, activations, n, k, batch, tokens, unit,
                bytesPerCall, sA, sB, probeGbs, rateA, rateB, ratio, rate, Bootstrap.medianCi(keptRates, level),
                SampleStats.of(rateB, outlierSigma), probeStats, SampleStats.of(ratio, outlierSigma),
                Bootstrap.medianCi(keptRatios, level), SampleStats.of(fraction, outlierSigma), gflops, ceiling,
                sampler.warmupRounds(), r, sampler.budgetCut(), outlierSigma, level);
    }

    /** Bytes the reference reads per call (for reports). */
    public double referenceBytesPerCall() {
        return refBytesPerCall;
    }

    @Override
    public void close() {
        if (arena != null) {
            arena.close();
        }
    }
}
