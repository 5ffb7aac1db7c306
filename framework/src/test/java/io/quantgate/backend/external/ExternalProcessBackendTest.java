package io.quantgate.backend.external;

import io.quantgate.backend.Backend;
import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.backend.BackendException;
import io.quantgate.backend.BackendModel;
import io.quantgate.backend.BackendOptions;
import io.quantgate.backend.Backends;
import io.quantgate.backend.NativeBackend;
import io.quantgate.backend.RunPlan;
import io.quantgate.evaluation.LogitsModel;
import io.quantgate.evaluation.PerplexityEvaluator;
import io.quantgate.evaluation.PerplexityOptions;
import io.quantgate.evaluation.PerplexityResult;
import io.quantgate.runtime.ModelFiles;
import io.quantgate.runtime.TestData;
import io.quantgate.runtime.model.ModelWeights;
import io.quantgate.runtime.tokenizer.Llama2cTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/** The external-process backend against {@link FakeEngine} run as a real subprocess. */
class ExternalProcessBackendTest {
    @TempDir
    Path work;

    static Backend engine(String mode) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return new ExternalProcessBackend(List.of(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), FakeEngine.class.getName(), mode));
    }

    BackendOptions options() {
        return BackendOptions.defaults().withWorkDir(work).withTimeout(Duration.ofSeconds(30));
    }

    @Test
    void bigramEngineGivesTheHandComputedPerplexityAndAnswersBench() {
        try (ModelWeights w = ModelFiles.open("synthetic:tiny")) {
            Backend b = engine("bigram");
            RunPlan plan = b.plan(w, QuantizationConfig.parse("fp16"));
            assertThat(plan.describe()).isEqualTo("fake-bigram 1.0 on GGUF F16 from fp16 (exact values)");
            try (BackendModel m = b.open(w, QuantizationConfig.parse("fp16"), options())) {
                int vocab = w.config().vocabSize();
                assertThat(m.vocabSize()).isEqualTo(vocab);
                // a stream that always follows the rule t -> t+1: every scored token has logit 2 against V-1 zeros
                int[] tokens = new int[2 * 64 + 1];
                for (int i = 0; i < tokens.length; i++) {
                    tokens[i] = (7 + i) % vocab;
                }
                PerplexityResult r = PerplexityEvaluator.evaluate(m.logits().orElseThrow(), tokens,
                        PerplexityOptions.chunked(64).withBosToken(PerplexityOptions.KEEP_FIRST_TOKEN));
                double expected = (Math.exp(2) + vocab - 1) / Math.exp(2);
                assertThat(r.ppl()).isCloseTo(expected, org.assertj.core.data.Offset.offset(expected * 1e-6));
                // the engine reports 1 ms per prompt token and 2 ms per step; the reply is checked, the harness times
                // the call itself (ExternalBackendModel, docs/backends.md)
                m.reset();
                m.prefill(new int[] {1, 2, 3, 4});
                m.decode(new int[] {1, 2, 3});
                float[][] rows = m.logits().orElseThrow().logits(new int[] {5, 9}, 1);
                assertThat(rows[0]).isNull();
                assertThat(rows[1][10]).isEqualTo(2.0f);
                assertThat(rows[1][5]).isEqualTo(0.0f);
            }
        }
    }

    @Test
    void realEngineOnTheGgufQuantGateWritesAgreesWithNativePerplexity() throws Exception {
        String text = Files.readString(TestData.wikiTestRaw(), StandardCharsets.UTF_8).substring(0, 200_000);
        int[] tokens = Llama2cTokenizer.load(TestData.tok512()).encode(text, true);
        PerplexityOptions po = PerplexityOptions.defaults().withChunks(3);
        try (ModelWeights w = ModelFiles.open(TestData.stories260K().toString())) {
            for (String config : List.of("fp16", "int4s-g32")) {
                PerplexityResult ext;
                PerplexityResult nat;
                try (BackendModel m = engine("quantgate").open(w, QuantizationConfig.parse(config), options())) {
                    assertThat(m.plan().runs()).contains("GGUF").contains(config);
                    ext = PerplexityEvaluator.evaluate(m.logits().orElseThrow(), tokens, po);
                }
                try (BackendModel m = new NativeBackend().open(w, QuantizationConfig.parse(config),
                        options().withActivations(io.quantgate.kernels.nativeimpl.ActivationMode.FP32))) {
                    nat = PerplexityEvaluator.evaluate(m.logits().orElseThrow(), tokens, po);
                }
                System.out.printf("stories260K %s, 3 chunks: external %.6f native %.6f%n", config, ext.ppl(), nat.ppl());
                // the same weight values, dequantized once by the GGUF reader and once inside the kernels:
                // only the order of fp32 rounding differs
                assertThat(Math.abs(ext.ppl() / nat.ppl() - 1)).as(config).isLessThan(1e-4);
            }
        }
    }

    @Test
    void aConfigTheFileCannotHoldExactlyCannotRunAndOpenRefuses() {
        try (ModelWeights w = ModelFiles.open("synthetic:tiny")) {
            Backend b = engine("bigram");
            RunPlan p = b.plan(w, QuantizationConfig.parse("int4-g128"));
            assertThat(p.runnable()).isFalse();
            assertThat(p.describe()).startsWith("cannot run: ").contains("int4-g128").contains("Q4_1");
            assertThatThrownBy(() -> b.open(w, QuantizationConfig.parse("int4-g128"), options())).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("cannot run int4-g128");
            assertThat(engine("safetensors-only").plan(w, QuantizationConfig.parse("int8-g32")).describe())
                    .startsWith("cannot run: ").contains("safetensors holds only fp32/fp16/bf16");
            assertThat(engine("safetensors-only").plan(w, QuantizationConfig.parse("fp16")).describe())
                    .isEqualTo("fake-safetensors-only 1.0 on safetensors F16 from fp16 (exact values)");
            assertThat(engine("no-logits").plan(w, QuantizationConfig.parse("fp16")).givesLogits()).isFalse();
        }
    }

    @Test
    void safetensorsEngineLoadsTheDirectoryQuantGateWrites() {
        try (ModelWeights w = ModelFiles.open("synthetic:tiny");
             BackendModel m = engine("safetensors-only").open(w, QuantizationConfig.parse("fp16"), options())) {
            assertThat(m.vocabSize()).isEqualTo(w.config().vocabSize());
        }
    }

    @Test
    void crashWhileLoadingIsAClearErrorWithTheExitCodeAndStderr() {
        try (ModelWeights w = ModelFiles.open("synthetic:tiny")) {
            assertThatThrownBy(() -> engine("crash-on-load").open(w, QuantizationConfig.parse("fp16"), options()))
                    .isInstanceOf(BackendException.class)
                    .hasMessageContaining("exited while answering 'load' with exit code 3")
                    .hasMessageContaining("simulated crash while loading");
        }
    }

    @Test
    void anErrorReplyIsReportedWithTheEnginesMessage() {
        try (ModelWeights w = ModelFiles.open("synthetic:tiny")) {
            assertThatThrownBy(() -> engine("error-on-load").open(w, QuantizationConfig.parse("fp16"), options()))
                    .isInstanceOf(BackendException.class).hasMessageContaining("failed 'load': out of memory");
        }
    }

    @Test
    void aMalformedReplyIsAClearError() {
        try (ModelWeights w = ModelFiles.open("synthetic:tiny");
             BackendModel m = engine("malformed-logits").open(w, QuantizationConfig.parse("fp16"), options())) {
            LogitsModel lm = m.logits().orElseThrow();
            assertThatThrownBy(() -> lm.logits(new int[] {1, 2}))
                    .isInstanceOf(BackendException.class)
                    .hasMessageContaining("answered 'logits' with a line that is not a JSON object: 'this is not json'");
            // the engine was killed: later requests fail at once instead of reading a stale stream
            assertThatThrownBy(() -> m.prefill(new int[] {1})).isInstanceOf(BackendException.class)
                    .hasMessageContaining("no longer running");
        }
    }

    @Test
    void anEngineThatDoesNotAnswerTimesOutAndIsKilled() {
        try (ModelWeights w = ModelFiles.open("synthetic:tiny")) {
            BackendOptions quick = options().withTimeout(Duration.ofSeconds(1));
            assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
                try (BackendModel m = engine("hang-on-bench").open(w, QuantizationConfig.parse("fp16"), quick)) {
                    long t0 = System.nanoTime();
                    assertThatThrownBy(() -> m.decode(new int[] {1, 2}))
                            .isInstanceOf(BackendException.class)
                            .hasMessageContaining("did not answer 'bench' within 1.0 s; it was killed");
                    assertThat((System.nanoTime() - t0) / 1e9).isLessThan(10);
                }
            });
        }
    }

    @Test
    void withoutACommandTheBackendSaysHowToNameOne() {
        Backend b = Backends.byName("external");
        assertThat(b.unavailableReason()).hasValueSatisfying(r -> assertThat(r).contains("external:<command>"));
        assertThatThrownBy(() -> Backends.byName("external:  ")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("needs a command");
        Backend named = Backends.byName("external:/no/such/engine --flag");
        assertThat(named.unavailableReason()).hasValueSatisfying(r -> assertThat(r)
                .contains("cannot start external engine '/no/such/engine --flag'"));
    }
}
