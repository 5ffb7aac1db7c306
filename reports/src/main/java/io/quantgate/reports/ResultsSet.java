package io.quantgate.reports;

import java.nio.file.Path;
import java.util.List;

/**
 * Everything a report is made from: the results files read (in the order found) and the paths that were looked
 * at but not read, with why (a JSON file of another kind found while scanning a directory).
 */
public record ResultsSet(List<Path> inputs, List<ResultsFile> files, List<String> ignored) {

    public List<BenchmarkRecord> records() {
        return files.stream().flatMap(f -> f.records().stream()).toList();
    }

    public boolean isEmpty() {
        return records().isEmpty();
    }
}
