package io.quantgate.quantize;

import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.format.GroupQuantizer;
import io.quantgate.kernels.format.QuantizedMatrix;
import io.quantgate.kernels.format.Recipe;

import java.lang.foreign.Arena;
import java.util.Optional;

/**
 * Turns one linear tensor's fp32 weights into the codes of its id under its {@link Recipe}: round to nearest
 * ({@link GroupQuantizer}), importance-weighted ({@link ImportanceQuantizer}) or GPTQ ({@link Gptq}), after the
 * block Hadamard rotation when the recipe asks for it. The model and every exporter quantize through here, so an
 * engine given a file and QuantGate's own model hold the same codes.
 */
public final class LinearQuantizer {
    private final Calibration calibration;

    /** @param calibration the statistics calibrated recipes need; null when none was run */
    public LinearQuantizer(Calibration calibration) {
        this.calibration = calibration;
    }

    public Optional<Calibration> calibration() {
        return Optional.ofNullable(calibration);
    }

    /**
     * @param tensor the tensor's canonical name (a fused name for fused linears), which selects the calibration site
     * @param w      {@code [n][k]} row-major; rotated in place when the recipe has {@code +had}
     */
    public QuantizedMatrix quantize(String tensor, ConfigId id, Recipe recipe, int n, int k, float[] w, Arena arena) {
        BlockHadamard rotation = recipe.hadamard() ? BlockHadamard.forId(id, k) : null;
        if (rotation != null) {
            rotation.rotateRows(w, n);
        }
        return switch (recipe.method()) {
            case RTN -> GroupQuantizer.quantize(id, n, k, w, arena, tensor);
            case IMATRIX -> {
                double[] imp = gram(tensor, id, recipe, k).importance();
                if (rotation != null) {
                    // the importance of rotated inputs is the diagonal of R·H·Rᵀ, not a rotation of the diagonal
                    double[] h = gram(tensor, id, recipe, k).hessian();
                    rotation.conjugate(h);
                    for (int i = 0; i < k; i++) {
                        imp[i] = h[i * k + i];
                    }
                }
                yield ImportanceQuantizer.quantize(id, n, k, w, imp, arena, tensor);
            }
            case GPTQ -> {
                double[] h = gram(tensor, id, recipe, k).hessian();
                if (rotation != null) {
                    rotation.conjugate(h);
                }
                yield Gptq.quantize(id, n, k, w, h, recipe.actOrder(), Gptq.DEFAULT_DAMPING, arena, tensor);
            }
        };
    }

    private Gram gram(String tensor, ConfigId id, Recipe recipe, int k) {
        if (calibration == null) {
            throw new IllegalArgumentException("tensor '" + tensor + "' is configured " + id + recipe.suffix()
                    + ", which needs calibration activations, but none were given: name a calibration text "
                    + "(--calibration FILE, or @QuantBench(calibration = \"...\"))");
        }
        Gram g = calibration.gram(tensor);
        if (g.k() != k) {
            throw new IllegalArgumentException("tensor '" + tensor + "' has " + k + " inputs but its calibration site "
                    + CalibrationSites.of(tensor) + " saw rows of " + g.k());
        }
        return g;
    }
}
