package io.quantgate.cli;

import io.quantgate.calibration.CalibrationOptions;
import io.quantgate.calibration.CalibrationRunner;
import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.runtime.model.ModelWeights;
import io.quantgate.runtime.tokenizer.Tokenizer;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;

/** The CLI's {@code --calibration} handling, shared by the commands that quantize. */
final class Calibrations {
    private Calibrations() {
    }

    /**
     * The weights, calibrated on {@code file} when one is given; without one, a config that needs calibration is an
     * error naming the option.
     *
     * @param evaluated the text being evaluated, which must not be the calibration text (null when none)
     */
    /** The configs of a command, plus one more (a reference) when not null. */
    static QuantizationConfig[] with(java.util.List<QuantizationConfig> configs, QuantizationConfig more) {
        java.util.List<QuantizationConfig> all = new java.util.ArrayList<>(configs);
        if (more != null) {
            all.add(more);
        }
        return all.toArray(QuantizationConfig[]::new);
    }

    static ModelWeights open(ModelWeights weights, Tokenizer tok, Path file, CalibrationOptions options,
                             Path evaluated, PrintWriter progress, QuantizationConfig... configs) {
        if (file == null) {
            for (QuantizationConfig c : configs) {
                if (c != null && c.needsCalibration()) {
                    throw new IllegalArgumentException("config '" + c.label() + "' needs calibration text: add "
                            + "--calibration FILE (e.g. calibration/groups_merged.txt of the data directory)");
                }
            }
            return weights;
        }
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("calibration file " + file.toAbsolutePath() + " does not exist");
        }
        try {
            if (evaluated != null && Files.isRegularFile(evaluated) && Files.isSameFile(file, evaluated)) {
                throw new IllegalArgumentException("--calibration " + file + " is the evaluated text itself: calibrating "
                        + "on the test text makes its perplexity meaningless (use a training or validation text)");
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return CalibrationRunner.calibrate(weights, tok, file, options, progress == null ? null : line -> {
            progress.println(line);
            progress.flush();
        });
    }

}
