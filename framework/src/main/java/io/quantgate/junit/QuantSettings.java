package io.quantgate.junit;

import io.quantgate.harness.MemorySizing;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;

/**
 * Run-time configuration of the extension, read through JUnit's configuration parameters: launcher
 * parameters, then system properties ({@code -Dquantgate.chunks=8}), then {@code junit-platform.properties}
 * on the test class path. Every key and its default is listed in {@code docs/user-guide.md}. A value that
 * does not parse is a configuration error naming the key.
 */
record QuantSettings(Optional<Path> dataDir, OptionalInt chunks, OptionalInt iterations, OptionalInt warmup,
                     OptionalDouble maxSeconds, boolean remeasure, double confidence, double qualityGateConfidence,
                     Path baselineDir, boolean baselineUpdate, boolean progress, long baselineCacheBytes,
                     MemorySizing memory) {

    static final String DATA_DIR = "quantgate.data.dir";
    static final String CHUNKS = "quantgate.chunks";
    static final String ITERATIONS = "quantgate.iterations";
    static final String WARMUP = "quantgate.warmup";
    static final String MAX_SECONDS = "quantgate.maxSeconds";
    static final String REMEASURE = "quantgate.remeasure";
    static final String CONFIDENCE = "quantgate.confidence";
    /**
     * The level of the intervals the quality gates decide on (the reported intervals keep {@link #CONFIDENCE}). 0.995 by
     * default: at 0.95 a ΔPPL gate on 8–16 chunks gave 2.5–4.6 % wrong verdicts, at 0.995 ≤ 1 % (docs/reliability.md).
     */
    static final String QUALITY_GATE_CONFIDENCE = "quantgate.quality.gateConfidence";
    static final String BASELINE_DIR = "quantgate.baseline.dir";
    static final String BASELINE_UPDATE = "quantgate.baseline.update";
    static final String PROGRESS = "quantgate.progress";
    static final String BASELINE_CACHE_MB = "quantgate.baseline.cache.mb";
    static final String WORKING_SET_MB = "quantgate.workingset.mb";
    static final String PROBE_MB = "quantgate.probe.mb";
    static final String DEFAULT_BASELINE_DIR = "src/test/resources/quantgate/baselines";

    static QuantSettings from(ExtensionContext context) {
        Optional<String> dataDir = param(context, DATA_DIR);
        OptionalInt ws = positiveInt(context, WORKING_SET_MB);
        OptionalInt probe = positiveInt(context, PROBE_MB);
        MemorySizing memory = MemorySizing.of(ws.isPresent() ? ws.getAsInt() : null,
                probe.isPresent() ? probe.getAsInt() : null);
        double confidence = doubleParam(context, CONFIDENCE).orElse(0.95);
        if (!(confidence > 0.5 && confidence < 1)) {
            throw new ExtensionConfigurationException("configuration parameter " + CONFIDENCE + " = " + confidence
                    + " must be in (0.5, 1), e.g. 0.95");
        }
        double qualityGate = doubleParam(context, QUALITY_GATE_CONFIDENCE).orElse(0.995);
        if (!(qualityGate > 0.5 && qualityGate < 1)) {
            throw new ExtensionConfigurationException("configuration parameter " + QUALITY_GATE_CONFIDENCE + " = "
                    + qualityGate + " must be in (0.5, 1), e.g. 0.995");
        }
        OptionalInt cacheMb = nonNegativeInt(context, BASELINE_CACHE_MB);
        return new QuantSettings(dataDir.filter(s -> !s.isBlank()).map(Path::of), positiveInt(context, CHUNKS),
                positiveInt(context, ITERATIONS), nonNegativeInt(context, WARMUP), positiveDouble(context, MAX_SECONDS),
                bool(context, REMEASURE, true), confidence, qualityGate,
                Path.of(param(context, BASELINE_DIR).filter(s -> !s.isBlank()).orElse(DEFAULT_BASELINE_DIR)),
                bool(context, BASELINE_UPDATE, false), bool(context, PROGRESS, true),
                (long) cacheMb.orElse(512) << 20, memory);
    }

    /**
     * The data directory: the annotation's, else {@code quantgate.data.dir}, else the first of
     * {@code ../shared/data} from the working directory and from its parent that exists (the first one when
     * none does, so that the skip message names a definite path).
     */
    Path resolveDataDir(String annotationDir) {
        if (annotationDir != null && !annotationDir.isBlank()) {
            return Path.of(annotationDir).toAbsolutePath().normalize();
        }
        if (dataDir.isPresent()) {
            return dataDir.get().toAbsolutePath().normalize();
        }
        List<Path> candidates = List.of(Path.of("../shared/data"), Path.of("../../shared/data"));
        for (Path c : candidates) {
            if (Files.isDirectory(c)) {
                return c.toAbsolutePath().normalize();
            }
        }
        return candidates.get(0).toAbsolutePath().normalize();
    }

    private static Optional<String> param(ExtensionContext c, String key) {
        return c.getConfigurationParameter(key).map(String::strip);
    }

    private static boolean bool(ExtensionContext c, String key, boolean dflt) {
        Optional<String> v = param(c, key);
        if (v.isEmpty() || v.get().isEmpty()) {
            return dflt;
        }
        return switch (v.get().toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new ExtensionConfigurationException("configuration parameter " + key + " = '" + v.get()
                    + "' must be true or false");
        };
    }

    private static OptionalInt positiveInt(ExtensionContext c, String key) {
        OptionalInt v = nonNegativeInt(c, key);
        if (v.isPresent() && v.getAsInt() == 0) {
            throw new ExtensionConfigurationException("configuration parameter " + key + " must be > 0, got 0");
        }
        return v;
    }

    private static OptionalInt nonNegativeInt(ExtensionContext c, String key) {
        Optional<String> v = param(c, key);
        if (v.isEmpty() || v.get().isEmpty()) {
            return OptionalInt.empty();
        }
        try {
            int i = Integer.parseInt(v.get());
            if (i < 0) {
                throw new ExtensionConfigurationException("configuration parameter " + key + " must be >= 0, got " + i);
            }
            return OptionalInt.of(i);
        } catch (NumberFormatException e) {
            throw new ExtensionConfigurationException("configuration parameter " + key + " = '" + v.get()
                    + "' is not an integer");
        }
    }

    private static OptionalDouble doubleParam(ExtensionContext c, String key) {
        Optional<String> v = param(c, key);
        if (v.isEmpty() || v.get().isEmpty()) {
            return OptionalDouble.empty();
        }
        try {
            return OptionalDouble.of(Double.parseDouble(v.get()));
        } catch (NumberFormatException e) {
            throw new ExtensionConfigurationException("configuration parameter " + key + " = '" + v.get()
                    + "' is not a number");
        }
    }

    private static OptionalDouble positiveDouble(ExtensionContext c, String key) {
        OptionalDouble v = doubleParam(c, key);
        if (v.isPresent() && !(v.getAsDouble() > 0 && Double.isFinite(v.getAsDouble()))) {
            throw new ExtensionConfigurationException("configuration parameter " + key + " must be a positive number, got "
                    + v.getAsDouble());
        }
        return v;
    }
}
