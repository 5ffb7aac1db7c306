package io.quantgate.backend;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * The backends on the classpath ({@link ServiceLoader} over {@link Backend}); the core framework ships
 * {@code native} and {@code external}, the optional artifacts under {@code backends/} add the others.
 */
public final class Backends {
    private Backends() {
    }

    /** Every backend found, by name, in discovery order. A provider that fails to load is reported, not skipped. */
    public static Map<String, Backend> all() {
        Map<String, Backend> found = new LinkedHashMap<>();
        ServiceLoader<Backend> loader = ServiceLoader.load(Backend.class, Backends.class.getClassLoader());
        var it = loader.iterator();
        while (true) {
            Backend b;
            try {
                if (!it.hasNext()) {
                    break;
                }
                b = it.next();
            } catch (ServiceConfigurationError e) {
                throw new IllegalStateException("a backend on the classpath failed to load: " + e.getMessage(), e);
            }
            Backend previous = found.putIfAbsent(b.name(), b);
            if (previous != null && previous.getClass() != b.getClass()) {
                throw new IllegalStateException("two backends are named '" + b.name() + "': "
                        + previous.getClass().getName() + " and " + b.getClass().getName());
            }
        }
        return found;
    }

    public static List<String> names() {
        return new ArrayList<>(all().keySet());
    }

    /**
     * The backend called {@code spec}, or {@code name:argument} for backends that take one (e.g.
     * {@code external:python3 engine.py}).
     *
     * @throws IllegalArgumentException naming the backends that are available when none has that name
     */
    public static Backend byName(String spec) {
        if (spec == null || spec.isBlank()) {
            throw new IllegalArgumentException("no backend named (available: " + String.join(", ", names()) + ")");
        }
        String s = spec.strip();
        int colon = s.indexOf(':');
        String name = colon < 0 ? s : s.substring(0, colon);
        Map<String, Backend> all = all();
        Backend b = all.get(name);
        if (b == null) {
            throw new IllegalArgumentException("no backend named '" + name + "' on the classpath (available: "
                    + String.join(", ", all.keySet()) + "; the optional ones are the artifacts "
                    + "quantgate-backend-llamacpp, -onnxruntime, -jlama and -java-vector)");
        }
        return colon < 0 ? b : b.withArgument(s.substring(colon + 1));
    }
}
