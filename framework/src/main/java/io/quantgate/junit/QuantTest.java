package io.quantgate.junit;

import org.junit.jupiter.api.TestTemplate;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A quantization benchmark: a JUnit test template run once per configuration of {@link QuantConfig}
 * (and per backend of {@link Backends}) on the model of the class's {@link QuantBench}.
 *
 * <p>Before the method body runs, each invocation measures what the method's {@link Perplexity}
 * and/or {@link Throughput} ask for, evaluates their gates, and then
 * <ul>
 *   <li>fails the invocation when a gate's confidence interval lies wholly on the wrong side of its
 *       threshold (the message states the measured value, its interval, the threshold and what it was
 *       compared with);</li>
 *   <li>aborts it (JUnit "aborted", as a failed assumption) when an interval still straddles a threshold
 *       after the allowed re-measurements: an inconclusive gate never passes silently;</li>
 *   <li>otherwise runs the body, which may take {@link QuantResult}, {@link ThroughputResult},
 *       {@link io.quantgate.evaluation.ComparisonResult}, {@link io.quantgate.evaluation.PerplexityResult}
 *       (of the quantized model) and the quantized {@link io.quantgate.runtime.model.LlamaModel} as
 *       parameters, and assert more with {@link QuantAssertions}.</li>
 * </ul>
 * The invocation's display name is the config followed by its figures and verdict, e.g.
 * {@code fp4-g32 · ΔPPL +2.31% [+1.9, +2.7] · KLD 0.0123 · PASS}; the figures are also published as
 * report entries and gathered into {@code target/quantgate/results.json}.
 *
 * <pre>{@code
 * @QuantTest
 * @QuantConfig({"fp4-g64", "int4-g128"})
 * @Throughput(level = Throughput.Level.DECODE, reference = "fp16", minSpeedupOver = 1.5)
 * void decodesFasterThanFp16(ThroughputResult t) { }
 * }</pre>
 *
 * May be used as a meta-annotation, e.g. to name a house gate:
 * <pre>{@code
 * @Target(ElementType.METHOD) @Retention(RetentionPolicy.RUNTIME)
 * @QuantTest @Perplexity(chunks = 32, maxDeltaPercent = 2, maxKld = 0.05)
 * @interface ShipQuality { }
 * }</pre>
 */
@Target({ElementType.METHOD, ElementType.ANNOTATION_TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@TestTemplate
@ExtendWith(QuantTestExtension.class)
public @interface QuantTest {
}
