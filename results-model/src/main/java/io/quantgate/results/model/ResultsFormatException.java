package io.quantgate.results.model;

import java.nio.file.Path;

/** A results file that cannot be read as one: names the file and what is wrong with it, and where. */
public final class ResultsFormatException extends IllegalArgumentException {
    private final transient Path file;

    public ResultsFormatException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public ResultsFormatException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    public Path file() {
        return file;
    }
}
