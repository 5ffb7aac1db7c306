package io.quantgate.suites;

import io.quantgate.junit.QuantAssertions;
import io.quantgate.junit.QuantBench;
import io.quantgate.junit.QuantConfig;
import io.quantgate.junit.QuantTest;
import io.quantgate.junit.Throughput;
import io.quantgate.junit.ThroughputResult;
import org.junit.jupiter.api.Tag;

/**
 * Whole-model speed as llama-bench reports it, on seeded synthetic weights of the Llama 1B shape (dim 2048,
 * 16 layers, 32/8 heads, hidden 5632, vocab 32000): pp512 (a 512-token prompt in one batch) and tg128 (128
 * decode steps), each config interleaved with fp16 and a bandwidth probe. A 1B model takes seconds per round
 * on a small machine, so the suite measures 5 rounds after 1 warmup (llama-bench's default repetitions);
 * {@code -Dquantgate.iterations=N} asks for more.
 *
 * <p>The gate: decoding is bound by reading the weights, so a quantized model must decode at least 1.2× as
 * fast as fp16 (its weights are 2–4× smaller).
 */
@Tag("suite")
@QuantBench(model = "synthetic:llama-1b", activations = "int8")
class ModelThroughputSuite {

    @QuantTest
    @Tag("full")
    @QuantConfig({"fp4-g128", "int4-g128", "int8"})
    @Throughput(level = Throughput.Level.PREFILL, tokens = 512, reference = "fp16", warmup = 1, iterations = 5,
            maxSeconds = 300, minSpeedupOver = 1.0)
    void pp512(ThroughputResult t) {
        // prefill is compute-bound: a quantized model must at least not be slower than fp16 (gated above);
        // every round must have been measured, not cut short by the time budget
        QuantAssertions.assertThat(t).hasAtLeastRounds(5);
    }

    @QuantTest
    @Tag("full")
    @QuantConfig({"fp4-g128", "int4-g128", "int8"})
    @Throughput(level = Throughput.Level.DECODE, tokens = 128, reference = "fp16", warmup = 1, iterations = 5,
            maxSeconds = 300, minSpeedupOver = 1.2)
    void tg128(ThroughputResult t) {
        QuantAssertions.assertThat(t).hasAtLeastRounds(5);
    }

    /** The default run: fp4-g128 (the format of the README's example) against fp16, 3 rounds of each. */
    @QuantTest
    @Tag("quick")
    @QuantConfig("fp4-g128")
    @Throughput(level = Throughput.Level.PREFILL, tokens = 512, reference = "fp16", warmup = 1, iterations = 3,
            maxSeconds = 120, minSpeedupOver = 1.0)
    void pp512Fp4(ThroughputResult t) {
        QuantAssertions.assertThat(t).hasAtLeastRounds(3);
    }

    @QuantTest
    @Tag("quick")
    @QuantConfig("fp4-g128")
    @Throughput(level = Throughput.Level.DECODE, tokens = 128, reference = "fp16", warmup = 1, iterations = 3,
            maxSeconds = 120, minSpeedupOver = 1.2)
    void tg128Fp4(ThroughputResult t) {
        QuantAssertions.assertThat(t).hasAtLeastRounds(3);
    }
}
