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
