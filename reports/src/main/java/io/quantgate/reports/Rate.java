package io.quantgate.reports;

import io.quantgate.results.model.Interval;

/**
 * A rate shown in the report with where it comes from: {@code tg128} (decode), {@code pp512} (prefill) or
 * {@code eval} (tokens scored per second by the perplexity evaluation, when the model has no throughput test).
 */
public record Rate(Interval value, String source) {
}
