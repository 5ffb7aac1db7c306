package io.quantgate.junit;

import io.quantgate.results.model.ThroughputRow;
import io.quantgate.gate.Verdict;
import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.format.QuantizedMatrix;
import io.quantgate.runtime.model.SyntheticWeights;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.opentest4j.AssertionFailedError;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Throughput measurement and speed gates through the Jupiter engine on synthetic weights (tiny shapes, few
 * rounds: these tests check the mechanics and the arithmetic of the rows, not the speed of the kernels).
 */
class ThroughputGateTest {
    static final List<Object> SEEN = new CopyOnWriteArrayList<>();

    @BeforeEach
    void clear() {
        SEEN.clear();
    }

    @Fixture
    @QuantBench(model = "synthetic:tiny")
    static class Kernel {
        @QuantTest
        @QuantConfig({"fp4-g128", "int8"})
        @Throughput(level = Throughput.Level.KERNEL, shapes = {"256x256", "128x512"}, batch = {1, 4}, warmup = 1,
                iterations = 6, minSpeedupOver = 0.001)
        void t(QuantResult r, ThroughputResult t) {
            SEEN.add(r);
            SEEN.add(t);
        }
    }

    @Test
    void kernelRowsAreShapesTimesBatchesWithPairedRatiosFromTheSameRounds() {
        Kit.run(Kernel.class).testEvents().assertStatistics(s -> s.started(2).succeeded(2));
        ThroughputResult t = (ThroughputResult) SEEN.get(1);
        assertThat(t.config()).isEqualTo("fp4-g128");
        assertThat(t.reference()).as("KERNEL default reference").isEqualTo("fp16");
        assertThat(t.rows()).extracting(ThroughputRow::label)
                .containsExactly("256x256 M=1", "256x256 M=4", "128x512 M=1", "128x512 M=4");
        ThroughputRow row = t.row("128x512 M=4");
        assertThat(row.rounds()).isEqualTo(6);
        assertThat(row.warmupRounds()).isEqualTo(1);
        assertThat(row.unit()).isEqualTo("GB/s");
        // bytes per call are the packed bytes of one copy of the weights (computed independently here)
        try (Arena a = Arena.ofConfined()) {
            QuantizedMatrix m = QuantizedMatrix.random(ConfigId.parse("fp4-g128"), 128, 512, 1, a);
            assertThat(row.bytesPerCall()).isEqualTo(m.packedBytes());
        }
        ThroughputRow.RowSamples x = row.samples();
        for (int i = 0; i < row.rounds(); i++) {
            assertThat(x.rates()[i]).isCloseTo(row.bytesPerCall() / x.seconds()[i] / 1e9, within(1e-9));
            assertThat(x.speedups()[i]).isCloseTo(x.referenceSeconds()[i] / x.seconds()[i], within(1e-12));
            assertThat(x.probeGbs()[i]).isPositive();
        }
        assertThat(row.speedupCi().low()).isLessThanOrEqualTo(row.speedup().median());
        assertThat(row.speedupCi().high()).isGreaterThanOrEqualTo(row.speedup().median());
        // GFLOP/s = 2·M·N·K / median seconds
        double median = io.quantgate.results.model.SampleStats.median(x.seconds());
        assertThat(row.gflops()).isCloseTo(2.0 * 4 * 128 * 512 / median / 1e9, within(1e-6));
        assertThat(((QuantResult) SEEN.get(0)).gates()).hasSize(4).allMatch(g -> g.verdict() == Verdict.PASS);
    }

    @Fixture
    @QuantBench(model = "synthetic:tiny")
    static class KernelDefaultShapes {
        @QuantTest
        @QuantConfig("int4-g64")
        @Throughput(level = Throughput.Level.KERNEL, warmup = 0, iterations = 2)
        void t(ThroughputResult t) {
            SEEN.add(t);
        }
    }

