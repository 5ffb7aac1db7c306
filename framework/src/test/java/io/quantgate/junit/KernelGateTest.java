package io.quantgate.junit;

import static org.assertj.core.api.Assertions.assertThat;

import io.quantgate.gate.GateResult;
import io.quantgate.gate.Verdict;
import io.quantgate.kernel.PlainJavaKernel;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.platform.testkit.engine.EngineExecutionResults;

/**
 * {@code @Kernel}: the user's kernel runs every linear layer of the model ({@code @Perplexity} on real text), is
 * checked against the oracle ({@code @KernelCheck}) and timed against a reference kernel ({@code @Throughput}).
 */
class KernelGateTest {
    static final List<Object> SEEN = new CopyOnWriteArrayList<>();

    @BeforeEach
    void clear() {
        SEEN.clear();
    }

    @Fixture
    @QuantBench(model = "llama2c-stories260K/stories260K.bin")
    @Kernel(PlainJavaKernel.class)
    static class Correct {
        @QuantTest
        @QuantConfig("int4s-g32")
        @KernelCheck(cases = 6, maxBatch = 8)
        @Perplexity(chunks = 2, maxDeltaPercent = 60)
        void gate(QuantResult r) {
            SEEN.add(r);
        }
    }

    @Fixture
    @QuantBench(model = "llama2c-stories260K/stories260K.bin")
    @Kernel(PlainJavaKernel.WrongNibbles.class)
    static class WrongNibbles {
        @QuantTest
        @QuantConfig("int4s-g32")
        @KernelCheck(cases = 6, maxBatch = 8)
        @Perplexity(chunks = 2, maxDeltaPercent = 60)
        void gate(QuantResult r) {
            SEEN.add(r);
        }
    }

    @Test
    void aCorrectUserKernelPassesTheCorrectnessAndQualityGatesOnRealText() {
        Kit.run(Correct.class).testEvents().assertStatistics(s -> s.started(1).succeeded(1));
        QuantResult r = (QuantResult) SEEN.getFirst();
        assertThat(r.kernel()).isEqualTo("PlainJavaKernel");
        assertThat(r.ran()).contains("every linear layer on kernel 'plain-java'");
        assertThat(r.gates()).extracting(GateResult::name).containsExactly("maxDeltaPercent", "kernelCheck");
        assertThat(r.gates()).allMatch(g -> g.verdict() == Verdict.PASS);
        // int4s-g32 against the fp32 baseline on two chunks of real text: a real, bounded quality loss
        assertThat(r.perplexity().orElseThrow().deltaPercent()).isBetween(5.0, 60.0);
    }

    @Test
    void aWrongNibbleOrderFailsBothTheCorrectnessAndThePerplexityGate() {
        EngineExecutionResults results = Kit.run(WrongNibbles.class);
        results.testEvents().assertStatistics(s -> s.started(1).failed(1));
        Throwable t = PerplexityGateTest.throwable(results.testEvents().failed().list().getFirst());
        assertThat(t.getMessage()).contains("kernelCheck FAIL: worst |error| / bound of kernel wrong-nibbles on "
                + "int4s-g32").contains("first: int4s-g32 ").contains("element [").contains("> bound")
                .contains("maxDeltaPercent FAIL");
        assertThat(SEEN).as("the body does not run after a failed gate").isEmpty();
    }

    @Fixture
    @QuantBench(model = "synthetic:tiny")
    @Kernel(PlainJavaKernel.class)
    static class Speed {
        @QuantTest
        @QuantConfig("int8")
        @Throughput(level = Throughput.Level.KERNEL, shapes = "64x64", warmup = 1, iterations = 5)
        void kernel(ThroughputResult t) {
            SEEN.add(t);
        }
    }

    @Test
    void throughputComparesTheKernelWithTheSameConfigOnTheReferenceKernel() {
        Kit.run(Speed.class).testEvents().assertStatistics(s -> s.started(1).succeeded(1));
        ThroughputResult t = (ThroughputResult) SEEN.getFirst();
        assertThat(t.reference()).as("with @Kernel the default reference is the same config").isEqualTo("int8");
        var row = t.row();
        assertThat(row.subject()).isEqualTo("int8 (fp32 activations) on PlainJavaKernel");
        assertThat(row.referenceSubject()).isEqualTo("int8 (fp32 activations) on native");
        assertThat(row.rounds()).isEqualTo(5);
    }
}
