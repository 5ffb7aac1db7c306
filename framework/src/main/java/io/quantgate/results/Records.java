package io.quantgate.results;

import io.quantgate.evaluation.ComparisonResult;
import io.quantgate.evaluation.ConfidenceInterval;
import io.quantgate.evaluation.PerplexityResult;
import io.quantgate.gate.GateResult;
import io.quantgate.gate.MachineFingerprint;
import io.quantgate.harness.MachineInfo;
import io.quantgate.harness.Sampling;
import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.results.model.Fingerprint;
import io.quantgate.results.model.GateRecord;
import io.quantgate.results.model.Inputs;
import io.quantgate.results.model.Interval;
import io.quantgate.results.model.Machine;
import io.quantgate.results.model.PerplexityRecord;
import io.quantgate.results.model.ResultRecord;
import io.quantgate.results.model.TestInfo;
import io.quantgate.results.model.ThroughputRecord;
import io.quantgate.results.model.ThroughputRow;

import java.time.Instant;
import java.util.List;
import java.util.Locale;

/**
 * Builds the typed records of results.json (docs/results-schema.md) from what the framework measured; the one place
 * both the JUnit extension and the bench commands turn measurements into records, so that the same plan gives the
 * same record whichever way it ran.
 */
public final class Records {
    private Records() {
    }

    /** This machine, as results files describe it. */
    public static Machine machine() {
        return MachineInfo.machine();
    }

    /** This machine's fingerprint, as stored baselines key it. */
    public static Fingerprint fingerprint() {
        MachineFingerprint fp = MachineFingerprint.current();
        return new Fingerprint(fp.cpu(), fp.cores(), fp.simd(), fp.isa(), fp.threads(), fp.jvm(), fp.os(), fp.id());
    }

    /** {@code fp4}, {@code int4}, … for a uniform config, {@code mixed} otherwise. */
    public static String configFormat(QuantizationConfig c) {
        return c instanceof QuantizationConfig.Uniform u ? u.id().format().id() : "mixed";
    }

    /** Group size of a uniform grouped config; null per row or mixed. */
    public static Integer configGroup(QuantizationConfig c) {
        return c instanceof QuantizationConfig.Uniform u && u.id().group() != 0 ? u.id().group() : null;
    }

    /**
     * A complete record.
     *
     * @param compressionRatio NaN when no model was involved (kernel rows)
     * @param weightBytes      null when no model was involved
     */
    public static ResultRecord record(TestInfo test, QuantizationConfig config, String baselineConfig, String backend,
                                      String kernel, String ran, String activations, Inputs inputs,
                                      double compressionRatio, Long weightBytes, PerplexityRecord perplexity,
                                      ThroughputRecord throughput, List<GateResult> gates, String verdict,
                                      Instant started, Instant finished) {
        return new ResultRecord(test, config.label(), configFormat(config), configGroup(config), baselineConfig,
                backend, kernel, ran, activations, inputs, compressionRatio, weightBytes, perplexity, throughput,
                gates.stream().map(Records::gate).toList(), verdict, fingerprint(), started.toString(),
                finished.toString(), null, null, null, null, null);
    }

    /** The record of a measurement that did not complete (aborted, misconfigured, failed). */
    public static ResultRecord error(TestInfo test, String config, String baselineConfig, String backend, Throwable t) {
        QuantizationConfig parsed = null;
        try {
            parsed = QuantizationConfig.parse(config);
        } catch (IllegalArgumentException notAConfig) {
            // a misconfigured test: the record keeps the text as written
        }
        return new ResultRecord(test, parsed == null ? config : parsed.label(),
                parsed == null ? null : configFormat(parsed), parsed == null ? null : configGroup(parsed),
                baselineConfig, backend, null, null, null, null, Double.NaN, null, null, null, List.of(), null,
                fingerprint(), null, null, t.getClass().getSimpleName() + ": " + t.getMessage(), null, null, null,
                null);
    }

    public static ThroughputRecord throughput(String level, String config, String reference, String activations,
                                              Sampling s, int remeasures, List<ThroughputRow> rows) {
        return new ThroughputRecord(level, config, reference, activations, s.warmup(), s.iterations(), s.maxSeconds(),
                s.outlierSigma(), remeasures, rows);
    }

    public static PerplexityRecord perplexity(ComparisonResult c, int remeasures) {
        PerplexityResult b = c.base();
        PerplexityResult q = c.quant();
        return new PerplexityRecord(q.ctx(), q.mode().name().toLowerCase(Locale.ROOT), q.stride(), c.chunks(),
                c.scored(), q.streamTokens(), c.confidenceLevel(), c.pplBase(), b.pplStdErr(), c.pplQuant(),
                q.pplStdErr(), interval(c.deltaCi(), c.delta()), interval(c.deltaPercentCi(), c.deltaPercent()),
                interval(c.ratioCi(), c.ratio()), interval(c.nllDiff(), c.nllDiff().estimate()),
                interval(c.nllDiffUnpaired(), c.nllDiffUnpaired().estimate()), interval(c.kldCi(), c.meanKld()),
                c.kldStdErr(), c.kldMedian(), c.kldP99(), c.kldMax(), interval(c.sameTopCi(), c.sameTopPercent()),
                c.seconds(), b.seconds(), q.seconds(), q.tokensPerSecond(), remeasures,
                new PerplexityRecord.Samples(c.chunkNllBase(), c.chunkNllQuant(), c.chunkKld(), c.chunkSameTop(),
                        c.chunkScored()), c.kldDistribution());
    }

    public static GateRecord gate(GateResult g) {
        return new GateRecord(g.name(), g.subject(), g.bound().name().toLowerCase(Locale.ROOT), g.threshold(),
                g.estimate(), g.low(), g.high(), g.level(), g.comparedWith(), g.verdict().name(), g.note(), g.message());
    }

    private static Interval interval(ConfidenceInterval ci, double estimate) {
        return new Interval(estimate, ci.low(), ci.high(), ci.level());
    }
}
