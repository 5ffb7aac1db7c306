package io.quantgate.runtime.model;

import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.runtime.TestData;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

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

    /**
     * The last layer runs its attention and feed-forward only for the rows that get logits: those rows' logits are the
     * full pass's (to the rounding of a GEMM over fewer rows), and the cache holds every row's keys and values all the
     * same (a decode step after it sees the full pass's logits bit for bit). 80 tokens in chunks of 64: the first chunk asks no logits at all when firstRow
     * is past it, odd and even first rows.
     */
    @Test
    void logitsOfTheLastRowsAloneEqualTheFullPassAndTheCacheIsComplete() {
        int[] seq = new int[80];
        java.util.Random rnd = new java.util.Random(5);
        seq[0] = 1;
        for (int i = 1; i < seq.length; i++) {
            seq[i] = 3 + rnd.nextInt(500);
        }
        try (Llama2cCheckpoint ck = Llama2cCheckpoint.open(TestData.stories260K())) {
            for (String cfg : new String[] {"fp32", "int4-g64", "int8"}) {
                for (ActivationMode act : new ActivationMode[] {ActivationMode.FP32, ActivationMode.INT8}) {
                    for (boolean fuse : new boolean[] {true, false}) {
                        if (act == ActivationMode.INT8 && cfg.equals("fp32")) {
                            continue;
                        }
                        try (LlamaModel m = new LlamaModel(ck, QuantizationConfig.parse(cfg), act, 64,
                                ck.config().seqLen(), fuse)) {
                            float[][] full = m.forwardBatch(seq, 0);
                            float[] next = m.forward(7, seq.length);
                            for (int first : new int[] {79, 70, 64, 37, 10}) {
                                m.reset();
                                float[][] part = m.forwardBatch(seq, 0, first);
                                for (int t = 0; t < seq.length; t++) {
                                    if (t < first) {
                                        assertThat(part[t]).as("row %d before firstRow %d", t, first).isNull();
                                    } else {
                                        float mx = 1;
                                        for (float v : full[t]) {
                                            mx = Math.max(mx, Math.abs(v));
                                        }
                                        // a GEMM over fewer rows may take another kernel path (M <= 4: the GEMV
                                        // kernels), another summation order: a few ulps (seen: 4.8e-7 of the row's
                                        // largest logit)
                                        assertThat(part[t]).as("%s %s fused=%s firstRow %d row %d", cfg, act, fuse,
                                                first, t).containsExactly(full[t], within(4e-6f * mx));
                                    }
                                }
                                assertThat(m.forward(7, seq.length)).as("%s %s fused=%s decode after firstRow %d",
                                        cfg, act, fuse, first).containsExactly(next);
                            }
                        }
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
