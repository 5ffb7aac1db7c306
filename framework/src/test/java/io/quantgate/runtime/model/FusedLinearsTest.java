package io.quantgate.runtime.model;

import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.runtime.TestData;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Fusing q|k|v and gate|up into one matrix must not change a single logit: quantization is per row. */
class FusedLinearsTest {

    @Test
    void fusedAndSeparateLinearsGiveIdenticalLogits() {
        int[] seq = {1, 403, 407, 261, 378, 280, 285, 345, 430, 263, 456, 311, 261, 489, 296, 331, 400, 270};
        try (Llama2cCheckpoint ck = Llama2cCheckpoint.open(TestData.stories260K())) {
            for (String cfg : new String[] {"fp32", "fp4-g32", "int4-g64", "int8"}) {
                for (ActivationMode act : ActivationMode.values()) {
                    if (act == ActivationMode.INT8 && cfg.equals("fp32")) {
                        continue;
                    }
                    float[][] fused, separate, fusedDecode, separateDecode;
                    try (LlamaModel m = new LlamaModel(ck, QuantizationConfig.parse(cfg), act, 64)) {
                        assertThat(m.linears()).as("5 layers x (qkv, o, gate_up, down) + classifier").hasSize(21);
                        fused = m.forwardBatch(seq, 0);
                        m.reset();
                        fusedDecode = decode(m, seq);
                    }
                    try (LlamaModel m = new LlamaModel(ck, QuantizationConfig.parse(cfg), act, 64,
                            ck.config().seqLen(), false)) {
                        assertThat(m.linears()).hasSize(36);
                        separate = m.forwardBatch(seq, 0);
                        m.reset();
                        separateDecode = decode(m, seq);
                    }
                    for (int t = 0; t < seq.length; t++) {
                        assertThat(fused[t]).as("%s %s prefill position %d", cfg, act, t).containsExactly(separate[t]);
                        assertThat(fusedDecode[t]).as("%s %s decode position %d", cfg, act, t)
                                .containsExactly(separateDecode[t]);
                    }
                }
            }
        }
    }

    @Test
    void aMixedConfigThatSplitsQkvIsNotFused() {
        try (Llama2cCheckpoint ck = Llama2cCheckpoint.open(TestData.stories260K());
             LlamaModel m = new LlamaModel(ck, QuantizationConfig.parse("mixed:attn.q=int8,*=fp4-g32"),
                     ActivationMode.FP32, 16)) {
            // per layer: q, k, v separate (ids differ), o, gate_up fused, down; plus the classifier
            assertThat(m.linears()).hasSize(5 * 6 + 1);
            assertThat(m.linearIds().get("layers.2.attn.q").toString()).isEqualTo("int8");
            assertThat(m.linearIds().get("layers.2.attn.k").toString()).isEqualTo("fp4-g32");
        }
    }

    private static float[][] decode(LlamaModel m, int[] seq) {
        float[][] out = new float[seq.length][];
        for (int t = 0; t < seq.length; t++) {
            out[t] = m.forward(seq[t], t);
        }
        return out;
    }
}
