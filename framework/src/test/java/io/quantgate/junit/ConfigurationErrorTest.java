package io.quantgate.junit;

import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.Event;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * Bad annotation values and configuration parameters stop the test template before anything is loaded, with
 * an {@link ExtensionConfigurationException} naming the test, the annotation and the value. Synthetic weights
 * keep these fixtures independent of the data directory.
 */
class ConfigurationErrorTest {

    @Fixture
    @QuantBench(model = "synthetic:tiny")
    static class UnknownConfig {
        @QuantTest
        @QuantConfig({"fp4-g32", "fp5-g32"})
        void t() {
        }
    }

    @Fixture
    @QuantBench(model = "synthetic:tiny")
    static class NegativeDeltaPercent {
        @QuantTest
        @QuantConfig("fp4-g32")
        @Perplexity(maxDeltaPercent = -1)
        void t() {
        }
    }

    @Fixture
    @QuantBench(model = "synthetic:tiny")
    static class SameTopAboveHundred {
        @QuantTest
        @QuantConfig("fp4-g32")
        @Perplexity(minSameTop = 150)
        void t() {
        }
    }

    @Fixture
    @QuantBench(model = "synthetic:tiny")
    static class StrideWithChunked {
        @QuantTest
        @QuantConfig("fp4-g32")
        @Perplexity(stride = 64)
        void t() {
        }
    }

    @Fixture
    @QuantBench(model = "synthetic:tiny")
    static class TinyCtx {
        @QuantTest
        @QuantConfig("fp4-g32")
        @Perplexity(ctx = 2)
        void t() {
        }
    }

    @Fixture
    @QuantBench(model = "synthetic:tiny")
    static class DepthOnPrefill {
        @QuantTest
        @QuantConfig("fp4-g32")
        @Throughput(level = Throughput.Level.PREFILL, tokens = 8, depth = 16)
        void t() {
        }
    }

    @Fixture
    @QuantBench(model = "synthetic:tiny")
    static class NegativeDepth {
        @QuantTest
        @QuantConfig("fp4-g32")
        @Throughput(level = Throughput.Level.DECODE, tokens = 8, depth = -1)
        void t() {
        }
    }

    @Fixture
    @QuantBench(model = "synthetic:tiny")
    static class NoConfig {
        @QuantTest
        void t() {
        }
    }

    @Fixture
    static class NoBench {
        @QuantTest
        @QuantConfig("fp16")
        void t() {
        }
    }

    @Fixture
    @QuantBench(model = "synthetic:tiny")
    static class DuplicateConfig {
        @QuantTest
        @QuantConfig({"int8", "int8"})
        void t() {
        }
    }

    @Fixture
    @QuantBench(model = "synthetic:tiny")
    static class AutoConfig {
        @QuantTest
        @QuantConfig("mixed:auto[4.5]")
        void t() {
        }
    }

    @Fixture
    @QuantBench(model = "synthetic:tiny")
    static class GptqWithoutCalibration {
        @QuantTest
        @QuantConfig("int4-g64+gptq")
        void t() {
        }
    }

    @Fixture
    @QuantBench(model = "synthetic:tiny", dataset = "wikitext-2-raw/wiki.test.raw",
            calibration = "wikitext-2-raw/wiki.test.raw")
    static class CalibrationIsTheDataset {
        @QuantTest
        @QuantConfig("int4-g64+gptq")
        void t() {
        }
    }

    @Fixture
    @QuantBench(model = "synthetic:tiny", activations = "int4")
    static class BadActivations {
        @QuantTest
        @QuantConfig("fp16")
        void t() {
        }
    }

    @Fixture
    @QuantBench(model = "synthetic:tiny", baseline = "fp32-g7")
    static class BadBaseline {
        @QuantTest
        @QuantConfig("fp16")
        void t() {
        }
    }

