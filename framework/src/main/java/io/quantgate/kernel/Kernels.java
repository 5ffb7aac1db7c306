package io.quantgate.kernel;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * The linear kernels on the classpath ({@link ServiceLoader} over {@link LinearKernel}): the framework ships
 * {@code native}; optional artifacts (the ONNX Runtime backend) and users add others.
 */
public final class Kernels {
    private Kernels() {
    }

    /** Every kernel found, by name, in discovery order. A provider that fails to load is reported, not skipped. */
    public static Map<String, LinearKernel> all() {
        Map<String, LinearKernel> found = new LinkedHashMap<>();
        var it = ServiceLoader.load(LinearKernel.class, Kernels.class.getClassLoader()).iterator();
        while (true) {
            LinearKernel k;
            try {
                if (!it.hasNext()) {
                    break;
                }
                k = it.next();
            } catch (ServiceConfigurationError e) {
                throw new IllegalStateException("a linear kernel on the classpath failed to load: " + e.getMessage(), e);
            }
            LinearKernel previous = found.putIfAbsent(k.name(), k);
            if (previous != null && previous.getClass() != k.getClass()) {
                throw new IllegalStateException("two kernels are named '" + k.name() + "': "
                        + previous.getClass().getName() + " and " + k.getClass().getName());
            }
        }
        return found;
    }

    public static List<String> names() {
        return new ArrayList<>(all().keySet());
    }

    /** The kernel called {@code name}, naming the available ones when there is none. */
    public static LinearKernel byName(String name) {
        Map<String, LinearKernel> all = all();
        LinearKernel k = name == null ? null : all.get(name.strip());
        if (k == null) {
            throw new IllegalArgumentException("no linear kernel named '" + name + "' on the classpath (available: "
                    + String.join(", ", all.keySet()) + ")");
        }
        return k;
    }
}
