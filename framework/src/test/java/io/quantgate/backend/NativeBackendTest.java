package io.quantgate.backend;

import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.runtime.ModelFiles;
import io.quantgate.runtime.TestData;
import io.quantgate.runtime.model.LlamaModel;
import io.quantgate.runtime.model.ModelWeights;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The {@code native} backend is LlamaModel behind the SPI: nothing may change on the way. */
class NativeBackendTest {

    @Test
    void logitsAreBitIdenticalToLlamaModelDirectly() {
        int[] tokens = {1, 403, 407, 261, 378, 30, 41, 7};
        try (ModelWeights w = ModelFiles.open(TestData.stories260K().toString())) {
            for (String act : new String[] {"fp32", "int8"}) {
                try (BackendModel b = Backends.byName("native").open(w, QuantizationConfig.parse("int4s-g32"),
                        BackendOptions.defaults().withActivations(ActivationMode.fromId(act)));
                     LlamaModel direct = new LlamaModel(w, QuantizationConfig.parse("int4s-g32"),
                             ActivationMode.fromId(act), LlamaModel.DEFAULT_MAX_BATCH, 512)) {
                    // what ran, with the kernels' tier and threads as every engine states them
                    assertThat(b.plan().runs()).isEqualTo("QuantGate native int4s-g32 (QuantizedMatrix codes, the "
                            + "reference), " + act + " activations; QuantGate "
                            + io.quantgate.results.QuantGateVersion.get() + " C kernels, tier "
                            + io.quantgate.kernels.nativeimpl.NativeKernels.isa().name().toLowerCase(java.util.Locale.ROOT)
                            + ", " + io.quantgate.kernels.nativeimpl.NativeKernels.threads() + " threads");
                    float[][] viaSpi = b.logits().orElseThrow().logits(tokens);
                    float[][] viaModel = direct.forwardBatch(tokens, 0);
                    for (int i = 0; i < tokens.length; i++) {
                        assertThat(viaSpi[i]).as("%s row %d", act, i).containsExactly(viaModel[i]);
                    }
                    // the timed workloads (after their untimed reset) leave the same state as a fresh model
                    b.reset();
                    b.prefill(tokens);
                    b.reset();
                    b.decode(tokens);
                    assertThat(b.logits().orElseThrow().logits(tokens)[7]).containsExactly(viaModel[7]);
                }
            }
        }
    }

    @Test
    void aDecodeAtDepthContinuesThePromptsCache() {
        int[] prompt = {1, 403, 407, 261, 378}, steps = {30, 41};
        try (ModelWeights w = ModelFiles.open(TestData.stories260K().toString());
             BackendModel b = Backends.byName("native").open(w, QuantizationConfig.parse("int8-g32"),
                     BackendOptions.defaults().withContextLength(16));
             LlamaModel direct = new LlamaModel(w, QuantizationConfig.parse("int8-g32"), ActivationMode.INT8,
                     LlamaModel.DEFAULT_MAX_BATCH, 16)) {
            assertThat(b.cannotDecodeAfterPrompt()).isEmpty();
            // the steps land at positions 5 and 6 of the prompt's cache: the step after them sees what the engine
            // itself computes for the prompt as one batch and then those two tokens at those positions
            b.reset();
            b.prefill(prompt);
            b.decodeAfter(prompt.length, steps);
            float[] next = ((NativeBackendModel) b).model().forward(7, 7);
            direct.forwardBatch(prompt, 0);
            direct.forward(30, 5);
            direct.forward(41, 6);
            assertThat(next).containsExactly(direct.forward(7, 7));
            // and not what a decode from an empty cache leaves
            b.reset();
            b.decode(steps);
            assertThat(((NativeBackendModel) b).model().forward(7, 2)).isNotEqualTo(next);
            // a decode that would run past the context is refused before any step
            assertThatThrownBy(() -> b.decodeAfter(15, steps)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("decode of 2 steps after 15 positions does not fit the context of 16");
        }
    }

    @Test
    void enginesWithoutADepthDecodeSaySoAndRefuseIt() {
        int[] decoded = {0};
        BackendModel fromEmptyOnly = new BackendModel() {

            @Override
            public RunPlan plan() {
                return RunPlan.runs("test", "fp16", "a test engine", null);
            }

            @Override
            public int contextLength() {
                return 8;
            }

            @Override
            public int vocabSize() {
                return 4;
            }

            @Override
            public java.util.Optional<io.quantgate.evaluation.LogitsModel> logits() {
                return java.util.Optional.empty();
            }

            @Override
            public void reset() {
            }

            @Override
            public void prefill(int[] prompt) {
            }

            @Override
            public void decode(int[] tokens) {
                decoded[0] += tokens.length;
            }

            @Override
            public void close() {
            }
        };
        assertThat(fromEmptyOnly.cannotDecodeAfterPrompt()).hasValueSatisfying(
                why -> assertThat(why).contains("a test engine").contains("only from an empty cache"));
        fromEmptyOnly.decodeAfter(0, new int[] {1, 2}); // depth 0 is a plain decode
        assertThat(decoded[0]).isEqualTo(2);
        assertThatThrownBy(() -> fromEmptyOnly.decodeAfter(3, new int[] {1}))
                .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("only from an empty cache");
    }

    @Test
    void badPromptsAndUnresolvedConfigsAreClearErrors() {
        try (ModelWeights w = ModelFiles.open("synthetic:tiny");
             BackendModel b = new NativeBackend().open(w, QuantizationConfig.parse("fp16"),
                     BackendOptions.defaults().withContextLength(8))) {
            assertThat(b.contextLength()).isEqualTo(8);
            assertThatThrownBy(() -> b.prefill(new int[9])).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("prefill: 9 tokens do not fit the context of 8");
            assertThatThrownBy(() -> b.decode(new int[] {0, -1})).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("token -1 at 1 is outside the vocabulary");
            assertThat(new NativeBackend().plan(w, QuantizationConfig.parse("mixed:auto[4.5]")).describe())
                    .startsWith("cannot run: ");
        }
    }
}
