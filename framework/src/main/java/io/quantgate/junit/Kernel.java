package io.quantgate.junit;

import io.quantgate.kernel.LinearKernel;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The linear kernel under test: every {@link QuantTest} of the class (or this method) runs its linear layers on it.
 * {@link Perplexity} gates it on real text (QuantGate's model runs every linear layer through the kernel; attention
 * and norms stay QuantGate's), {@link Throughput} times it against a reference kernel ({@link #reference()}, default
 * {@code native}) in the same interleaved rounds, and {@link KernelCheck} compares it with the Java oracle.
 *
 * <pre>{@code
 * @QuantBench(model = "llama2c-stories260K/stories260K.bin")
 * @Kernel(MyFp4Kernel.class)
 * class Fp4GateTest { ... }
 *
 * @Kernel(name = "external-kernel:python3 kernels/my_kernel.py")   // a kernel in another process
 * }</pre>
 *
 * Works on a class (inherited, found on enclosing classes of {@code @Nested} tests), on a method (which wins), and as
 * a meta-annotation.
 */
@Target({ElementType.TYPE, ElementType.METHOD, ElementType.ANNOTATION_TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
public @interface Kernel {

    /** The kernel class: implements {@link LinearKernel}, has a constructor without arguments. */
    Class<? extends LinearKernel> value() default LinearKernel.class;

    /**
     * Or the kernel by name: a provider on the classpath ({@code native}, {@code onnxruntime}, ...) or
     * {@code external-kernel:<command>} for a kernel in another process (docs/kernels.md).
     */
    String name() default "";

    /**
     * The kernel its speed is compared with (by name), on the same configuration unless {@link Throughput#reference()}
     * says otherwise.
     */
    String reference() default "native";

    /** Or the reference kernel by class (e.g. the last released version of the kernel under test). */
    Class<? extends LinearKernel> referenceClass() default LinearKernel.class;
}
