package io.quantgate.reports;

import io.quantgate.results.model.Interval;

/**
 * A calibrated configuration ({@code int4-g64+gptq} fitted on some text) next to round to nearest of the same id, on
 * the same chunks against the same baseline, paired chunk by chunk.
 *
 * @param vsRoundToNearestPercent 100 · (PPL(calibrated)/PPL(RTN) − 1), paired
 * @param deltaCutPercent         how much of RTN's PPL delta the calibration removed, 100 · (PPL(RTN) − PPL(cal)) /
 *                                (PPL(RTN) − PPL(base)), its interval mapped from the paired one (the baseline's and
 *                                RTN's perplexities held fixed, as measured on the same tokens)
 * @param kldDifference           mean KLD(calibrated) − mean KLD(RTN), paired
 */
public record CalibrationComparison(ConfigRow calibrated, ConfigRow roundToNearest, Interval vsRoundToNearestPercent,
                                    Interval deltaCutPercent, Interval kldDifference) {

    /** The id without calibration modifiers ({@code int4-g64} for {@code int4-g64+had+gptq+act}), or null. */
    static String roundToNearestOf(String config) {
        String c = config.startsWith("uniform:") ? config.substring("uniform:".length()) : config;
        if (c.contains(":")) {
            return null;
        }
        int plus = c.indexOf('+');
        return plus < 0 ? null : c.substring(0, plus);
    }

    static CalibrationComparison paired(ConfigRow cal, ConfigRow rtn) {
        if (!PairedDifference.comparable(cal, rtn)) {
            return null;
        }
        double level = Double.isFinite(cal.ppl().deltaPercent().level()) ? cal.ppl().deltaPercent().level() : 0.95;
        Interval vs = PairedDifference.pplPercent(cal, rtn, level);
        double pplRtn = rtn.ppl().pplQuant();
        double delta = pplRtn - rtn.ppl().pplBase();
        // PPL(cal) = PPL(RTN)·(1 + vs/100): the cut is linear in vs, so its bounds map directly (and swap)
        Interval cut = new Interval(-pplRtn * vs.estimate() / delta, -pplRtn * vs.high() / delta,
                -pplRtn * vs.low() / delta, vs.level());
        return new CalibrationComparison(cal, rtn, vs, cut, PairedDifference.kld(cal, rtn, level));
    }
}
