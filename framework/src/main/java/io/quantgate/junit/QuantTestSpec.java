package io.quantgate.junit;

import io.quantgate.evaluation.PerplexityOptions;
import io.quantgate.harness.Sampling;
import io.quantgate.gate.QualityThresholds;
import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.platform.commons.support.AnnotationSupport;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * The annotations of one {@link QuantTest} method and its class, checked and resolved (configuration
 * overrides applied). Everything that can be wrong with them is found here, before anything is loaded, and
 * reported as an {@link ExtensionConfigurationException} naming the annotation, the test and the bad value.
 */
record QuantTestSpec(String testName, Bench bench, List<QuantizationConfig> configs, List<String> backends,
                     Optional<PerplexitySpec> perplexity, Optional<ThroughputSpec> throughput,
                     Optional<KernelSpec> kernel, Optional<KernelCheckSpec> kernelCheck) {

    /**
     * {@link Kernel}, checked.
     *
     * @param spec      the kernel as {@link io.quantgate.kernel.Kernels#byName} takes it
     * @param reference the kernel its speed is compared with
     */
    record KernelSpec(String spec, String reference) {
    }

    /** {@link KernelCheck}, checked. */
    record KernelCheckSpec(int cases, long seed, int maxBatch, double boundFactor, ActivationMode activations) {
    }

    /** {@link QuantBench}, checked. */
    record Bench(String model, String tokenizer, String dataset, String dataDir, QuantizationConfig baseline,
                 String backend, ActivationMode activations, String calibration, int calibrationChunks,
                 long calibrationSeed) {
    }

    /** {@link Perplexity}, checked; {@code chunks} 0 = all the text holds. */
    record PerplexitySpec(int ctx, int chunks, int maxChunks, PerplexityOptions.Mode mode, int stride,
                          QualityThresholds thresholds, double maxEngineDeltaPercent) {
        PerplexityOptions options(int chunkCount, double level) {
            PerplexityOptions o = PerplexityOptions.chunked(ctx).withChunks(chunkCount).withConfidenceLevel(level);
            return mode == PerplexityOptions.Mode.SLIDING ? o.withMode(mode).withStride(stride) : o.withMode(mode);
        }
    }

    /** {@link Throughput}, checked; {@code shapes} empty = the model's linear shapes. */
    record ThroughputSpec(Throughput.Level level, List<int[]> shapes, List<Integer> batches, int tokens, int depth,
                          QuantizationConfig reference, ActivationMode activations, Sampling plan, int maxIterations,
                          double minSpeedupOver, double maxRegressionPercent, double minTokensPerSecond) {
        boolean anyGate() {
            return !Double.isNaN(minSpeedupOver) || !Double.isNaN(maxRegressionPercent)
                    || !Double.isNaN(minTokensPerSecond);
        }
    }

    /**
     * @param enclosing the enclosing instance types of a {@code @Nested} test class (outermost first), where
     *                  {@link QuantBench} and {@link Backends} are also looked for
     */
    static QuantTestSpec of(Class<?> testClass, List<Class<?>> enclosing, Method method, QuantSettings settings) {
        String test = testClass.getSimpleName() + "." + method.getName();
        QuantBench qb = AnnotationSupport.findAnnotation(testClass, QuantBench.class, enclosing)
                .orElseThrow(() -> error(test, "@QuantTest needs @QuantBench on the test class (or an enclosing class) "
                        + "to name the model"));
        Bench bench = bench(test, qb);
        QuantConfig qc = AnnotationSupport.findAnnotation(method, QuantConfig.class).orElseThrow(() -> error(test,
                "@QuantTest needs @QuantConfig({...}) naming at least one configuration"));
        List<QuantizationConfig> configs = configs(test, qc.value());
        if (bench.calibration().isEmpty()) {
            for (QuantizationConfig c : configs) {
                if (c.needsCalibration()) {
                    throw error(test, "@QuantConfig \"" + c.label() + "\" needs calibration text ("
                            + (c instanceof QuantizationConfig.MixedAuto ? "mixed:auto measures each tensor's sensitivity "
                            : "its codes are fitted to the model's activations ") + "on it): add @QuantBench(calibration = "
                            + "\"calibration/groups_merged.txt\") or another text that is not the evaluation text");
                }
            }
        }
        List<String> backends = backends(test, method, testClass, enclosing, bench);
        Optional<PerplexitySpec> ppl = AnnotationSupport.findAnnotation(method, Perplexity.class)
                .map(p -> perplexity(test, p, settings));
        Optional<KernelSpec> kernel = kernel(test, method, testClass, enclosing);
        Optional<ThroughputSpec> tp = AnnotationSupport.findAnnotation(method, Throughput.class)
                .map(t -> throughput(test, t, bench, configs, settings, kernel.isPresent()));
        Optional<KernelCheckSpec> check = AnnotationSupport.findAnnotation(method, KernelCheck.class)
                .map(k -> kernelCheck(test, k, bench, configs));
        if (ppl.isEmpty() && tp.isEmpty() && check.isEmpty()) {
            throw error(test, "@QuantTest measures nothing: add @Perplexity, @Throughput or @KernelCheck");
        }
        return new QuantTestSpec(test, bench, configs, backends, ppl, tp, kernel, check);
    }

    /** Whether the test needs the model (perplexity, or throughput of the whole model). */
    boolean needsModel() {
        return perplexity.isPresent() || throughput.filter(t -> t.level() != Throughput.Level.KERNEL).isPresent();
    }

    private static Optional<KernelSpec> kernel(String test, Method method, Class<?> testClass,
                                               List<Class<?>> enclosing) {
        Optional<Kernel> k = AnnotationSupport.findAnnotation(method, Kernel.class);
        if (k.isEmpty()) {
            k = AnnotationSupport.findAnnotation(testClass, Kernel.class, enclosing);
        }
        if (k.isEmpty()) {
            return Optional.empty();
        }
        Kernel a = k.get();
        boolean byClass = a.value() != io.quantgate.kernel.LinearKernel.class;
        boolean byName = !a.name().isBlank();
        if (byClass == byName) {
            throw error(test, "@Kernel names its kernel either by class (@Kernel(MyKernel.class)) or by name "
                    + "(@Kernel(name = \"...\")), " + (byClass ? "not both" : "and names neither"));
        }
        if (a.reference().isBlank()) {
            throw error(test, "@Kernel(reference) is empty (use \"native\")");
        }
        String reference = a.referenceClass() != io.quantgate.kernel.LinearKernel.class
                ? io.quantgate.kernel.Kernels.spec(a.referenceClass()) : a.reference().strip();
        return Optional.of(new KernelSpec(byClass ? io.quantgate.kernel.Kernels.spec(a.value()) : a.name().strip(),
                reference));
    }

    private static KernelCheckSpec kernelCheck(String test, KernelCheck k, Bench bench, List<QuantizationConfig> configs) {
        String at = "@KernelCheck";
        if (k.cases() < 1 || k.maxBatch() < 1) {
            throw error(test, at + "(cases) and (maxBatch) must be >= 1, got " + k.cases() + " and " + k.maxBatch());
        }
        if (!(k.boundFactor() > 0) || Double.isInfinite(k.boundFactor())) {
            throw error(test, at + "(boundFactor) must be a positive finite number, got " + k.boundFactor());
        }
        for (QuantizationConfig c : configs) {
            uniformId(test, "@QuantConfig (checked with " + at + ")", c);
        }
        ActivationMode act = k.activations().isBlank() ? bench.activations()
                : activations(test, at + "(activations)", k.activations());
        return new KernelCheckSpec(k.cases(), k.seed(), k.maxBatch(), k.boundFactor(), act);
    }

    private static Bench bench(String test, QuantBench qb) {
        if (qb.model().isBlank()) {
            throw error(test, "@QuantBench(model) is empty: name a llama2.c .bin file or synthetic:<spec>");
        }
        if (qb.dataset().isBlank()) {
            throw error(test, "@QuantBench(dataset) is empty: use \"wikitext-2\" or a path to a text file");
        }
        QuantizationConfig baseline = parseConfig(test, "@QuantBench(baseline)", qb.baseline());
        ActivationMode act = activations(test, "@QuantBench(activations)", qb.activations());
        if (qb.backend().isBlank()) {
            throw error(test, "@QuantBench(backend) is empty (available: " + String.join(", ", BackendRegistry.available())
                    + ")");
        }
        if (qb.calibrationChunks() < 1) {
            throw error(test, "@QuantBench(calibrationChunks) is " + qb.calibrationChunks() + "; it must be >= 1");
        }
        String calibration = qb.calibration().strip();
        if (!calibration.isEmpty() && calibration.equals(qb.dataset().strip())) {
            throw error(test, "@QuantBench(calibration) is the evaluation text '" + calibration + "': calibrating on "
                    + "the text a test evaluates makes its perplexity meaningless");
        }
        return new Bench(qb.model().strip(), qb.tokenizer().strip(), qb.dataset().strip(), qb.dataDir().strip(),
                baseline, qb.backend().strip(), act, calibration, qb.calibrationChunks(), qb.calibrationSeed());
    }

    private static List<QuantizationConfig> configs(String test, String[] values) {
        if (values.length == 0) {
            throw error(test, "@QuantConfig is empty: name at least one configuration, e.g. @QuantConfig(\"fp4-g128\")");
        }
        Set<QuantizationConfig> seen = new LinkedHashSet<>();
        for (String v : values) {
            QuantizationConfig c = parseConfig(test, "@QuantConfig", v);
            if (!seen.add(c)) {
                throw error(test, "@QuantConfig lists '" + c.label() + "' twice");
            }
        }
        return List.copyOf(seen);
    }

    /** Parses a config (the only place a test's config text is parsed). */
    static QuantizationConfig parseConfig(String test, String where, String value) {
        QuantizationConfig qc;
        try {
            qc = QuantizationConfig.parse(value);
        } catch (IllegalArgumentException e) {
            throw error(test, where + ": " + e.getMessage());
        }
        return qc;
    }

    private static ActivationMode activations(String test, String where, String v) {
        try {
            return ActivationMode.fromId(v);
        } catch (IllegalArgumentException e) {
            throw error(test, where + ": " + e.getMessage());
        }
    }

    private static List<String> backends(String test, Method method, Class<?> testClass, List<Class<?>> enclosing,
                                         Bench bench) {
        Optional<Backends> b = AnnotationSupport.findAnnotation(method, Backends.class);
        if (b.isEmpty()) {
            b = AnnotationSupport.findAnnotation(testClass, Backends.class, enclosing);
        }
        if (b.isEmpty()) {
            return List.of(bench.backend());
        }
        String[] names = b.get().value();
        if (names.length == 0) {
            throw error(test, "@Backends is empty (available: " + String.join(", ", BackendRegistry.available()) + ")");
        }
        Set<String> seen = new LinkedHashSet<>();
        for (String n : names) {
            if (n == null || n.isBlank()) {
                throw error(test, "@Backends contains a blank name");
            }
            if (!seen.add(n.strip())) {
                throw error(test, "@Backends lists '" + n.strip() + "' twice");
            }
        }
        return List.copyOf(seen);
    }

    private static PerplexitySpec perplexity(String test, Perplexity p, QuantSettings settings) {
        String at = "@Perplexity";
        if (p.ctx() < 4) {
            throw error(test, at + "(ctx) must be >= 4 tokens, got " + p.ctx());
        }
        if (p.chunks() < 0) {
            throw error(test, at + "(chunks) must be >= 0 (0 = all the text holds), got " + p.chunks());
        }
        if (p.maxChunks() < 0) {
            throw error(test, at + "(maxChunks) must be >= 0 (0 = 8 x chunks), got " + p.maxChunks());
        }
        int chunks = settings.chunks().orElse(p.chunks());
        if (p.maxChunks() > 0 && chunks > 0 && p.maxChunks() < chunks && settings.chunks().isEmpty()) {
            throw error(test, at + "(maxChunks) " + p.maxChunks() + " is below chunks " + chunks);
        }
        int maxChunks = chunks == 0 ? 0 : p.maxChunks() == 0 ? 8 * chunks : Math.max(p.maxChunks(), chunks);
        PerplexityOptions.Mode mode = switch (p.method()) {
            case SLIDING -> PerplexityOptions.Mode.SLIDING;
            case SPREAD -> PerplexityOptions.Mode.SPREAD;
            case CHUNKED -> PerplexityOptions.Mode.CHUNKED;
        };
        if (p.stride() != 0 && mode != PerplexityOptions.Mode.SLIDING) {
            throw error(test, at + "(stride) applies to method = SLIDING only; got stride " + p.stride()
                    + " with " + p.method());
        }
        if (p.stride() < 0 || p.stride() >= p.ctx()) {
            throw error(test, at + "(stride) must be in [1, ctx - 1] = [1, " + (p.ctx() - 1) + "] or 0 (= ctx/2), got "
                    + p.stride());
        }
        QualityThresholds t;
        try {
            t = new QualityThresholds(p.maxDelta(), p.maxDeltaPercent(), p.maxKld(), p.minSameTop());
        } catch (IllegalArgumentException e) {
            throw error(test, at + ": " + e.getMessage());
        }
        double engine = p.maxEngineDeltaPercent();
        if (!Double.isNaN(engine) && !(engine >= 0 && engine < Double.POSITIVE_INFINITY)) {
            throw error(test, at + "(maxEngineDeltaPercent) must be >= 0 and finite (how far two engines' perplexities "
                    + "on the same weights may differ), got " + engine);
        }
        return new PerplexitySpec(p.ctx(), chunks, maxChunks, mode, p.stride(), t, engine);
    }

    /**
     * @param withKernel whether the test names a {@link Kernel}: then an empty reference means the same config (on
     *                   the reference kernel), which the {@code reference} of the spec says as null
     */
    private static ThroughputSpec throughput(String test, Throughput t, Bench bench, List<QuantizationConfig> configs,
                                             QuantSettings settings, boolean withKernel) {
        String at = "@Throughput";
        QuantizationConfig reference = !t.reference().isBlank() ? parseConfig(test, at + "(reference)", t.reference())
                : withKernel ? null
                : t.level() == Throughput.Level.KERNEL ? QuantizationConfig.parse("fp16") : bench.baseline();
        ActivationMode act = t.activations().isBlank() ? bench.activations()
                : activations(test, at + "(activations)", t.activations());
        List<int[]> shapes = new ArrayList<>();
        List<Integer> batches = new ArrayList<>();
        if (t.level() == Throughput.Level.KERNEL) {
            for (QuantizationConfig c : configs) {
                uniformId(test, "@QuantConfig", c);
            }
            if (reference != null) {
                uniformId(test, at + "(reference)", reference);
            }
            for (String s : t.shapes()) {
                shapes.add(shape(test, s));
            }
            if (t.batch().length == 0) {
                throw error(test, at + "(batch) is empty: give at least one batch size M (1 = GEMV)");
            }
            for (int m : t.batch()) {
                if (m < 1) {
                    throw error(test, at + "(batch) values must be >= 1, got " + m);
                }
                batches.add(m);
            }
            if (t.tokens() != 0) {
                throw error(test, at + "(tokens) applies to PREFILL and DECODE; KERNEL measures shapes x batch");
            }
            if (!Double.isNaN(t.minTokensPerSecond())) {
                throw error(test, at + "(minTokensPerSecond) applies to PREFILL and DECODE; at KERNEL level the rate is "
                        + "weight GB/s (gate relative speed with minSpeedupOver)");
            }
        } else {
            if (t.shapes().length > 0) {
                throw error(test, at + "(shapes) applies to KERNEL level only; " + t.level() + " runs the whole model");
            }
            if (t.tokens() < 0) {
                throw error(test, at + "(tokens) must be >= 0 (0 = " + (t.level() == Throughput.Level.PREFILL ? 512 : 128)
                        + "), got " + t.tokens());
            }
        }
        int tokens = t.level() == Throughput.Level.KERNEL ? 0
                : t.tokens() > 0 ? t.tokens() : t.level() == Throughput.Level.PREFILL ? 512 : 128;
        if (t.depth() < 0) {
            throw error(test, at + "(depth) must be >= 0 (0 = decode from an empty cache), got " + t.depth());
        }
        if (t.depth() != 0 && t.level() != Throughput.Level.DECODE) {
            throw error(test, at + "(depth) applies to DECODE only (a prompt before the timed steps); this is "
                    + t.level());
        }
        int warmup = settings.warmup().orElse(t.warmup());
        int iterations = settings.iterations().orElse(t.iterations());
        double maxSeconds = settings.maxSeconds().orElse(t.maxSeconds());
        Sampling plan;
        try {
            plan = new Sampling(warmup, iterations, maxSeconds, t.outlierSigma()).withConfidence(settings.confidence());
        } catch (IllegalArgumentException e) {
            throw error(test, at + ": " + e.getMessage());
        }
        if (t.maxIterations() < 0) {
            throw error(test, at + "(maxIterations) must be >= 0 (0 = 4 x iterations), got " + t.maxIterations());
        }
        if (t.maxIterations() > 0 && t.maxIterations() < t.iterations() && settings.iterations().isEmpty()) {
            throw error(test, at + "(maxIterations) " + t.maxIterations() + " is below iterations " + t.iterations());
        }
        int maxIterations = t.maxIterations() == 0 ? 4 * iterations : Math.max(t.maxIterations(), iterations);
        positiveOrNaN(test, at + "(minSpeedupOver)", t.minSpeedupOver());
        positiveOrNaN(test, at + "(minTokensPerSecond)", t.minTokensPerSecond());
        double reg = t.maxRegressionPercent();
        if (!Double.isNaN(reg) && !(reg >= 0 && reg < 100)) {
            throw error(test, at + "(maxRegressionPercent) must be in [0, 100), got " + reg);
        }
        return new ThroughputSpec(t.level(), List.copyOf(shapes), List.copyOf(batches), tokens, t.depth(), reference, act, plan,
                maxIterations, t.minSpeedupOver(), reg, t.minTokensPerSecond());
    }

    static ConfigId uniformId(String test, String where, QuantizationConfig qc) {
        if (qc instanceof QuantizationConfig.Uniform u) {
            return u.id();
        }
        throw error(test, where + ": KERNEL level measures one weight format at a time, and '" + qc.label()
                + "' is a per-layer policy; measure it at PREFILL or DECODE level");
    }

    private static int[] shape(String test, String s) {
        String[] p = s.strip().toLowerCase(Locale.ROOT).split("x");
        if (p.length == 2) {
            try {
                int n = Integer.parseInt(p[0].strip());
                int k = Integer.parseInt(p[1].strip());
                if (n > 0 && k > 0) {
                    return new int[] {n, k};
                }
            } catch (NumberFormatException e) {
                // reported below
            }
        }
        throw error(test, "@Throughput(shapes): '" + s + "' is not NxK with positive N (outputs) and K (inputs), "
                + "e.g. \"4096x11008\"");
    }

    private static void positiveOrNaN(String test, String where, double v) {
        if (!Double.isNaN(v) && !(v > 0 && Double.isFinite(v))) {
            throw error(test, where + " must be > 0, got " + v);
        }
    }

    static ExtensionConfigurationException error(String test, String message) {
        return new ExtensionConfigurationException("QuantGate configuration error in " + test + ": " + message);
    }
}
