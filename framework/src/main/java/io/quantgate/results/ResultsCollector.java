package io.quantgate.results;

import io.quantgate.results.model.ResultRecord;

import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The hand-over point between the QuantGate extension and {@link QuantResultsListener}: the extension
 * {@link #put}s the record of an invocation under the invocation's JUnit unique id before the
 * test body runs; the listener {@link #take}s it when JUnit reports that test finished and adds the outcome.
 *
 * <p>Why not report entries alone: the records carry raw samples (every round, every chunk), far too big for
 * the string maps of report entries, which end up in every IDE console and XML report. The extension still
 * publishes the headline figures as report entries for IDEs. Keying by unique id makes the hand-over
 * independent of threads (JUnit may run tests in parallel, and the listener is called on the test's thread
 * or another one) and lets several launchers in one JVM (e.g. EngineTestKit inside a test run) each take
 * only their own records. Thread-safe.
 */
public final class ResultsCollector {
    private static final ConcurrentHashMap<String, ResultRecord> PENDING = new ConcurrentHashMap<>();

    private ResultsCollector() {
    }

    public static void put(String uniqueId, ResultRecord record) {
        PENDING.put(Objects.requireNonNull(uniqueId, "uniqueId"), Objects.requireNonNull(record, "record"));
    }

    /** Removes and returns the record of {@code uniqueId}, if one was put. */
    public static Optional<ResultRecord> take(String uniqueId) {
        return Optional.ofNullable(PENDING.remove(uniqueId));
    }

    /** Records put and not yet taken (for tests). */
    static int pending() {
        return PENDING.size();
    }
}
