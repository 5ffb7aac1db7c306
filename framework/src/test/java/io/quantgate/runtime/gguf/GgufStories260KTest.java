package io.quantgate.runtime.gguf;

import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.format.GroupQuantizer;
import io.quantgate.kernels.format.QuantizedMatrix;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.runtime.TestData;
import io.quantgate.runtime.model.Llama2cCheckpoint;
import io.quantgate.runtime.model.LlamaConfig;
import io.quantgate.runtime.model.LlamaModel;
import io.quantgate.runtime.tokenizer.Llama2cTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/** The real stories260K llama2.c model written as GGUF and read back. */
class GgufStories260KTest {
    @TempDir
    Path dir;

    private static int[] prompt(int n) {
        Llama2cTokenizer tok = Llama2cTokenizer.load(TestData.tok512());
        int[] t = tok.encode("Once upon a time, there was a little dog. He liked to run in the sun and play with", true);
        assertThat(t.length).isGreaterThanOrEqualTo(n);
        return Arrays.copyOf(t, n);
    }

    private static float[][] logits(LlamaModel m, int[] tokens) {
        float[][] out = new float[tokens.length][];
        for (int pos = 0; pos < tokens.length; pos++) {
            out[pos] = m.forward(tokens[pos], pos);
        }
        return out;
    }

    @Test
    void f32GgufIsBitIdenticalToTheCheckpointAndComputesTheSameLogits() {
        int[] tokens = prompt(16);
        Path f = dir.resolve("stories260K-f32.gguf");
        try (Llama2cCheckpoint ck = Llama2cCheckpoint.open(TestData.stories260K())) {
            GgufWriter.writeModel(ck, f, n -> GgmlType.F32, Map.of(
                    "tokenizer.ggml.model", "llama",
                    "tokenizer.ggml.bos_token_id", GgufValue.uint32(1),
                    "tokenizer.ggml.eos_token_id", GgufValue.uint32(2)));
            try (GgufFile g = GgufFile.open(f)) {
                assertThat(g.config()).isEqualTo(ck.config());
                assertThat(g.config().ropeStyle()).isEqualTo(LlamaConfig.RopeStyle.INTERLEAVED);
                assertThat(g.config().sharedClassifier()).isTrue();
                assertThat(g.tensors()).doesNotContainKey("output.weight").containsKey("blk.4.ffn_down.weight");
                assertThat(g.tensor("blk.0.ffn_down.weight").ne()).containsExactly(172, 64);
                assertThat(g.shapes().keySet()).containsExactlyInAnyOrderElementsOf(ck.shapes().keySet());
                for (String name : ck.shapes().keySet()) {
                    assertThat(g.shapes().get(name)).as(name).containsExactly(ck.shapes().get(name));
                    assertThat(g.storedType(name)).isEqualTo("F32");
                    assertThat(g.floats(name)).as(name).containsExactly(ck.floats(name));
                }
                assertThat(g.tokenizerModel()).isEqualTo("llama");
                assertThat(g.bosTokenId()).hasValue(1);
                assertThat(g.eosTokenId()).hasValue(2);
                assertThat(g.getInt("general.file_type")).isZero();
                assertThat(g.getInt("llama.rope.dimension_count")).isEqualTo(8);
                try (LlamaModel a = LlamaModel.load(ck, "fp32", ActivationMode.FP32);
                     LlamaModel b = LlamaModel.load(g, "fp32", ActivationMode.FP32)) {
                    float[][] la = logits(a, tokens), lb = logits(b, tokens);
                    for (int pos = 0; pos < tokens.length; pos++) {
                        assertThat(lb[pos]).as("position %d", pos).containsExactly(la[pos]);
                    }
                }
            }
        }
    }

