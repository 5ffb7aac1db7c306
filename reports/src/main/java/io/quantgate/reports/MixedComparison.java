package io.quantgate.reports;

/**
 * A mixed-precision configuration next to a uniform one of the same model and backend: the uniform configs its
 * rules use ({@code mixed:attn.*=fp4-g32,mlp.*=fp4-g128} next to {@code fp4-g32} and {@code fp4-g128}), or, when
 * none of those was measured, the uniform config with the nearest compression ratio.
 *
 * <p>The improvement is uniform ΔPPL % − mixed ΔPPL % in percentage points (positive: the mixed config loses less
 * quality). Both figures come from their own comparisons with the baseline; their difference has no paired
 * interval in the results, so none is shown.
 */
public record MixedComparison(ConfigRow mixed, ConfigRow uniform, boolean usedByRules) {

    public double improvementPoints() {
        return uniform.pplDeltaPercent() - mixed.pplDeltaPercent();
    }
}
