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
 * <p>A name is any backend of the backend SPI on the test classpath: {@code native} (QuantGate's own engine on its
 * C kernels) and {@code external:<command>} ship with the framework; {@code llamacpp}, {@code onnxruntime},
 * {@code jlama} and {@code java} join by adding their artifacts (docs/backends.md). Every backend runs the same
 * measurement through the harness: perplexity through its logits, prefill and decode timed from the caller's side,
 * interleaved with the reference (native) in the same rounds. A well-formed name of a backend this build does not
 * have, or one that cannot load here, gives an invocation that is aborted with the reason and the available names —
 * nothing runs on another engine instead; a blank or duplicated name is a configuration error.
 *
 * <pre>{@code
 * @QuantTest
 * @Backends({"native", "llamacpp"})
 * @QuantConfig({"fp4-g128"})
 * @Throughput(level = Throughput.Level.DECODE, tokens = 128, reference = "fp16")
 * void decode(ThroughputResult t) { }
 * }</pre>
 */
@Target({ElementType.METHOD, ElementType.TYPE, ElementType.ANNOTATION_TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface Backends {

    /** Backend names, at least one. */
    String[] value();
}
