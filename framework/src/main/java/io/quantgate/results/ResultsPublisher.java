package io.quantgate.results;

import java.nio.file.Path;
import java.util.List;

/**
 * Something that turns a freshly written {@code results.json} into other artifacts (the reports module's
 * Markdown report, charts and exports) at the end of a test run. {@link QuantResultsListener} finds
 * implementations with {@link java.util.ServiceLoader} (registered in
 * {@code META-INF/services/io.quantgate.results.ResultsPublisher}), so the framework does not depend on the
 * module that renders reports: with that module on the test classpath a run ends with its report, without it
 * nothing changes. Switched off with the configuration parameter {@code quantgate.report=false}.
 */
public interface ResultsPublisher {

    /**
     * Publishes the results of a run.
     *
     * @param resultsFile the {@code results.json} the listener has just written
     * @return the files written (for the log), in a stable order
     * @throws RuntimeException when publishing fails; the listener reports it and the run's results stay
     */
    List<Path> publish(Path resultsFile);
}
