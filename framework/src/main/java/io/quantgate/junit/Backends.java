package io.quantgate.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The backends a {@link QuantTest} runs on: one invocation per backend × config (on a method), or the
 * default for every test of a class (on the class; the method's annotation wins). Without it the
 * class's {@link QuantBench#backend()} is used.
 *
 * <p>Today the only backend is {@code "native"} (the project's C kernels through
 * {@code java.lang.foreign}). A well-formed name of a backend this build does not have gives an
 * invocation that is aborted with "backend X is not available in this build (available: native)";
 * a blank or duplicated name is a configuration error.
 *
 * <pre>{@code
 * @QuantTest
 * @Backends({"native"})
 * @QuantConfig({"fp4-g128"})
 * @Throughput(level = Throughput.Level.KERNEL, shapes = "4096x4096")
 * void kernel(ThroughputResult t) { }
 * }</pre>
 */
@Target({ElementType.METHOD, ElementType.TYPE, ElementType.ANNOTATION_TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface Backends {

    /** Backend names, at least one. */
    String[] value();
}
