package com.example.kernels;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import io.quantgate.junit.Kernel;
import io.quantgate.junit.KernelCheck;
import io.quantgate.junit.Perplexity;
import io.quantgate.junit.QuantBench;
import io.quantgate.junit.QuantConfig;
import io.quantgate.junit.QuantTest;
import io.quantgate.junit.Throughput;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;

/**
 * Proof that the gates catch what they are for: each fixture below is a test class a kernel author could write, run
 * here through JUnit's EngineTestKit (Surefire skips them: tag {@code fixture}).
 */
class GatesCatchBrokenKernelsTest {

    @Tag("fixture")
    @QuantBench(model = "llama2c-stories260K/stories260K.bin", dataset = "wikitext-2")
    @Kernel(JavaKernel.WrongNibbleOrder.class)
    static class WrongNibbleOrder {
        @QuantTest
        @QuantConfig("int4s-g32")
        @KernelCheck(cases = 16)
        @Perplexity(chunks = 16, maxDeltaPercent = 60)
        void gate() {
        }
    }

    @Tag("fixture")
    @QuantBench(model = "synthetic:tiny")
    @Kernel(value = CKernel.ExtraPass.class, referenceClass = CKernel.class)
    static class ExtraPassOverTheWeights {
        @QuantTest
        @QuantConfig("int4s-g32")
        @Throughput(level = Throughput.Level.KERNEL, shapes = "1024x1024", batch = 1, warmup = 3, iterations = 20,
                maxSeconds = 20, minSpeedupOver = 0.85)
        void notSlowerThanTheReleasedKernel() {
        }
    }

    @Tag("fixture")
    @QuantBench(model = "synthetic:tiny")
    @Kernel(value = CKernel.class, referenceClass = CKernel.class)
    static class TheReleasedKernelItself {
        @QuantTest
        @QuantConfig("int4s-g32")
        @Throughput(level = Throughput.Level.KERNEL, shapes = "1024x1024", batch = 1, warmup = 3, iterations = 20,
                maxSeconds = 20, minSpeedupOver = 0.85)
        void notSlowerThanTheReleasedKernel() {
        }
    }

    private static EngineExecutionResults run(Class<?> fixture) {
        // implicit parameters: the fixtures see the system properties Surefire sets (quantgate.data.dir)
        return EngineTestKit.engine("junit-jupiter").selectors(selectClass(fixture))
                .enableImplicitConfigurationParameters(true)
                .configurationParameter("quantgate.progress", "false")
                .configurationParameter("quantgate.report", "false")
                .configurationParameter("quantgate.results.dir", "target/quantgate-fixtures")
                .execute();
    }

    private static String failure(EngineExecutionResults r) {
        return r.testEvents().failed().list().getFirst().getPayload(org.junit.platform.engine.TestExecutionResult.class)
                .flatMap(org.junit.platform.engine.TestExecutionResult::getThrowable).map(Throwable::getMessage)
                .orElse("");
    }

    @Test
    void aWrongNibbleOrderFailsTheCorrectnessAndThePerplexityGates() {
        EngineExecutionResults r = run(WrongNibbleOrder.class);
        r.testEvents().assertStatistics(s -> s.started(1).failed(1));
        assertThat(failure(r)).contains("kernelCheck FAIL").contains("element [").contains("expected ")
                .contains("> bound").contains("maxDeltaPercent FAIL");
    }

    @Test
    void anExtraPassOverTheWeightsFailsTheSpeedGateAgainstTheReleasedKernel() {
        EngineExecutionResults r = run(ExtraPassOverTheWeights.class);
        r.testEvents().assertStatistics(s -> s.started(1).failed(1));
        assertThat(failure(r)).contains("minSpeedupOver FAIL: speedup over int4s-g32 (fp32 activations) on CKernel");
    }

    @Test
    void theReleasedKernelPassesItsOwnSpeedGate() {
        run(TheReleasedKernelItself.class).testEvents().assertStatistics(s -> s.started(1).succeeded(1));
    }
}
