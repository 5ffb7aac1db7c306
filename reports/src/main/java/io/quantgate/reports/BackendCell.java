package io.quantgate.reports;

import io.quantgate.results.model.Interval;

/**
 * Tokens/s of one quantization on one backend for one workload of one model ({@code tg128} of
 * {@code synthetic:llama-1b}, {@code int4-g128} on {@code llamacpp}): the unit of the backend comparison.
 *
 * @param workload the throughput row's label
 * @param level    {@code decode} or {@code prefill}
 * @param rate     median tokens/s with the bootstrap interval of the median
 * @param ran      what the engine ran (version, build/CPU variant, threads, activations, file format), as the record
 *                 states it; null when the record does not say
 */
public record BackendCell(String model, String workload, String level, String config, String format,
                          Integer group, String backend, Interval rate, int rounds, String ran) {
}
