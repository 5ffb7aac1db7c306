package io.quantgate.suites;

import io.quantgate.junit.Backends;
import io.quantgate.junit.Perplexity;
import io.quantgate.junit.QuantAssertions;
import io.quantgate.junit.QuantBench;
import io.quantgate.junit.QuantConfig;
import io.quantgate.junit.QuantResult;
import io.quantgate.junit.QuantTest;
import io.quantgate.junit.Throughput;
import io.quantgate.junit.ThroughputResult;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Tag;

/**
 * Backends × quantizations on the very same weights (docs/backends.md): each engine runs the file QuantGate
 * writes for the config (llama.cpp: GGUF F16 / Q8_0 = int8-g32 / Q4_0 = int4s-g32 with QuantGate's own codes;
 * jlama: safetensors; java: QuantGate's codes), interleaved with the native fp16 reference in the same rounds.
 * An engine that cannot hold a config exactly is aborted with "cannot run: why" — nothing is substituted.
 * Every engine's perplexity must agree with native's on the same weights ({@code maxEngineDeltaPercent}). These
 * records feed the report's backend charts; each states what the engine ran (version, CPU variant, threads).
 */
@Tag("suite")
class BackendComparisonSuite {

    /** stories260K: perplexity where the engine gives logits, and pp512 / tg128. */
    @Nested
    @QuantBench(model = "llama2c-stories260K/stories260K.bin", dataset = "wikitext-2", baseline = "fp32")
    @Backends({"native", "java", "jlama", "llamacpp"})
    class Stories {

        @QuantTest
        @QuantConfig({"fp32", "fp16", "int8-g32", "int4s-g32"})
        @Perplexity(ctx = 512, chunks = 32, maxDeltaPercent = 50, maxEngineDeltaPercent = 1.0)
        void perplexity(QuantResult r) {
            // the same weights must give the same model: each engine's perplexity within 1 % of native's on the same
            // config and chunks (the engine gate), and its KLD vs native fp32 small for fp32/fp16 (exact weights) and
            // bounded for the quantized ones
            QuantAssertions.assertThat(r).hasKldBelow(r.config().startsWith("int4") ? 1.0 : 0.05);
        }

        @QuantTest
        @QuantConfig({"fp16", "int8-g32", "int4s-g32"})
        @Throughput(level = Throughput.Level.DECODE, tokens = 128, reference = "fp16", warmup = 1, iterations = 5,
                maxSeconds = 120)
        void tg128(ThroughputResult t) {
            QuantAssertions.assertThat(t).hasAtLeastRounds(3);
        }

        @QuantTest
        @QuantConfig({"fp16", "int8-g32", "int4s-g32"})
        @Throughput(level = Throughput.Level.PREFILL, tokens = 511, reference = "fp16", warmup = 1, iterations = 5,
                maxSeconds = 120)
        void pp511(ThroughputResult t) {
            QuantAssertions.assertThat(t).hasAtLeastRounds(3);
        }
    }

    /**
     * The synthetic Llama 1B shape: decode and prefill on native and llama.cpp (which needs a vocabulary). Native
     * runs its int8-activation path, as llama.cpp quantizes activations to 8 bits for Q8_0/Q4_0 dot products.
     */
    @Nested
    @QuantBench(model = "synthetic:llama-1b", tokenizer = "tokenizers/llama2-32k/tokenizer.model", activations = "int8")
    @Backends({"native", "llamacpp"})
    class Llama1B {

        @QuantTest
        @Tag("full")
        @QuantConfig({"fp16", "int8-g32", "int4s-g32"})
        @Throughput(level = Throughput.Level.DECODE, tokens = 128, reference = "fp16", warmup = 1, iterations = 3,
                maxSeconds = 300)
        void tg128(ThroughputResult t) {
            QuantAssertions.assertThat(t).hasAtLeastRounds(3);
        }

        @QuantTest
        @Tag("full")
        @QuantConfig({"fp16", "int8-g32", "int4s-g32"})
        @Throughput(level = Throughput.Level.PREFILL, tokens = 512, reference = "fp16", warmup = 1, iterations = 3,
                maxSeconds = 300)
        void pp512(ThroughputResult t) {
            QuantAssertions.assertThat(t).hasAtLeastRounds(3);
        }

        /**
         * Decode on a 1536-token cache (llama-bench's {@code -d 1536}): every step's attention reads the whole cache,
         * fp32 on native, F16 on llama.cpp (its default) — a fifth of a token's bytes on native at this depth.
         */
        @QuantTest
        @Tag("full")
        @QuantConfig("int4s-g32")
        @Throughput(level = Throughput.Level.DECODE, tokens = 64, depth = 1536, reference = "fp16", warmup = 1,
                iterations = 3, maxSeconds = 300)
        void tg64AtDepth1536(ThroughputResult t) {
            QuantAssertions.assertThat(t).hasAtLeastRounds(3);
        }

        /** The default run: Q4_0 (int4s-g32) on both engines, each interleaved with native fp16. */
        @QuantTest
        @Tag("quick")
        @QuantConfig("int4s-g32")
        @Throughput(level = Throughput.Level.DECODE, tokens = 128, reference = "fp16", warmup = 1, iterations = 3,
                maxSeconds = 120)
        void tg128Q4(ThroughputResult t) {
            QuantAssertions.assertThat(t).hasAtLeastRounds(3);
        }

        @QuantTest
        @Tag("quick")
        @QuantConfig("int4s-g32")
        @Throughput(level = Throughput.Level.PREFILL, tokens = 512, reference = "fp16", warmup = 1, iterations = 3,
                maxSeconds = 120)
        void pp512Q4(ThroughputResult t) {
            QuantAssertions.assertThat(t).hasAtLeastRounds(3);
        }
    }
}
