package io.quantgate.junit;

import io.quantgate.results.QuantResultsListener;
import io.quantgate.results.ResultsPublisher;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/**
 * Publishes the run's report as JUnit file entries, so IDEs and build tools that collect them (and the
 * Open Test Reporting XML) carry BENCHMARKS.md, the charts and the exports. A listener cannot publish files;
 * this run-scoped resource sits in the root store of the extension and is closed by JUnit after the last test
 * class finished — by then {@link QuantResultsListener} has written {@code results.json} for every class — so
 * it renders the report with the registered {@link ResultsPublisher}s and publishes the files as one directory
 * entry {@code quantgate-report} on the engine's context. The listener still writes the report at the very end
 * too (same files), so runs without Jupiter-level publishing lose nothing.
 */
final class ReportFiles implements AutoCloseable {
    private final ExtensionContext root;

    ReportFiles(ExtensionContext root) {
        this.root = root;
    }

    @Override
    public void close() {
        if ("false".equalsIgnoreCase(root.getConfigurationParameter(QuantResultsListener.REPORT).orElse("true"))) {
            return;
        }
        Path results = Path.of(root.getConfigurationParameter(QuantResultsListener.RESULTS_DIR)
                .orElse(QuantResultsListener.DEFAULT_RESULTS_DIR)).resolve("results.json").toAbsolutePath().normalize();
        if (!Files.isRegularFile(results)) {
            return;
        }
        List<Path> files = new ArrayList<>();
        files.add(results);
        try {
            for (ResultsPublisher p : ServiceLoader.load(ResultsPublisher.class)) {
                files.addAll(p.publish(results));
            }
            root.publishDirectory("quantgate-report", dir -> {
                for (Path f : files) {
                    if (Files.isRegularFile(f)) {
                        Files.copy(f, dir.resolve(f.getFileName().toString()), StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            });
        } catch (RuntimeException | java.util.ServiceConfigurationError e) {
            // the listener reports publisher failures itself at the end of the run; results.json stays
            System.err.println("[quantgate] report files not published to JUnit: " + e.getMessage());
        }
    }
}
