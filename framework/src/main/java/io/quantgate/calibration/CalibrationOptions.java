package io.quantgate.calibration;

/**
 * How a calibration pass samples its text: {@code chunks} chunks of {@code ctx} tokens drawn without replacement
 * (with {@code seed}) from the file's non-overlapping chunks, as GPTQ draws random segments of its corpus; every
 * chunk starts with BOS, as in perplexity. {@code sensitivityChunks} of them are run again for each candidate when
 * {@code mixed:auto} measures sensitivities.
 */
public record CalibrationOptions(int chunks, int ctx, long seed, int sensitivityChunks) {
    /** 128 segments, as the GPTQ reference uses; ctx 512 (or the model's own context when shorter). */
    public static final CalibrationOptions DEFAULTS = new CalibrationOptions(128, 512, 0, 8);

    public CalibrationOptions {
        if (chunks < 1 || ctx < 2 || sensitivityChunks < 1) {
            throw new IllegalArgumentException("calibration needs chunks >= 1 (got " + chunks + "), ctx >= 2 (got "
                    + ctx + ") and sensitivity chunks >= 1 (got " + sensitivityChunks + ")");
        }
    }

    public CalibrationOptions withChunks(int n) {
        return new CalibrationOptions(n, ctx, seed, sensitivityChunks);
    }

    public CalibrationOptions withCtx(int n) {
        return new CalibrationOptions(chunks, n, seed, sensitivityChunks);
    }

    public CalibrationOptions withSeed(long s) {
        return new CalibrationOptions(chunks, ctx, s, sensitivityChunks);
    }
}