    /**
     * Q8_0 for every matrix whose rows are whole 32-blocks; mlp.down (K = 172) stays F32. Values are checked
     * against the per-block error bound and the model still predicts like the fp32 one.
     */
    @Test
    void q8_0GgufKeepsEveryValueWithinHalfAStepAndPredictsLikeFp32() {
        int[] tokens = prompt(16);
        Path f = dir.resolve("stories260K-q8_0.gguf");
        try (Llama2cCheckpoint ck = Llama2cCheckpoint.open(TestData.stories260K())) {
            Map<String, int[]> shapes = ck.shapes();
            Function<String, GgmlType> typeFor = n -> shapes.get(n)[1] % 32 == 0 ? GgmlType.Q8_0 : GgmlType.F32;
            GgufWriter.writeModel(ck, f, typeFor, Map.of());
            try (GgufFile g = GgufFile.open(f)) {
                assertThat(g.config()).isEqualTo(ck.config());
                assertThat(g.getInt("general.file_type")).as("mostly Q8_0").isEqualTo(7);
                for (String name : shapes.keySet()) {
                    int[] s = shapes.get(name);
                    String expected = s.length == 2 && s[1] % 32 == 0 ? "Q8_0" : "F32";
                    assertThat(g.storedType(name)).as(name).isEqualTo(expected);
                    if (expected.equals("F32")) {
                        assertThat(g.floats(name)).as(name).containsExactly(ck.floats(name));
                    } else {
                        GgufRoundTripTest.assertWithinQuantBound(ck.floats(name), g.floats(name), 127, true);
                    }
                }
                assertThat(g.storedType("layers.2.mlp.down")).isEqualTo("F32");
                try (LlamaModel a = LlamaModel.load(ck, "fp32", ActivationMode.FP32);
                     LlamaModel b = LlamaModel.load(g, "fp32", ActivationMode.FP32)) {
                    float[][] la = logits(a, tokens), lb = logits(b, tokens);
                    int agree = 0;
                    for (int pos = 0; pos < tokens.length; pos++) {
                        agree += argmax(la[pos]) == argmax(lb[pos]) ? 1 : 0;
                    }
                    assertThat(agree).as("next-token argmax agreement of Q8_0 with fp32").isGreaterThanOrEqualTo(14);
                }
            }
        }
    }

    /** QuantGate's own int8-g32 / int4s-g32 quantizations written as Q8_0 / Q4_0 read back as the same numbers. */
    @Test
    void int8G32AndInt4sG32OfRealWeightsSurviveGgufBitExactly() {
        Path f = dir.resolve("stories260K-qg.gguf");
        try (Llama2cCheckpoint ck = Llama2cCheckpoint.open(TestData.stories260K()); Arena arena = Arena.ofConfined()) {
            GgufWriter w = new GgufWriter();
            w.putMetadata("general.architecture", "llama");
            LlamaConfig c = ck.config();
            w.putMetadata("llama.embedding_length", GgufValue.uint32(c.dim()));
            w.putMetadata("llama.feed_forward_length", GgufValue.uint32(c.hiddenDim()));
            w.putMetadata("llama.block_count", GgufValue.uint32(c.nLayers()));
            w.putMetadata("llama.attention.head_count", GgufValue.uint32(c.nHeads()));
            w.putMetadata("llama.context_length", GgufValue.uint32(c.seqLen()));
            w.putMetadata("llama.attention.layer_norm_rms_epsilon", c.normEps());
            w.addTensor("token_embd.weight", GgmlType.F32, new int[] {c.vocabSize(), c.dim()}, ck.floats("embed"));
            List<String> names = List.of("layers.0.attn.q", "layers.3.mlp.up", "layers.4.attn.k");
            QuantizedMatrix[] int8 = new QuantizedMatrix[names.size()];
            QuantizedMatrix[] int4s = new QuantizedMatrix[names.size()];
            for (int i = 0; i < names.size(); i++) {
                int[] s = ck.shapes().get(names.get(i));
                float[] v = ck.floats(names.get(i));
                int8[i] = GroupQuantizer.quantize(ConfigId.parse("int8-g32"), s[0], s[1], v, arena);
                int4s[i] = GroupQuantizer.quantize(ConfigId.parse("int4s-g32"), s[0], s[1], v, arena);
                w.addTensor("q8." + i, GgmlType.Q8_0, s, BlockQ8_0.encode(int8[i]));
                w.addTensor("q4." + i, GgmlType.Q4_0, s, BlockQ4_0.encode(int4s[i]));
            }
            w.write(f);
            try (GgufFile g = GgufFile.open(f)) {
                for (int i = 0; i < names.size(); i++) {
                    assertThat(g.floats("q8." + i)).as(names.get(i)).containsExactly(int8[i].dequantize());
                    assertThat(g.floats("q4." + i)).as(names.get(i)).containsExactly(int4s[i].dequantize());
                }
            }
        }
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }
}