    @Fixture
    @QuantBench(model = "synthetic:tiny")
    static class KernelWithMixed {
        @QuantTest
        @QuantConfig("mixed:attn.*=fp4-g32,mlp.*=fp4-g128")
        @Throughput(level = Throughput.Level.KERNEL)
        void t() {
        }
    }

    @Fixture
    @QuantBench(model = "synthetic:tiny")
    static class BadShape {
        @QuantTest
        @QuantConfig("fp4-g32")
        @Throughput(level = Throughput.Level.KERNEL, shapes = "4096by4096")
        void t() {
        }
    }

    @Fixture
    @QuantBench(model = "synthetic:tiny")
    static class TokensPerSecondAtKernel {
        @QuantTest
        @QuantConfig("fp4-g32")
        @Throughput(level = Throughput.Level.KERNEL, minTokensPerSecond = 10)
        void t() {
        }
    }

    @Fixture
    @QuantBench(model = "synthetic:tiny")
    static class OneIteration {
        @QuantTest
        @QuantConfig("fp4-g32")
        @Throughput(iterations = 1)
        void t() {
        }
    }

    @Fixture
    @QuantBench(model = "synthetic:tiny")
    static class RegressionAboveHundred {
        @QuantTest
        @QuantConfig("fp4-g32")
        @Throughput(maxRegressionPercent = 150)
        void t() {
        }
    }

    @Fixture
    @QuantBench(model = "synthetic:tiny")
    static class NegativeSpeedup {
        @QuantTest
        @QuantConfig("fp4-g32")
        @Throughput(minSpeedupOver = -2)
        void t() {
        }
    }

    @Fixture
    @QuantBench(model = "synthetic:tiny")
    static class ShapesAtDecode {
        @QuantTest
        @QuantConfig("fp4-g32")
        @Throughput(level = Throughput.Level.DECODE, shapes = "64x64")
        void t() {
        }
    }

    @Fixture
    @QuantBench(model = "synthetic:tiny")
    static class DuplicateBackend {
        @QuantTest
        @Backends({"native", "native"})
        @QuantConfig("fp16")
        void t() {
        }
    }

    static Stream<Arguments> badAnnotations() {
        return Stream.of(
                arguments(UnknownConfig.class, "@QuantConfig: ", "fp5"),
                arguments(NegativeDeltaPercent.class, "@Perplexity: maxDeltaPercent must be >= 0", "got -1.0"),
                arguments(SameTopAboveHundred.class, "minSameTop must be a percentage in [0, 100]", "150"),
                arguments(StrideWithChunked.class, "@Perplexity(stride) applies to method = SLIDING only", "64"),
                arguments(TinyCtx.class, "@Perplexity(ctx) must be >= 4", "got 2"),
                arguments(DepthOnPrefill.class, "@Throughput(depth) applies to DECODE only", "PREFILL"),
                arguments(NegativeDepth.class, "@Throughput(depth) must be >= 0", "got -1"),
                arguments(NoConfig.class, "@QuantTest needs @QuantConfig", "NoConfig.t"),
                arguments(NoBench.class, "@QuantTest needs @QuantBench", "NoBench.t"),
                arguments(DuplicateConfig.class, "@QuantConfig lists 'int8' twice", "DuplicateConfig.t"),
                arguments(AutoConfig.class, "@QuantConfig \"mixed:auto[4.5]\" needs calibration text",
                        "@QuantBench(calibration = \"calibration/groups_merged.txt\")"),
                arguments(GptqWithoutCalibration.class, "@QuantConfig \"int4-g64+gptq\" needs calibration text",
                        "fitted to the model's activations"),
                arguments(CalibrationIsTheDataset.class, "@QuantBench(calibration) is the evaluation text",
                        "makes its perplexity meaningless"),
                arguments(BadActivations.class, "@QuantBench(activations)", "int4"),
                arguments(BadBaseline.class, "@QuantBench(baseline)", "fp32-g7"),
                arguments(KernelWithMixed.class, "KERNEL level measures one weight format at a time", "mixed:attn"),
                arguments(BadShape.class, "'4096by4096' is not NxK", "@Throughput(shapes)"),
                arguments(TokensPerSecondAtKernel.class, "@Throughput(minTokensPerSecond) applies to PREFILL and DECODE",
                        "KERNEL"),
                arguments(OneIteration.class, "iterations must be >= 2", "got 1"),
                arguments(RegressionAboveHundred.class, "@Throughput(maxRegressionPercent) must be in [0, 100)", "150"),
                arguments(NegativeSpeedup.class, "@Throughput(minSpeedupOver) must be > 0", "-2"),
                arguments(ShapesAtDecode.class, "@Throughput(shapes) applies to KERNEL level only", "DECODE"),
                arguments(DuplicateBackend.class, "@Backends lists 'native' twice", "DuplicateBackend.t"));
    }

