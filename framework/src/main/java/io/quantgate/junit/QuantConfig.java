package io.quantgate.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The quantization configurations a {@link QuantTest} runs: one invocation per entry, in order.
 * Each entry is a config id of the project's grammar ({@code docs/formats.md}): a plain id
 * ({@code fp4-g32}, {@code int4-g128}, {@code nf4-g64}, {@code int8}, {@code fp16}), {@code uniform:<id>}
 * or {@code mixed:<pattern>=<id>,...} (rules matched in order against tensor names such as
 * {@code attn.q} or {@code mlp.down}; unmatched linears keep fp32).
 *
 * <pre>{@code
 * @QuantTest
 * @QuantConfig({"fp4-g32", "fp4-g128", "mixed:attn.*=fp4-g32,mlp.*=fp4-g128"})
 * @Perplexity(chunks = 8, maxDeltaPercent = 40)
 * void quality(QuantResult r) { }
 * }</pre>
 *
 * An entry that does not parse is a configuration error naming it; nothing runs. A group size larger
 * than a tensor's input dimension K becomes one group per row (SPEC §1), as the loader documents.
 * {@code mixed:auto} is not accepted here (it needs a sensitivity measurement first).
 */
@Target({ElementType.METHOD, ElementType.ANNOTATION_TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface QuantConfig {

    /** Config ids, at least one. */
    String[] value();
}
