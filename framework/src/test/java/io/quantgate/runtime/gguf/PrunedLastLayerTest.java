package io.quantgate.runtime.gguf;

import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.runtime.model.LlamaConfig;
import io.quantgate.runtime.model.LlamaConfig.RopeScaling;
import io.quantgate.runtime.model.LlamaConfig.RopeStyle;
import io.quantgate.runtime.model.LlamaModel;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The last layer's pruning to the logit rows on the attention path stories260K does not take: q|k|v biases and q/k
 * norms (Qwen-style), where q, k and v are split out of the fused rows before RoPE. Here because {@link MapWeights},
 * the in-memory weights with those tensors, lives in this package.
 */
class PrunedLastLayerTest {

    @Test
    void biasesAndQkNormsGiveTheFullPassLogitsAndAFullCache() {
        int[] seq = new int[24];
        for (int i = 0; i < seq.length; i++) {
            seq[i] = (i * 7 + 3) % 40;
        }
        boolean[][] variants = {{true, false}, {false, true}, {true, true}};
        for (boolean[] v : variants) {
            LlamaConfig c = new LlamaConfig(64, 96, 2, 4, 2, 16, 40, 32, 10000f, RopeScaling.NONE, 1e-6f, false,
                    RopeStyle.INTERLEAVED, v[0], v[1]);
            MapWeights w = new MapWeights("qwen2", c, 9);
            for (String cfg : new String[] {"fp32", "int8"}) {
                ActivationMode act = cfg.equals("fp32") ? ActivationMode.FP32 : ActivationMode.INT8;
                try (LlamaModel m = new LlamaModel(w, QuantizationConfig.parse(cfg), act, 16)) {
                    float[][] full = m.forwardBatch(seq, 0);
                    float[] next = m.forward(5, seq.length);
                    for (int first : new int[] {23, 20, 16, 10}) {
                        m.reset();
                        float[][] part = m.forwardBatch(seq, 0, first);
                        for (int t = 0; t < seq.length; t++) {
                            if (t < first) {
                                assertThat(part[t]).isNull();
                                continue;
                            }
                            float mx = 1;
                            for (float x : full[t]) {
                                mx = Math.max(mx, Math.abs(x));
                            }
                            assertThat(part[t]).as("bias %s qk-norm %s %s firstRow %d row %d", v[0], v[1], cfg, first, t)
                                    .containsExactly(full[t], within(4e-6f * mx));
                        }
                        assertThat(m.forward(5, seq.length)).as("bias %s qk-norm %s %s decode after firstRow %d",
                                v[0], v[1], cfg, first).containsExactly(next);
                    }
                }
            }
        }
    }
}
