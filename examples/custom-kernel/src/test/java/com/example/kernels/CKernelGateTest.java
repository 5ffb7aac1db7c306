package com.example.kernels;

import static org.assertj.core.api.Assertions.assertThat;

import io.quantgate.junit.Kernel;
import io.quantgate.junit.KernelCheck;
import io.quantgate.junit.Perplexity;
import io.quantgate.junit.QuantAssertions;
import io.quantgate.junit.QuantBench;
import io.quantgate.junit.QuantConfig;
import io.quantgate.junit.QuantResult;
import io.quantgate.junit.QuantTest;
import io.quantgate.junit.Throughput;
import io.quantgate.junit.ThroughputResult;

/**
 * The gates a kernel author keeps beside their C kernel: correct against QuantGate's oracle on hard shapes, close to
 * fp32 on real text when it runs every linear layer of a real model, and not slower than the released version.
 */
@QuantBench(model = "llama2c-stories260K/stories260K.bin", dataset = "wikitext-2")
@Kernel(CKernel.class)
class CKernelGateTest {

    @QuantTest
    @QuantConfig("int4s-g32")
    @KernelCheck(cases = 16)
    @Perplexity(chunks = 16, maxDeltaPercent = 60)
    void correctAndCloseToFp32(QuantResult r) {
        assertThat(r.kernel()).isEqualTo("CKernel");
        QuantAssertions.assertThat(r).hasSameTopTokenAtLeast(40);
    }

    /** Speed against the last released kernel (here: itself), interleaved in the same rounds. */
    @QuantTest
    @QuantConfig("int4s-g32")
    @Kernel(value = CKernel.class, referenceClass = CKernel.class)
    @Throughput(level = Throughput.Level.KERNEL, shapes = "1024x1024", batch = {1, 4}, warmup = 3, iterations = 20,
            maxSeconds = 20, minSpeedupOver = 0.85)
    void notSlowerThanTheReleasedKernel(ThroughputResult t) {
        QuantAssertions.assertThat(t).hasAtLeastRounds(5);
    }

    /** Speed against QuantGate's own kernels on the same weights: reported, not gated (this example is plain C on one thread). */
    @QuantTest
    @QuantConfig("int4s-g32")
    @Throughput(level = Throughput.Level.KERNEL, shapes = "1024x1024", batch = {1, 16}, warmup = 3, iterations = 20,
            maxSeconds = 20)
    void speedAgainstNative(ThroughputResult t) {
        assertThat(t.reference()).isEqualTo("int4s-g32");
        assertThat(t.rows()).allSatisfy(row -> assertThat(row.referenceSubject()).endsWith("on native"));
    }
}