    @Test
    void withoutShapesTheKernelRunsTheModelsDistinctLinearShapes() {
        Kit.run(KernelDefaultShapes.class).testEvents().assertStatistics(s -> s.started(1).succeeded(1));
        ThroughputResult t = (ThroughputResult) SEEN.get(0);
        var c = SyntheticWeights.of("synthetic:tiny").config();
        // q/o [dim, dim], k/v [kvDim, dim], gate/up [hidden, dim], down [dim, hidden], classifier [vocab, dim]
        assertThat(t.rows()).extracting(ThroughputRow::label).containsExactly(
                c.dim() + "x" + c.dim() + " M=1", c.kvDim() + "x" + c.dim() + " M=1",
                c.hiddenDim() + "x" + c.dim() + " M=1", c.dim() + "x" + c.hiddenDim() + " M=1",
                c.vocabSize() + "x" + c.dim() + " M=1");
    }

    @Fixture
    @QuantBench(model = "synthetic:tiny")
    static class KernelTooSlow {
        @QuantTest
        @QuantConfig("fp4-g128")
        @Throughput(level = Throughput.Level.KERNEL, shapes = "256x256", warmup = 1, iterations = 5,
                minSpeedupOver = 1000)
        void t() {
            SEEN.add("body ran");
        }
    }

    @Test
    void aSpeedupFarBelowTheLimitFailsStatingRatioIntervalLimitAndReference() {
        EngineExecutionResults r = Kit.run(KernelTooSlow.class);
        r.testEvents().assertStatistics(s -> s.started(1).failed(1));
        Throwable t = PerplexityGateTest.throwable(r.testEvents().failed().list().get(0));
        assertThat(t).isInstanceOf(AssertionFailedError.class);
        assertThat(t.getMessage()).contains("minSpeedupOver FAIL: speedup over fp16 (fp32 activations) on native "
                + "(256x256 M=1) = ", "95% CI [", "limit >= 1000",
                "compared with fp16 (fp32 activations) on native in the same 5 interleaved rounds");
        assertThat(SEEN).isEmpty();
    }

    @Fixture
    @QuantBench(model = "synthetic:dim=64,layers=2,heads=4,kv=2,hidden=128,vocab=256,ctx=128")
    static class Model {
        @QuantTest
        @QuantConfig("fp4-g32")
        @Throughput(level = Throughput.Level.DECODE, tokens = 16, warmup = 1, iterations = 4, minTokensPerSecond = 1e-3)
        void decode(QuantResult r, ThroughputResult t) {
            SEEN.add(t);
            QuantAssertions.assertThat(r).hasTokensPerSecondAtLeast(1e-3).hasCompressionRatioAtLeast(3);
        }

        @QuantTest
        @QuantConfig("fp4-g32")
        @Throughput(level = Throughput.Level.PREFILL, tokens = 64, reference = "fp16", warmup = 1, iterations = 4)
        void prefill(ThroughputResult t) {
            SEEN.add(t);
        }
    }

    @Test
    void decodeAndPrefillAreTimedAgainstTheirReferenceInTokensPerSecond() {
        Kit.run(Model.class).testEvents().assertStatistics(s -> s.started(2).succeeded(2));
        ThroughputResult a = (ThroughputResult) SEEN.get(0);
        ThroughputResult b = (ThroughputResult) SEEN.get(1);
        ThroughputResult decode = a.level() == Throughput.Level.DECODE ? a : b;
        ThroughputResult prefill = a.level() == Throughput.Level.DECODE ? b : a;
        assertThat(decode.reference()).as("model-level default reference: the bench baseline").isEqualTo("fp32");
        ThroughputRow d = decode.row();
        assertThat(d.label()).isEqualTo("tg16");
        assertThat(d.unit()).isEqualTo("tokens/s");
        ThroughputRow.RowSamples x = d.samples();
        for (int i = 0; i < d.rounds(); i++) {
            assertThat(x.rates()[i]).isCloseTo(16 / x.seconds()[i], within(1e-6 * x.rates()[i]));
            // same tokens on both sides: the time ratio is the tokens/s ratio
            assertThat(x.speedups()[i]).isCloseTo(x.rates()[i] / x.referenceRates()[i], within(1e-9 * x.speedups()[i]));
        }
        assertThat(d.ceilingRate()).isPositive();
        assertThat(decode.tokensPerSecond()).isEqualTo(d.medianRate());
        ThroughputRow p = prefill.row();
        assertThat(p.label()).isEqualTo("pp64");
        assertThat(prefill.reference()).isEqualTo("fp16");
        assertThat(p.referenceSubject()).isEqualTo("fp16 (fp32 activations) on native");
        assertThat(p.subject()).isEqualTo("fp4-g32 (fp32 activations) on native");
        assertThat(p.ceilingRate()).isNaN();
    }

