package io.quantgate.junit;

import java.util.List;

/**
 * The backends this build can run. Today only {@code native}: the project's C kernels called through
 * {@code java.lang.foreign}. Other backends (a second kernel library, a GPU) are a later issue; tests that
 * name one are aborted with a clear reason rather than silently run on {@code native}.
 */
final class BackendRegistry {
    static final String NATIVE = "native";

    private BackendRegistry() {
    }

    static List<String> available() {
        return List.of(NATIVE);
    }

    static boolean isAvailable(String name) {
        return available().contains(name);
    }

    static String notAvailable(String name) {
        return "backend '" + name + "' is not available in this build (available: " + String.join(", ", available())
                + ")";
    }
}
