package io.quantgate.junit;

import io.quantgate.backend.Backend;
import io.quantgate.backend.Backends;

import java.util.List;
import java.util.Optional;

/**
 * The backends a {@code @Backends} / {@code @QuantBench(backend)} name can refer to: every
 * {@link io.quantgate.backend.Backend} on the classpath ({@code native} and {@code external:<command>} ship with
 * the framework; llama.cpp, ONNX Runtime, jlama and the Vector-API backend are optional artifacts). A test that
 * names a backend that is absent or cannot load here is aborted with the reason, never run on another engine.
 */
final class BackendRegistry {
    static final String NATIVE = "native";

    private BackendRegistry() {
    }

    static List<String> available() {
        return Backends.names();
    }

    /** The backend, or empty when it is unknown or unavailable here ({@link #notAvailable} says why). */
    static Optional<Backend> find(String name) {
        try {
            Backend b = Backends.byName(name);
            return b.unavailableReason().isPresent() ? Optional.empty() : Optional.of(b);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    static boolean isAvailable(String name) {
        return find(name).isPresent();
    }

    static String notAvailable(String name) {
        try {
            Backend b = Backends.byName(name);
            return "backend '" + name + "' is not available here: " + b.unavailableReason().orElse("unknown reason");
        } catch (IllegalArgumentException e) {
            return "backend '" + name + "' is not available in this build (available: "
                    + String.join(", ", available()) + "; optional backends join by being on the test classpath)";
        }
    }
}