    @Fixture
    @QuantBench(model = "synthetic:tiny")
    static class AtDepth {
        @QuantTest
        @QuantConfig("int8-g32")
        @Throughput(level = Throughput.Level.DECODE, tokens = 8, depth = 256, warmup = 1, iterations = 3)
        void deep(ThroughputResult t) {
            SEEN.add(t);
        }

        @QuantTest
        @QuantConfig("int8-g32")
        @Throughput(level = Throughput.Level.DECODE, tokens = 8, warmup = 1, iterations = 3)
        void shallow(ThroughputResult t) {
            SEEN.add(t);
        }
    }

    @Fixture
    @QuantBench(model = "synthetic:tiny")
    @Backends("corrupt-native")
    static class AtDepthOnAnEngineWithoutIt {
        @QuantTest
        @QuantConfig("int8-g32")
        @Throughput(level = Throughput.Level.DECODE, tokens = 8, depth = 16, warmup = 1, iterations = 3)
        void deep(ThroughputResult t) {
            SEEN.add(t);
        }
    }

    @Test
    void anEngineThatDecodesOnlyFromAnEmptyCacheAbortsADepthRowBeforeMeasuring() {
        // corrupt-native (a test engine) does not implement decodeAfter
        EngineExecutionResults r = Kit.run(AtDepthOnAnEngineWithoutIt.class);
        r.testEvents().assertStatistics(s -> s.started(1).aborted(1));
        assertThat(r.testEvents().aborted().stream().map(e -> PerplexityGateTest.throwable(e).getMessage()).toList())
                .singleElement().asString().startsWith("@Throughput(depth = 16): ")
                .contains("decodes only from an empty cache here");
        assertThat(SEEN).isEmpty();
    }

    @Test
    void aDecodeAtDepthIsItsOwnRowWhoseCeilingCountsTheCache() {
        Kit.run(AtDepth.class).testEvents().assertStatistics(s -> s.started(2).succeeded(2));
        ThroughputRow deep = SEEN.stream().map(o -> ((ThroughputResult) o).row())
                .filter(r -> r.label().equals("tg8@d256")).findFirst().orElseThrow();
        ThroughputRow shallow = SEEN.stream().map(o -> ((ThroughputResult) o).row())
                .filter(r -> r.label().equals("tg8")).findFirst().orElseThrow();
        // a step at positions 256..263 reads 256 more positions of the fp32 cache than one at 0..7: 2 layers x K and V
        // x 128 floats a position
        assertThat(deep.bytesPerCall() - shallow.bytesPerCall()).isCloseTo(8 * 256.0 * 2 * 2 * 128 * 4, within(1.0));
        assertThat(deep.rounds()).isEqualTo(3);
        assertThat(deep.medianRate()).isPositive();
        assertThat(deep.ceilingRate()).isPositive();
    }

    @Fixture
    @QuantBench(model = "synthetic:tiny")
    @Backends("native")
    static class Outer {
        @org.junit.jupiter.api.Nested
        class Inner {
            @QuantTest
            @QuantConfig("int8")
            @Throughput(level = Throughput.Level.KERNEL, shapes = "64x64", warmup = 0, iterations = 2)
            void t(QuantResult r) {
                SEEN.add(r);
            }
        }
    }

    @Test
    void nestedClassesFindTheBenchOfTheirEnclosingClass() {
        Kit.run(Outer.class).testEvents().assertStatistics(s -> s.started(1).succeeded(1));
        assertThat(((QuantResult) SEEN.get(0)).inputs().model()).isEqualTo("synthetic:tiny");
    }
}
