package io.quantgate.results.model;

import java.util.List;

/**
 * A whole results file: written by the JUnit results listener ({@code target/quantgate/results.json}) and by every
 * {@code quantgate bench ... --json / --out}; read by the reports module.
 *
 * @param schema           {@link ResultsSchema#ID}
 * @param quantgateVersion version of the framework that wrote it ({@code unknown} from unpackaged classes)
 * @param command          the command line that produced it (null for a JUnit run)
 * @param startedAt        when the run started (ISO-8601)
 * @param writtenAt        when this file was written
 * @param machine          the machine it ran on
 * @param results          one record per invocation (or command cell), in the order they finished
 */
public record ResultsDocument(String schema, String quantgateVersion, String command, String startedAt,
                              String writtenAt, Machine machine, List<ResultRecord> results) {
    public ResultsDocument {
        results = results == null ? List.of() : List.copyOf(results);
    }

    /** A document of the current schema. */
    public static ResultsDocument of(String quantgateVersion, String command, String startedAt, String writtenAt,
                                     Machine machine, List<ResultRecord> results) {
        return new ResultsDocument(ResultsSchema.ID, quantgateVersion, command, startedAt, writtenAt, machine, results);
    }
}
