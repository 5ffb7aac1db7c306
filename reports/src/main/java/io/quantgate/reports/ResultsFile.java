package io.quantgate.reports;

import java.nio.file.Path;
import java.util.List;

/**
 * One results file as read: its header and its records.
 *
 * @param machine the top-level {@code machine} description in one line ("" when absent)
 */
public record ResultsFile(Path path, String schema, String quantgateVersion, String startedAt, String writtenAt,
                          String machine, List<BenchmarkRecord> records) {
}
