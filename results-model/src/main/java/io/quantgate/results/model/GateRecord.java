package io.quantgate.results.model;

/**
 * One gate as results.json stores it.
 *
 * @param name         the annotation attribute ({@code maxDeltaPercent}, {@code minSpeedupOver}, ...)
 * @param subject      what was measured, with the row label for speed gates
 * @param bound        {@code at_most} or {@code at_least}
 * @param comparedWith the baseline config and chunks, the reference and rounds, or the stored baseline file
 * @param verdict      {@code PASS}, {@code FAIL} or {@code INCONCLUSIVE}
 * @param message      the sentence a test failure or abort shows
 */
public record GateRecord(String name, String subject, String bound, double threshold, double estimate, double low,
                         double high, double level, String comparedWith, String verdict, String note, String message) {
}
