package io.quantgate.harness;

import io.quantgate.evaluation.ComparisonResult;
import io.quantgate.evaluation.LogitsModel;
import io.quantgate.evaluation.PerplexityComparison;
import io.quantgate.evaluation.PerplexityEvaluator;
import io.quantgate.evaluation.PerplexityOptions;
import io.quantgate.evaluation.PerplexityResult;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Function;

import io.quantgate.kernel.Kernels;
import io.quantgate.kernel.LinearKernel;

/**
 * The one measurement harness (modelled on JMH's runner): every entry point — the JUnit extension, {@code quantgate
 * bench kernels|model|backends|onnx-kernels}, {@code quantgate perplexity} — hands it a typed plan and gets the same
 * records back.
 * <ul>
 *   <li>{@link #throughput}: a {@link ThroughputPlan} (workload × subjects × comparisons) run as warmup, then
 *       interleaved rotated rounds with the bandwidth probe, within a time budget, with outliers dropped by the
 *       plan's sigma; a {@link RemeasurePolicy} may ask for more rounds after looking at the rows.</li>
 *   <li>{@link #perplexity}: a {@link PerplexityPlan} (subject vs baseline on the same chunks), re-measured with
 *       twice the chunks while the policy asks, up to the plan's limit.</li>
 * </ul>
 * One {@link BandwidthProbe} per harness, sized by {@link MemorySizing}. Measurements in one JVM are serialized through
 * {@link #lock()}: the native thread pool serves one caller, and two timings side by side would each measure the
 * other's load.
 */
public final class Harness implements AutoCloseable {
    private static final ReentrantLock LOCK = new ReentrantLock(true);

    private final MemorySizing sizing;
    private final Consumer<String> progress;
    private final Function<String, LinearKernel> kernels;
    private BandwidthProbe probe;

    /**
     * @param progress receives one line per step (plans, rows, re-measurements) and a line about every 5 s while
     *                 measuring; {@code null} for none
     */
    public Harness(MemorySizing sizing, Consumer<String> progress) {
        this(sizing, progress, Kernels::byName);
    }

    /** @param kernels finds a linear kernel by the name a subject gives (the classpath's, {@link Kernels#byName}) */
    public Harness(MemorySizing sizing, Consumer<String> progress, Function<String, LinearKernel> kernels) {
        this.sizing = sizing;
        this.progress = progress == null ? s -> { } : progress;
        this.kernels = kernels;
    }

    /** The lock every measurement, and every test body that runs a measured model, holds. */
    public static ReentrantLock lock() {
        return LOCK;
    }

    public MemorySizing sizing() {
        return sizing;
    }

    /** The probe, allocated (and filled) on first use. */
    public synchronized BandwidthProbe probe() {
        if (probe == null) {
            probe = new BandwidthProbe(sizing.probeBytes());
        }
        return probe;
    }

    /** Decides after each measurement whether to measure more. */
    @FunctionalInterface
    public interface RemeasurePolicy {
        /** Never measure more than the plan asks. */
        RemeasurePolicy NEVER = (rows, rounds) -> 0;

        /** Rounds to add given the rows so far ({@code rounds} measured), or 0 to stop. */
        int moreRounds(List<io.quantgate.results.model.ThroughputRow> rows, int rounds);
    }

    /** The rows of a throughput plan and how often the policy asked for more rounds. */
    public record ThroughputMeasurement(List<io.quantgate.results.model.ThroughputRow> rows, int remeasures) {
    }

    /**
     * Builds the plan's trials (engines from {@code pool}, which may be null for kernel plans), warms up, measures the
     * plan's rounds, then as many more as the policy asks.
     */
    public ThroughputMeasurement throughput(ThroughputPlan plan, ModelPool pool, RemeasurePolicy policy) {
        LOCK.lock();
        try (ThroughputRun run = start(plan, pool)) {
            Sampling s = plan.sampling();
            progress.accept(String.format(Locale.ROOT, "%s %s: %d subject(s) + bandwidth probe, %d warmup + %d rounds",
                    plan.workload().level(), plan.workload().label(), plan.subjects().size(), s.warmup(),
                    s.iterations()));
            run.measure(s.iterations());
            int remeasures = 0;
            while (true) {
                List<io.quantgate.results.model.ThroughputRow> rows = run.rows();
                int more = policy.moreRounds(rows, run.rounds());
                if (more <= 0) {
                    return new ThroughputMeasurement(rows, remeasures);
                }
                progress.accept("inconclusive: measuring " + more + " more rounds");
                run.measure(more);
                remeasures++;
            }
        } finally {
            LOCK.unlock();
        }
    }

    /** The plan's trials, ready to measure (for callers that drive the rounds themselves; close it). */
    public ThroughputRun start(ThroughputPlan plan, ModelPool pool) {
        return new ThroughputRun(plan, pool, probe(), sizing, kernels, progress);
    }

    /** Decides after each perplexity comparison whether to measure more chunks. */
    @FunctionalInterface
    public interface PerplexityPolicy {
        PerplexityPolicy NEVER = c -> false;

        boolean measureMore(ComparisonResult comparison);
    }

    /**
     * A perplexity comparison and its history.
     *
     * @param remeasures how often the chunks were doubled
     * @param exhausted  whether the policy still wanted more when the plan's chunk limit was reached
     */
    public record PerplexityMeasurement(ComparisonResult comparison, int remeasures, boolean exhausted) {
    }

    /**
     * The subject's perplexity against the baseline's on the same chunks of {@code tokens} (the baseline's logits
     * cached in the pool), re-measured with twice the chunks while {@code policy} asks, up to the plan's limit.
     */
    public PerplexityMeasurement perplexity(PerplexityPlan plan, ModelPool pool, int[] tokens, PerplexityPolicy policy) {
        LOCK.lock();
        try {
            int ctx = plan.options().ctx();
            LogitsModel quant = pool.logits(plan.subject(), ctx);
            LogitsModel base = pool.cachedLogits(plan.baseline(), ctx);
            int chunks = plan.chunks();
            int remeasures = 0;
            while (true) {
                progress.accept(String.format(Locale.ROOT, "perplexity of %s vs %s, %d %s of %d tokens%s",
                        plan.subject().describe(), plan.baseline().describe(), chunks,
                        plan.options().mode() == PerplexityOptions.Mode.SLIDING ? "windows" : "chunks", ctx,
                        remeasures > 0 ? " (re-measure " + remeasures + ")" : ""));
                ComparisonResult c = PerplexityComparison.compare(quant, base, tokens,
                        plan.options().withChunks(chunks));
                boolean more = policy.measureMore(c);
                if (!more || chunks == 0 || chunks >= plan.maxChunks()) {
                    return new PerplexityMeasurement(c, remeasures, more);
                }
                chunks = Math.min(2 * chunks, plan.maxChunks());
                remeasures++;
            }
        } finally {
            LOCK.unlock();
        }
    }

    /** The subject's own perplexity on {@code tokens} (no baseline). */
    public PerplexityResult perplexity(Subject subject, ModelPool pool, int[] tokens, PerplexityOptions options) {
        LOCK.lock();
        try {
            progress.accept("perplexity of " + subject.describe());
            return PerplexityEvaluator.evaluate(pool.logits(subject, options.ctx()), tokens, options);
        } finally {
            LOCK.unlock();
        }
    }

    @Override
    public synchronized void close() {
        if (probe != null) {
            probe.close();
            probe = null;
        }
    }
}
