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

    /**
     * {@code r} with the calibration its config was fitted on, when {@code weights} carry one and the config uses it
     * (a calibrated recipe or {@code mixed:auto}); {@code r} itself otherwise.
     */
    public static ResultRecord withCalibration(ResultRecord r, io.quantgate.runtime.model.ModelWeights weights,
                                               QuantizationConfig config) {
        io.quantgate.quantize.Calibration c = io.quantgate.runtime.model.CalibratedWeights.calibrationOf(weights);
        if (c == null || !config.needsCalibration()) {
            return r;
        }
        String method;
        java.util.Map<String, String> assignment = null;
        Double bits = null;
        Double budget = null;
        if (config instanceof QuantizationConfig.MixedAuto auto) {
            io.quantgate.runtime.model.ModelWeights w = weights;
            while (w instanceof io.quantgate.runtime.model.QuantizedWeights q) {
                w = q.unquantized();
            }
            io.quantgate.quantize.MixedAssignment a = ((io.quantgate.runtime.model.CalibratedWeights) w).resolve(auto);
            method = "mixed:auto/" + auto.objective().name().toLowerCase(Locale.ROOT);
            assignment = new java.util.LinkedHashMap<>();
            for (var e : a.ids().entrySet()) {
                assignment.put(e.getKey(), e.getValue().toString());
            }
            bits = a.bitsPerWeight();
            budget = a.budgetBitsPerWeight();
        } else {
            java.util.Set<String> methods = new java.util.TreeSet<>();
            if (config instanceof QuantizationConfig.Uniform u) {
                methods.add(u.recipe().suffix().substring(1));
            } else if (config instanceof QuantizationConfig.Mixed m) {
                for (QuantizationConfig.Rule rule : m.rules()) {
                    if (rule.recipe().needsCalibration()) {
                        methods.add(rule.recipe().suffix().substring(1));
                    }
                }
            }
            method = String.join(",", methods);
        }
        return new ResultRecord(r.test(), r.config(), r.configFormat(), r.configGroup(), r.baselineConfig(),
                r.backend(), r.kernel(), r.ran(), r.activations(), r.inputs(), r.compressionRatio(),
                r.weightBytesPerToken(), r.perplexity(), r.throughput(), r.gates(), r.verdict(), r.fingerprint(),
                r.measurementStartedAt(), r.measurementFinishedAt(), r.error(), r.status(), r.statusMessage(),
                r.finishedAt(), new io.quantgate.results.model.Calibration(method, c.dataset(), c.sha256(), c.tokens(),
                c.chunks(), c.ctx(), c.seed(), assignment, bits, budget));
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
