package io.quantgate.results;

import io.quantgate.results.model.ResultRecord;
import io.quantgate.results.model.ResultsDocument;
import io.quantgate.results.model.ResultsJson;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.commons.support.AnnotationSupport;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * Gathers every QuantGate measurement of a test run into {@code <quantgate.results.dir>/results.json}
 * (default {@code target/quantgate/results.json}; schema in {@code docs/results-schema.md}). Registered
 * through {@code META-INF/services/org.junit.platform.launcher.TestExecutionListener}, so Maven Surefire,
 * Gradle and IDEs pick it up with no configuration.
 *
 * <p>When a test finishes, its record (put by the extension into {@link ResultsCollector} under its unique
 * id) is taken and completed with the test's status. The file is rewritten atomically after each test class
 * that produced records and at the end of the run, so an interrupted run still leaves the classes it
 * finished. A run that measured nothing writes nothing. Thread-safe: JUnit may call it from several threads
 * under parallel execution.
 *
 * <p>At the end of a run that wrote results, every {@link ResultsPublisher} on the classpath (the reports
 * module registers one) turns the file into its report, unless {@code quantgate.report=false}. A publisher that
 * fails is reported on standard error; the results file stays as written.
 */
public final class QuantResultsListener implements TestExecutionListener {
    public static final String RESULTS_DIR = "quantgate.results.dir";
    public static final String DEFAULT_RESULTS_DIR = "target/quantgate";
    public static final String REPORT = "quantgate.report";

    private final Object lock = new Object();
    private final List<ResultRecord> records = new ArrayList<>();
    private Path resultsFile;
    private Instant started;
    private boolean dirty;
    private String reportSetting;

    /** For {@link java.util.ServiceLoader}. */
    public QuantResultsListener() {
    }

    @Override
    public void testPlanExecutionStarted(TestPlan testPlan) {
        String dir = testPlan.getConfigurationParameters().get(RESULTS_DIR).orElse(DEFAULT_RESULTS_DIR);
        String report = testPlan.getConfigurationParameters().get(REPORT).orElse("true").strip();
        synchronized (lock) {
            reportSetting = report;
            resultsFile = Path.of(dir).resolve("results.json").toAbsolutePath().normalize();
            started = Instant.now();
            records.clear();
            dirty = false;
        }
    }

    /**
     * A QuantGate test skipped as a whole (its data is missing, a condition disabled it): the reason goes to the
     * console, where Maven Surefire shows only a count.
     */
    @Override
    public void executionSkipped(TestIdentifier id, String reason) {
        if (isQuantTest(id)) {
            System.out.println("[quantgate] " + name(id) + ": SKIPPED: " + reason);
        }
    }

    @Override
    public void executionFinished(TestIdentifier id, TestExecutionResult result) {
        if (id.isTest()) {
            ResultsCollector.take(id.getUniqueId()).ifPresent(r -> {
                String message = result.getThrowable().map(Throwable::getMessage).orElse(null);
                if (result.getStatus() != TestExecutionResult.Status.SUCCESSFUL) {
                    // Surefire's console shows neither display names nor the reason of an abort: say both here
                    System.out.println("[quantgate] " + r.testName() + " [" + (r.test() == null ? r.config()
                            : r.test().displayName()) + "]: " + result.getStatus() + (message == null ? ""
                            : ": " + message.lines().findFirst().orElse("")));
                }
                ResultRecord rec = r.withOutcome(result.getStatus().name(), message, Instant.now().toString());
                synchronized (lock) {
                    records.add(rec);
                    dirty = true;
                }
            });
        } else if (id.getSource().filter(s -> s instanceof ClassSource).isPresent()) {
            writeIfDirty();
        }
    }

    @Override
    public void testPlanExecutionFinished(TestPlan testPlan) {
        writeIfDirty();
        publish();
    }

    /** Hands the written results to the registered {@link ResultsPublisher}s (see the class comment). */
    private void publish() {
        Path file;
        String setting;
        synchronized (lock) {
            if (records.isEmpty() || resultsFile == null) {
                return;
            }
            file = resultsFile;
            setting = reportSetting;
        }
        if ("false".equalsIgnoreCase(setting)) {
            return;
        }
        if (!"true".equalsIgnoreCase(setting)) {
            System.err.println("[quantgate] configuration error: " + REPORT + " must be true or false, was '"
                    + setting + "'; no report written");
            return;
        }
        try {
            for (ResultsPublisher publisher : ServiceLoader.load(ResultsPublisher.class)) {
                try {
                    List<Path> written = publisher.publish(file);
                    if (!written.isEmpty()) {
                        System.out.println("[quantgate] report: " + written.getFirst() + " (+" + (written.size() - 1)
                                + " files in " + written.getFirst().getParent() + ")");
                    }
                } catch (RuntimeException e) {
                    System.err.println("[quantgate] report not written by " + publisher.getClass().getName() + ": "
                            + e.getMessage() + " (results stay in " + file + ")");
                }
            }
        } catch (ServiceConfigurationError e) {
            System.err.println("[quantgate] no report: a ResultsPublisher could not be loaded: " + e.getMessage());
        }
    }

    private void writeIfDirty() {
        synchronized (lock) {
            if (!dirty || resultsFile == null) {
                return;
            }
            ResultsJson.write(resultsFile, ResultsDocument.of(QuantGateVersion.get(), null, started.toString(),
                    Instant.now().toString(), Records.machine(), records));
            dirty = false;
        }
    }

    private static boolean isQuantTest(TestIdentifier id) {
        return id.getSource().filter(src -> src instanceof MethodSource).map(src -> {
            MethodSource m = (MethodSource) src;
            try {
                // by name: this package does not depend on the extension's (which depends on it)
                @SuppressWarnings("unchecked")
                Class<? extends java.lang.annotation.Annotation> quantTest = (Class<? extends java.lang.annotation.Annotation>)
                        Class.forName("io.quantgate.junit.QuantTest");
                return AnnotationSupport.isAnnotated(m.getJavaMethod(), quantTest);
            } catch (RuntimeException | ClassNotFoundException e) {
                return false;
            }
        }).orElse(false);
    }

    private static String name(TestIdentifier id) {
        return id.getSource().filter(src -> src instanceof MethodSource)
                .map(src -> ((MethodSource) src).getJavaClass().getSimpleName() + "." + ((MethodSource) src).getMethodName())
                .orElse(id.getDisplayName());
    }

    /** Where this listener writes (after {@link #testPlanExecutionStarted}); for tests and logs. */
    public Path resultsFile() {
        synchronized (lock) {
            return resultsFile;
        }
    }
}
