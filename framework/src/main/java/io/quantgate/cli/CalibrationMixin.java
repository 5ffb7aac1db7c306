package io.quantgate.cli;

import io.quantgate.calibration.CalibrationOptions;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** The calibration options of every command that quantizes ({@code --calibration FILE} and how it is sampled). */
final class CalibrationMixin {
    @Option(names = "--calibration", paramLabel = "PATH",
            description = "calibration text for +gptq, +imatrix and mixed:auto configs (never the evaluated text)")
    Path file;

    @Option(names = "--calibration-chunks", paramLabel = "N", defaultValue = "128",
            description = "chunks drawn from the calibration text (of --ctx tokens where the command has one, else "
                    + "512; default ${DEFAULT-VALUE})")
    int chunks;

    @Option(names = "--calibration-seed", paramLabel = "S", defaultValue = "0",
            description = "seed of the calibration chunks' draw (default ${DEFAULT-VALUE})")
    long seed;

    /** How to sample, with chunks of {@code ctx} tokens. */
    CalibrationOptions options(int ctx) {
        if (chunks < 1) {
            throw new IllegalArgumentException("--calibration-chunks must be >= 1, got " + chunks);
        }
        return CalibrationOptions.DEFAULTS.withChunks(chunks).withCtx(ctx).withSeed(seed);
    }
}
