package io.quantgate.junit;

import org.junit.jupiter.api.Test;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.Event;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** One invocation per backend × config; a backend this build lacks is aborted, saying so. */
class BackendsTest {

    @Fixture
    @QuantBench(model = "synthetic:tiny")
    static class TwoBackends {
        @QuantTest
        @Backends({"native", "cuda"})
        @QuantConfig({"fp16", "int8"})
        @Throughput(level = Throughput.Level.KERNEL, shapes = "64x64", warmup = 0, iterations = 2)
        void t(QuantResult r) {
            assertThat(r.backend()).isEqualTo("native");
        }
    }

    @Test
    void everyBackendRunsEveryConfigAndAnUnavailableOneIsAborted() {
        EngineExecutionResults r = Kit.run(TwoBackends.class);
        r.testEvents().assertStatistics(s -> s.started(4).succeeded(2).aborted(2));
        List<String> names = r.testEvents().started().map(e -> e.getTestDescriptor().getDisplayName()).toList();
        assertThat(names).hasSize(4);
        assertThat(names).containsExactly("fp16 on native", "int8 on native", "fp16 on cuda", "int8 on cuda");
        List<String> summaries = r.testEvents().reportingEntryPublished()
                .map(e -> e.getPayload(org.junit.platform.engine.reporting.ReportEntry.class).orElseThrow()
                        .getKeyValuePairs().get("quantgate.summary")).toList();
        assertThat(summaries).hasSize(2);
        assertThat(summaries.get(0)).startsWith("fp16 on native · ");
        assertThat(summaries.get(1)).startsWith("int8 on native · ");
        for (Event e : r.testEvents().aborted().list()) {
            // the backends of the SPI on this classpath are named; nothing runs on another engine instead
            assertThat(PerplexityGateTest.throwable(e))
                    .hasMessageStartingWith("backend 'cuda' is not available in this build (available: ")
                    .hasMessageContaining("native");
        }
    }

    @Fixture
    @QuantBench(model = "synthetic:tiny")
    @Backends("opencl")
    static class ClassLevel {
        @QuantTest
        @QuantConfig("fp16")
        @Throughput(level = Throughput.Level.KERNEL, shapes = "64x64", warmup = 0, iterations = 2)
        void t() {
        }
    }

    @Test
    void theClassLevelAnnotationAppliesToItsTests() {
        EngineExecutionResults r = Kit.run(ClassLevel.class);
        r.testEvents().assertStatistics(s -> s.started(1).aborted(1));
        assertThat(PerplexityGateTest.throwable(r.testEvents().aborted().list().get(0)))
                .hasMessageContaining("backend 'opencl' is not available");
    }
}
