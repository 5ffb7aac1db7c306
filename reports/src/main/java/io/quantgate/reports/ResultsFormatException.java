package io.quantgate.reports;

import java.nio.file.Path;

/**
 * A results file that cannot be read as {@code quantgate-results/1}: not JSON, another schema, or a field of the
 * wrong type. The message names the file and what is wrong; the command prints it instead of a stack trace.
 */
public final class ResultsFormatException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public ResultsFormatException(Path file, String what) {
        super(file + ": " + what);
    }

    public ResultsFormatException(Path file, String what, Throwable cause) {
        super(file + ": " + what, cause);
    }
}
