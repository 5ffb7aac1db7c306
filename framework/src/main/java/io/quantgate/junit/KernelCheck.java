package io.quantgate.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The correctness gate of a kernel: the test's {@link Kernel} (or {@code native}) runs every {@link QuantConfig} on
 * {@link #cases()} seeded random shapes — odd N, K not a multiple of the group, M from 1 to {@link #maxBatch()}, an
 * all-zero group, extreme fp16 scales — and every output must lie within the error bound of docs/kernels.md of the
 * exact product of the same dequantized weights (the Java oracle). A failure names the shape, the element, the
 * expected and the actual value and the bound. The gate is named {@code kernelCheck} in results.
 */
@Target({ElementType.METHOD, ElementType.ANNOTATION_TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface KernelCheck {

    /** Random shapes per configuration. */
    int cases() default 24;

    /** Seed of the shapes, weights and activations (the same seed checks the same cases). */
    long seed() default 42;

    /** Largest activation batch M checked. */
    int maxBatch() default 64;

    /**
     * Multiplies the documented bound. 1 is the bound of an fp32 kernel; a kernel that accumulates in lower precision
     * states its own factor here, and the results say so.
     */
    double boundFactor() default 1.0;

    /** Activations checked ({@code fp32} or {@code int8}); empty = {@link QuantBench#activations()}. */
    String activations() default "";
}
