package com.example.kernels;

import io.quantgate.junit.Kernel;
import io.quantgate.junit.KernelCheck;
import io.quantgate.junit.Perplexity;
import io.quantgate.junit.QuantAssertions;
import io.quantgate.junit.QuantBench;
import io.quantgate.junit.QuantConfig;
import io.quantgate.junit.QuantResult;
import io.quantgate.junit.QuantTest;

/** The same gates on the plain Java kernel. */
@QuantBench(model = "llama2c-stories260K/stories260K.bin", dataset = "wikitext-2")
@Kernel(JavaKernel.class)
class JavaKernelGateTest {

    @QuantTest
    @QuantConfig({"int4s-g32", "int4s-g64"})
    @KernelCheck(cases = 16)
    @Perplexity(chunks = 16, maxDeltaPercent = 60)
    void correctAndCloseToFp32(QuantResult r) {
        QuantAssertions.assertThat(r).hasSameTopTokenAtLeast(40);
    }
}
