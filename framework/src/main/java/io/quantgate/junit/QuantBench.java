package io.quantgate.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Names what a class of {@link QuantTest}s measures: the model, its tokenizer, the evaluation text,
 * where the data lives, the configuration every quantized variant is compared with, and the backend.
 *
 * <pre>{@code
 * @QuantBench(model = "llama2c-stories260K/stories260K.bin", dataset = "wikitext-2")
 * class StoriesQualityTest {
 *
 *     @QuantTest
 *     @QuantConfig({"fp4-g32", "int4-g128", "mixed:attn.*=fp4-g32,mlp.*=fp4-g128"})
 *     @Perplexity(chunks = 16, maxDeltaPercent = 5)
 *     void staysCloseToFp32(QuantResult result) {
 *         QuantAssertions.assertThat(result).hasKldBelow(0.1);
 *     }
 * }
 * }</pre>
 *
 * <p>Relative file names ({@link #model()}, {@link #tokenizer()}, {@link #dataset()}) are looked up in
 * the data directory first, then in the working directory. The data directory is {@link #dataDir()},
 * else the configuration parameter {@code quantgate.data.dir} (system property or
 * {@code junit-platform.properties}), else {@code ../shared/data} from the working directory or its
 * parent. A file that is missing skips the tests that need it, naming the exact path.
 *
 * <p>The model is opened once per run (every test class naming the same model, data and settings shares it),
 * each quantized variant is built once and the baseline's logits are computed once per chunk and reused by
 * every configuration (within a memory budget, see {@code quantgate.baseline.cache.mb}); everything is
 * closed when the run ends.
 * May be used as a meta-annotation.
 */
@Target({ElementType.TYPE, ElementType.ANNOTATION_TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
public @interface QuantBench {

    /**
     * The model: a llama2.c checkpoint ({@code .bin}), a GGUF file ({@code .gguf}: F32/F16/BF16/Q8_0/Q4_0/Q4_K/Q6_K
     * tensors of llama, mistral, qwen2 or qwen3), a Hugging Face directory ({@code config.json} + safetensors,
     * single or sharded), or synthetic weights at a real shape ({@code synthetic:llama-1b}, {@code synthetic:llama-7b},
     * {@code synthetic:llama3-8b}, {@code synthetic:tiny}, {@code synthetic:dim=..,layers=..,heads=..,kv=..,hidden=..,
     * vocab=..}). A relative path is resolved in the data directory. Synthetic weights have meaningless outputs: use
     * them for {@link Throughput} only.
     */
    String model();

    /** Tokenizer file; empty = the one beside the model ({@code tokenizer.bin} or {@code tok<vocab>.bin}). */
    String tokenizer() default "";

    /**
     * The evaluation text for {@link Perplexity}: {@code "wikitext-2"} (the WikiText-2 raw test split,
     * {@code wikitext-2-raw/wiki.test.raw} under the data directory) or a path to a UTF-8 text file,
     * read whole and tokenized in one piece as llama.cpp does.
     */
    String dataset() default "wikitext-2";

    /** Directory the relative names are looked up in; empty = configuration ({@code quantgate.data.dir}). */
    String dataDir() default "";

    /** The configuration every {@link QuantConfig} is compared with (perplexity baseline), default fp32. */
    String baseline() default "fp32";

    /** Backend every test of the class runs on unless {@link Backends} says otherwise. */
    String backend() default "native";

    /**
     * Activations of quantized linears: {@code "fp32"} (default: weights-only quantization), {@code "int8"} (the fast
     * integer path of the native kernels) or {@code "bf16"} (weights and activations rounded to bf16, fp32 sums:
     * {@code vdpbf16ps} where the CPU has AVX512_BF16). Dense formats always use fp32.
     */
    String activations() default "fp32";

    /**
     * Calibration text for calibrated configs ({@code int4-g64+gptq}, {@code fp4-g128+had+gptq},
     * {@code int4s-g32+imatrix}) and {@code mixed:auto}: a UTF-8 text file, relative to the data directory, e.g.
     * {@code "calibration/groups_merged.txt"} or {@code "wikitext-2-tokens/valid.txt"}; never the evaluation text.
     * Empty = none (a config that needs it is then a configuration error). The model is run unquantized over
     * {@link #calibrationChunks()} chunks of up to 512 tokens drawn with {@link #calibrationSeed()}; the file's
     * SHA-256, tokens, chunks, ctx and seed are recorded in every result that used it.
     */
    String calibration() default "";

    /** Chunks drawn from {@link #calibration()} (GPTQ's reference uses 128 segments). */
    int calibrationChunks() default 128;

    /** Seed of the draw of calibration chunks. */
    long calibrationSeed() default 0;
}
