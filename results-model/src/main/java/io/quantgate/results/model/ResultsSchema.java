package io.quantgate.results.model;

/**
 * The id of the results format, defined once: every writer stamps it, every reader checks it. A change that removes
 * or redefines a field changes the id; adding a field does not (readers ignore fields they do not know).
 */
public final class ResultsSchema {
    /** The results format these records describe (docs/results-schema.md). */
    public static final String ID = "quantgate-results/1";
    /** Prefix shared by every version of the format, to recognise a results file of another version. */
    public static final String FAMILY = "quantgate-results/";

    private ResultsSchema() {
    }
}