    @ParameterizedTest
    @MethodSource("badAnnotations")
    void badAnnotationValuesAreClearConfigurationErrors(Class<?> fixture, String expected, String alsoExpected) {
        Throwable t = assertConfigurationError(Kit.run(fixture), expected, alsoExpected);
        assertThat(t.getMessage()).startsWith("QuantGate configuration error in " + fixture.getSimpleName() + ".t: ");
    }

    @Fixture
    @QuantBench(model = "synthetic:tiny")
    static class Fine {
        @QuantTest
        @QuantConfig("fp4-g32")
        @Throughput(level = Throughput.Level.KERNEL, shapes = "64x64", warmup = 0, iterations = 2)
        void t() {
        }
    }

    @ParameterizedTest
    @MethodSource("badParameters")
    void badConfigurationParametersNameTheKey(String key, String value, String expected) {
        Throwable t = assertConfigurationError(Kit.run(Fine.class, Map.of(key, value)), expected, key);
        assertThat(t.getMessage()).startsWith("configuration parameter " + key);
    }

    static Stream<Arguments> badParameters() {
        return Stream.of(
                arguments("quantgate.chunks", "abc", "'abc' is not an integer"),
                arguments("quantgate.iterations", "0", "must be > 0"),
                arguments("quantgate.confidence", "1.5", "must be in (0.5, 1)"),
                arguments("quantgate.baseline.update", "yes", "must be true or false"),
                arguments("quantgate.maxSeconds", "-3", "must be a positive number"));
    }

    @Fixture
    @QuantBench(model = "llama2c-stories260K/stories260K.bin")
    static class CtxBeyondTheModel {
        @QuantTest
        @QuantConfig("fp16")
        @Perplexity(ctx = 1024, chunks = 1)
        void t() {
        }
    }

    @org.junit.jupiter.api.Test
    void aCtxBeyondTheModelsContextIsAConfigurationErrorOfTheInvocation() {
        io.quantgate.runtime.TestData.stories260K();
        io.quantgate.runtime.TestData.wikiTestRaw();
        EngineExecutionResults r = Kit.run(CtxBeyondTheModel.class);
        r.testEvents().assertStatistics(s -> s.started(1).failed(1));
        Throwable t = PerplexityGateTest.throwable(r.testEvents().failed().list().get(0));
        assertThat(t).isInstanceOf(ExtensionConfigurationException.class)
                .hasMessageContaining("@Perplexity(ctx) 1024 exceeds the context of 512 positions of stories260K.bin");
    }

    static Throwable assertConfigurationError(EngineExecutionResults r, String expected, String alsoExpected) {
        List<Event> failed = r.containerEvents().failed().list();
        assertThat(failed).as("one failed test template").hasSize(1);
        assertThat(r.testEvents().started().count()).as("nothing ran").isZero();
        Throwable t = PerplexityGateTest.throwable(failed.get(0));
        assertThat(t).isInstanceOf(ExtensionConfigurationException.class);
        assertThat(t.getMessage()).contains(expected, alsoExpected);
        return t;
    }
}
