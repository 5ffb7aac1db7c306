package io.quantgate.quantize;

import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.format.QuantizationConfig;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What {@code mixed:auto[<bits>]} chose for one model: an id per linear tensor, the budget, the bits per weight the
 * choice reaches (packed codes, scales and zeros over the linears' weights), and the sensitivity each chosen id was
 * measured at (the predicted total is their sum).
 *
 * @param auto        the config as written
 * @param ids         tensor → chosen id, in model order
 * @param sensitivity tensor → the measured sensitivity (KLD, or ΔNLL for objective ppl) of quantizing only that
 *                    tensor to its chosen id
 * @param bitsPerWeight the average reached
 * @param budgetBitsPerWeight the budget in bits per weight (computed on the model when given as an id)
 * @param calibration where the sensitivities were measured
 */
public record MixedAssignment(QuantizationConfig.MixedAuto auto, Map<String, ConfigId> ids,
                              Map<String, Double> sensitivity, double bitsPerWeight, double budgetBitsPerWeight,
                              String calibration) {
    public MixedAssignment {
        Objects.requireNonNull(auto, "auto");
        ids = Collections.unmodifiableMap(new LinkedHashMap<>(ids));
        sensitivity = Collections.unmodifiableMap(new LinkedHashMap<>(sensitivity));
    }

    /** The explicit config the model is built from: one exact-name rule per tensor. */
    public QuantizationConfig.Mixed config() {
        List<QuantizationConfig.Rule> rules = new ArrayList<>();
        ids.forEach((t, id) -> rules.add(new QuantizationConfig.Rule(t, id)));
        return new QuantizationConfig.Mixed(rules);
    }

    /** The predicted total: the sum of the chosen ids' single-tensor sensitivities. */
    public double predicted() {
        return sensitivity.values().stream().mapToDouble(Double::doubleValue).sum();
    }

    /** How many tensors got each id, e.g. {@code fp4-g64 ×12, int8-g32 ×2}. */
    public String summary() {
        Map<ConfigId, Integer> counts = new LinkedHashMap<>();
        ids.values().stream().sorted(java.util.Comparator.comparing(ConfigId::toString))
                .forEach(id -> counts.merge(id, 1, Integer::sum));
        StringBuilder sb = new StringBuilder();
        counts.forEach((id, c) -> sb.append(sb.isEmpty() ? "" : ", ").append(id).append(" ×").append(c));
        return sb.toString();
    }
}
