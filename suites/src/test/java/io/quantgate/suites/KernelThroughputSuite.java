package io.quantgate.suites;

import io.quantgate.junit.QuantAssertions;
import io.quantgate.junit.QuantBench;
import io.quantgate.junit.QuantConfig;
import io.quantgate.junit.QuantTest;
import io.quantgate.junit.Throughput;
import io.quantgate.junit.ThroughputResult;
import org.junit.jupiter.api.Tag;

/**
 * Fused dequantize-GEMV/GEMM at real layer shapes (Llama-7B: 4096×4096, 11008×4096, 4096×11008; Llama-3-8B:
 * 14336×4096, 4096×14336) on seeded synthetic weights, each config interleaved with dense fp16 and a
 * memory-bandwidth probe in the same rounds, every call streaming from DRAM (each case rotates over copies
 * totalling 4 × the last-level cache). Rows: weight GB/s, GFLOP/s, fraction of the probe's bandwidth and the
 * paired speedup over fp16 with its bootstrap interval.
 *
 * <p>The gate: with int8 activations, every quantized format must beat dense fp16 by 1.5× at batch 1 and 16,
 * decided on the interval of the per-round paired ratios (on the development machine 4-bit formats reach
 * about 4× at batch 1 and 3× at batch 16, int8 about 2× and 3×: see docs/benchmarks.md).
 */
@Tag("suite")
@QuantBench(model = "synthetic:llama-7b")
class KernelThroughputSuite {

    @QuantTest
    @Tag("full")
    @QuantConfig({"int8", "int4-g128", "int4s-g128", "fp4-g128", "nf4-g128"})
    @Throughput(level = Throughput.Level.KERNEL, shapes = {"4096x4096", "11008x4096", "4096x11008", "14336x4096",
        "4096x14336"}, batch = {1, 16}, reference = "fp16", activations = "int8", maxSeconds = 20,
            minSpeedupOver = 1.5)
    void quantizedKernelsBeatFp16(ThroughputResult t) {
        // batch-1 GEMV reads the weights once: with int8 activations it should run near the bandwidth probe
        QuantAssertions.assertThat(t).hasAtLeastRounds(5);
    }

    /** The default run's rows: three formats at the two Llama-7B shapes of a decoder block's main streams. */
    @QuantTest
    @Tag("quick")
    @QuantConfig({"int8", "int4-g128", "fp4-g128"})
    @Throughput(level = Throughput.Level.KERNEL, shapes = {"4096x4096", "11008x4096"}, batch = {1, 16},
            reference = "fp16", activations = "int8", maxSeconds = 10, minSpeedupOver = 1.5)
    void quantizedKernelsBeatFp16AtTwoShapes(ThroughputResult t) {
        QuantAssertions.assertThat(t).hasAtLeastRounds(5);
    }

    @QuantTest
    @Tag("full")
    @QuantConfig({"fp32", "bf16"})
    @Throughput(level = Throughput.Level.KERNEL, shapes = {"4096x4096", "4096x11008"}, batch = {1, 16},
            reference = "fp16", maxSeconds = 20)
    void denseFormats(ThroughputResult t) {
        QuantAssertions.assertThat(t).hasAtLeastRounds(5);
    }
}
