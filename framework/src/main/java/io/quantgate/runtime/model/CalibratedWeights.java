package io.quantgate.runtime.model;

import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.quantize.Calibration;
import io.quantgate.quantize.MixedAssignment;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiFunction;

/**
 * A model's weights together with a calibration pass over them: the same tensors, plus the activation statistics
 * that calibrated recipes ({@code +gptq}, {@code +imatrix}) need and the resolver that turns {@code mixed:auto} into
 * explicit ids. Whoever quantizes these weights ({@link LlamaModel}, {@link QuantizedWeights} and so every export)
 * finds the calibration here, so a calibrated config means the same codes on every engine. A resolved
 * {@code mixed:auto} is kept, so every engine and every test of a run gets the same assignment.
 */
public final class CalibratedWeights extends ForwardingWeights {
    private final Calibration calibration;
    private final BiFunction<CalibratedWeights, QuantizationConfig.MixedAuto, MixedAssignment> resolver;
    private final Map<QuantizationConfig.MixedAuto, MixedAssignment> resolved = new LinkedHashMap<>();

    /**
     * @param resolver measures sensitivities and chooses ids for a {@code mixed:auto} config on these weights
     */
    public CalibratedWeights(ModelWeights source, Calibration calibration,
                             BiFunction<CalibratedWeights, QuantizationConfig.MixedAuto, MixedAssignment> resolver) {
        super(source);
        this.calibration = Objects.requireNonNull(calibration, "calibration");
        this.resolver = Objects.requireNonNull(resolver, "resolver");
    }

    public Calibration calibration() {
        return calibration;
    }

    public ModelWeights uncalibrated() {
        return source;
    }

    /** The assignment {@code auto} resolves to on these weights (measured once, then remembered). */
    public synchronized MixedAssignment resolve(QuantizationConfig.MixedAuto auto) {
        MixedAssignment a = resolved.get(auto);
        if (a == null) {
            a = resolver.apply(this, auto);
            resolved.put(auto, a);
        }
        return a;
    }

    /** The calibration of {@code weights}, or null when they carry none. */
    public static Calibration calibrationOf(ModelWeights weights) {
        if (weights instanceof CalibratedWeights c) {
            return c.calibration;
        }
        if (weights instanceof QuantizedWeights q) {
            return calibrationOf(q.unquantized());
        }
        return null;
    }

    /** Why {@code config} cannot be quantized from {@code weights} (calibration it needs is missing), or empty. */
    public static java.util.Optional<String> missingCalibration(ModelWeights weights, QuantizationConfig config) {
        if (config.needsCalibration() && calibrationOf(weights) == null) {
            return java.util.Optional.of("'" + config.label() + "' needs calibration activations ("
                    + (config instanceof QuantizationConfig.MixedAuto ? "mixed:auto measures each tensor's sensitivity"
                    : "its codes are fitted to them") + "), but " + weights.source() + " was opened without any: name "
                    + "a calibration text (--calibration FILE, or @QuantBench(calibration = \"...\"))");
        }
        return java.util.Optional.empty();
    }

    /** Why no file can hold {@code config} for another engine (a rotated config), or empty. */
    public static java.util.Optional<String> notExportable(QuantizationConfig config) {
        return config.rotates() ? java.util.Optional.of("'" + config.label() + "' rotates weights (+had) and needs its "
                + "activations rotated online, which only QuantGate's own model does; no file can hold it for "
                + "another engine") : java.util.Optional.empty();
    }

    /**
     * {@code config} with {@code mixed:auto} replaced by its explicit assignment on {@code weights}; other configs as
     * they are. Also checks that a calibrated recipe has its calibration.
     *
     * @throws IllegalArgumentException when the config needs calibration the weights do not carry
     */
    public static QuantizationConfig resolve(ModelWeights weights, QuantizationConfig config) {
        missingCalibration(weights, config).ifPresent(why -> {
            throw new IllegalArgumentException("config " + why);
        });
        if (config instanceof QuantizationConfig.MixedAuto auto) {
            ModelWeights w = weights;
            while (w instanceof QuantizedWeights q) {
                w = q.unquantized();
            }
            return ((CalibratedWeights) w).resolve(auto).config();
        }
        return config;
    }
}
