package io.quantgate.reports;

import io.quantgate.results.model.ResultsDocument;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** One results file as read: where it is and its document. */
public record ResultsFile(Path path, ResultsDocument document) {

    /** Its records, each with this file and its index. */
    public List<BenchmarkRecord> records() {
        List<BenchmarkRecord> out = new ArrayList<>(document.results().size());
        for (int i = 0; i < document.results().size(); i++) {
            out.add(new BenchmarkRecord(path, i, document.results().get(i)));
        }
        return List.copyOf(out);
    }

    public String quantgateVersion() {
        return document.quantgateVersion();
    }

    public String startedAt() {
        return document.startedAt();
    }

    public String writtenAt() {
        return document.writtenAt();
    }

    /** The top-level {@code machine} in one line ("" when absent). */
    public String machine() {
        return document.machine() == null ? "" : document.machine().describe();
    }
}
