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

    /** Prefix of a kernel named by its class: {@code class:com.example.MyKernel} (a public no-argument constructor). */
    public static final String CLASS_PREFIX = "class:";

    /**
     * The kernel {@code spec} names: a provider's name ({@code native}), {@code name:argument} for providers that take
     * one ({@code external-kernel:python3 k.py}), or {@code class:<fully qualified name>} for a class that implements
     * {@link LinearKernel} (how {@code @Kernel(MyKernel.class)} names one).
     *
     * @throws IllegalArgumentException naming the available kernels when there is none of that name
     */
    public static LinearKernel byName(String spec) {
        if (spec == null || spec.isBlank()) {
            throw new IllegalArgumentException("no kernel named (available: " + String.join(", ", names()) + ")");
        }
        String s = spec.strip();
        if (s.startsWith(CLASS_PREFIX)) {
            return instantiate(s.substring(CLASS_PREFIX.length()).strip());
        }
        int colon = s.indexOf(':');
        String name = colon < 0 ? s : s.substring(0, colon);
        Map<String, LinearKernel> all = all();
        LinearKernel k = all.get(name);
        if (k == null) {
            throw new IllegalArgumentException("no linear kernel named '" + name + "' on the classpath (available: "
                    + String.join(", ", all.keySet()) + ", external-kernel:<command>, or class:<name> of a class "
                    + "implementing io.quantgate.kernel.LinearKernel)");
        }
        return colon < 0 ? k : k.withArgument(s.substring(colon + 1));
    }

    /** The spec naming a kernel class, for {@link #byName}. */
    public static String spec(Class<? extends LinearKernel> type) {
        return CLASS_PREFIX + type.getName();
    }

    private static LinearKernel instantiate(String className) {
        Class<?> c;
        try {
            c = Class.forName(className, true, Thread.currentThread().getContextClassLoader() != null
                    ? Thread.currentThread().getContextClassLoader() : Kernels.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new IllegalArgumentException("kernel class " + className + " is not on the classpath", e);
        }
        if (!LinearKernel.class.isAssignableFrom(c)) {
            throw new IllegalArgumentException("kernel class " + className + " does not implement "
                    + LinearKernel.class.getName());
        }
        try {
            var ctor = c.getDeclaredConstructor();
            ctor.setAccessible(true);
            return (LinearKernel) ctor.newInstance();
        } catch (NoSuchMethodException e) {
            throw new IllegalArgumentException("kernel class " + className + " needs a constructor without arguments", e);
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw new IllegalArgumentException("kernel class " + className + " failed to construct: " + e.getCause(),
                    e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalArgumentException("kernel class " + className + " cannot be constructed: " + e, e);
        }
    }
}
