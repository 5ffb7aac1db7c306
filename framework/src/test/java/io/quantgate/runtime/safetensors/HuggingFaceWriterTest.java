package io.quantgate.runtime.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantgate.kernels.format.Bf16;
import io.quantgate.kernels.format.Fp16;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.runtime.TestData;
import io.quantgate.runtime.model.Llama2cCheckpoint;
import io.quantgate.runtime.model.LlamaConfig;
import io.quantgate.runtime.model.LlamaModel;
import io.quantgate.runtime.tokenizer.Llama2cTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HuggingFaceWriterTest {
    @TempDir
    Path dir;

    private static int[] bits(float[] v) {
        return SafetensorsFileTest.bits(v);
    }

    @Test
    void stories260KRoundTripsBitExactThroughSafetensors() throws Exception {
        try (Llama2cCheckpoint ck = Llama2cCheckpoint.open(TestData.stories260K())) {
            HuggingFaceWriter.write(ck, dir, "F32", Map.of("source", "stories260K"));
            try (HuggingFaceModel hf = HuggingFaceModel.open(dir)) {
                assertThat(hf.architecture()).isEqualTo("llama");
                assertThat(hf.config()).isEqualTo(ck.config());
                assertThat(hf.config()).isEqualTo(LlamaConfig.llama2c(64, 172, 5, 8, 4, 512, 512, true));
                assertThat(hf.config().ropeStyle()).isEqualTo(LlamaConfig.RopeStyle.INTERLEAVED);
                assertThat(hf.shapes().keySet()).containsExactlyInAnyOrderElementsOf(ck.shapes().keySet());
                for (String name : ck.shapes().keySet()) {
                    assertThat(hf.shapes().get(name)).as(name).containsExactly(ck.shapes().get(name));
                    assertThat(bits(hf.floats(name))).as(name).containsExactly(bits(ck.floats(name)));
                    assertThat(hf.storedType(name)).isEqualTo("F32");
                }

                int[] tokens = Arrays.copyOf(Llama2cTokenizer.load(TestData.tok512())
                        .encode("Once upon a time, there was a little dog who liked to run in the park", true), 16);
                assertThat(tokens).doesNotContain(0);
                try (LlamaModel a = LlamaModel.load(ck, "fp32", ActivationMode.FP32);
                     LlamaModel b = LlamaModel.load(hf, "fp32", ActivationMode.FP32)) {
                    for (int pos = 0; pos < tokens.length; pos++) {
                        float[] want = a.forward(tokens[pos], pos);
                        assertThat(bits(b.forward(tokens[pos], pos))).as("position %d", pos).containsExactly(bits(want));
                    }
                }
            }
            // the file itself is in transformers' layout: q rows permuted for rotate_half, names and metadata
            try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("model.safetensors"))) {
                assertThat(f.metadata()).containsEntry("format", "pt").containsEntry("source", "stories260K");
                assertThat(f.has("lm_head.weight")).as("tied: no classifier copy").isFalse();
                float[] meta = ck.floats("layers.2.attn.q");
                float[] stored = f.floats("model.layers.2.self_attn.q_proj.weight");
                int headSize = 8, dim = 64;
                for (int h = 0; h < 8; h++) {
                    for (int m = 0; m < headSize; m++) {
                        int hfRow = h * headSize + (m % 2) * (headSize / 2) + m / 2; // HF row j·half + i of Meta row 2i+j
                        assertThat(Arrays.copyOfRange(stored, hfRow * dim, hfRow * dim + dim))
                                .containsExactly(Arrays.copyOfRange(meta, (h * headSize + m) * dim, (h * headSize + m + 1) * dim));
                    }
                }
                assertThat(f.floats("model.layers.2.self_attn.v_proj.weight")).containsExactly(ck.floats("layers.2.attn.v"));
            }
            JsonNode cfg = new ObjectMapper().readTree(dir.resolve("config.json").toFile());
            assertThat(cfg.get("architectures").toString()).isEqualTo("[\"LlamaForCausalLM\"]");
            assertThat(cfg.get("model_type").asText()).isEqualTo("llama");
            assertThat(cfg.get("hidden_size").asInt()).isEqualTo(64);
            assertThat(cfg.get("intermediate_size").asInt()).isEqualTo(172);
            assertThat(cfg.get("num_hidden_layers").asInt()).isEqualTo(5);
            assertThat(cfg.get("num_attention_heads").asInt()).isEqualTo(8);
            assertThat(cfg.get("num_key_value_heads").asInt()).isEqualTo(4);
            assertThat(cfg.get("head_dim").asInt()).isEqualTo(8);
            assertThat(cfg.get("vocab_size").asInt()).isEqualTo(512);
            assertThat(cfg.get("max_position_embeddings").asInt()).isEqualTo(512);
            assertThat(cfg.get("rope_theta").asDouble()).isEqualTo(10000.0);
            assertThat(cfg.get("rms_norm_eps").asDouble()).isEqualTo(1e-5);
            assertThat(cfg.get("rope_scaling").isNull()).isTrue();
            assertThat(cfg.get("tie_word_embeddings").asBoolean()).isTrue();
            assertThat(cfg.get("attention_bias").asBoolean()).isFalse();
            assertThat(cfg.get("hidden_act").asText()).isEqualTo("silu");
            assertThat(cfg.get("bos_token_id").asInt()).isEqualTo(1);
            assertThat(cfg.get("eos_token_id").asInt()).isEqualTo(2);
            assertThat(cfg.get("torch_dtype").asText()).isEqualTo("float32");
            try (var files = Files.list(dir)) {
                assertThat(files.map(p -> p.getFileName().toString()))
                        .containsExactlyInAnyOrder("config.json", "model.safetensors");
            }
        }
    }

    @Test
    void halfPrecisionWritesRoundEveryWeightOnce() throws Exception {
        try (Llama2cCheckpoint ck = Llama2cCheckpoint.open(TestData.stories260K())) {
            check(ck, "F16", Fp16::round, "float16");
            check(ck, "bf16", Bf16::round, "bfloat16");
        }
    }

    private void check(Llama2cCheckpoint ck, String dtype, UnaryOperator<Float> round, String torchDtype) throws Exception {
        Path out = dir.resolve(dtype);
        HuggingFaceWriter.write(ck, out, dtype, Map.of());
        try (HuggingFaceModel hf = HuggingFaceModel.open(out)) {
            assertThat(hf.config()).isEqualTo(ck.config());
            for (String name : ck.shapes().keySet()) {
                float[] want = ck.floats(name);
                for (int i = 0; i < want.length; i++) {
                    want[i] = round.apply(want[i]);
                }
                assertThat(hf.storedType(name)).isEqualTo(dtype.toUpperCase());
                assertThat(bits(hf.floats(name))).as(name).containsExactly(bits(want));
            }
            assertThat(hf.huggingFaceConfig().file()).exists();
        }
        assertThat(new ObjectMapper().readTree(out.resolve("config.json").toFile()).get("torch_dtype").asText())
                .isEqualTo(torchDtype);
    }

    @Test
    void huggingFaceModelsRoundTripToTheSameFileTensors() throws Exception {
        for (TinyHfModel ref : new TinyHfModel[] {TinyHfModel.llama(21), TinyHfModel.qwen2(22), TinyHfModel.qwen3(23)}) {
            Path in = ref.write(dir.resolve("in-" + ref.modelType));
            Path out = dir.resolve("out-" + ref.modelType);
            try (HuggingFaceModel hf = HuggingFaceModel.open(in)) {
                HuggingFaceWriter.write(hf, out, "F32", Map.of(), 11, 12);
                try (HuggingFaceModel back = HuggingFaceModel.open(out)) {
                    assertThat(back.config()).as(ref.modelType).isEqualTo(hf.config());
                    assertThat(back.architecture()).isEqualTo(ref.modelType);
                }
            }
            // HF → QuantGate → HF leaves every stored tensor as it was (llama's q/k un-permuted, then permuted back)
            try (SafetensorsFile f = SafetensorsFile.open(out.resolve("model.safetensors"))) {
                assertThat(f.tensors().keySet()).as(ref.modelType).containsExactlyInAnyOrderElementsOf(ref.tensors.keySet());
                ref.tensors.forEach((name, v) -> assertThat(f.floats(name)).as(name).containsExactly(v));
            }
            JsonNode cfg = new ObjectMapper().readTree(out.resolve("config.json").toFile());
            assertThat(cfg.get("bos_token_id").asInt()).isEqualTo(11);
            assertThat(cfg.get("architectures").get(0).asText()).isEqualTo(HuggingFaceConfig.architectureClass(ref.modelType));
        }
    }

    @Test
    void qwen2WithoutBiasesGetsZeroBiasesTransformersExpects() throws Exception {
        TinyHfModel ref = new TinyHfModel("qwen2", 32, 48, 1, 4, 2, 0, 40, 64, 1e6, 1e-6, 0, true, false, false, 31);
        Path out = dir.resolve("out");
        try (HuggingFaceModel hf = HuggingFaceModel.open(ref.write(dir.resolve("in")))) {
            assertThat(hf.config().attentionBias()).isFalse();
            HuggingFaceWriter.write(hf, out, "F32", Map.of());
        }
        try (SafetensorsFile f = SafetensorsFile.open(out.resolve("model.safetensors"))) {
            assertThat(f.floats("model.layers.0.self_attn.q_proj.bias")).hasSize(32).containsOnly(0f);
            assertThat(f.floats("model.layers.0.self_attn.k_proj.bias")).hasSize(16).containsOnly(0f);
        }
    }

    @Test
    void refusesWhatTransformersCannotRepresent() throws Exception {
        try (Llama2cCheckpoint ck = Llama2cCheckpoint.open(TestData.stories260K())) {
            assertThatThrownBy(() -> HuggingFaceWriter.write(ck, dir, "I8", Map.of()))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'I8'")
                    .hasMessageContaining("F32, F16, BF16");
            assertThatThrownBy(() -> HuggingFaceWriter.write(ck, dir, "F32", Map.of("format", "np")))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("\"pt\"");
        }
        TinyHfModel q = TinyHfModel.qwen3(32);
        q.config.put("model_type", "llama"); // a llama with q/k norms
        try (HuggingFaceModel hf = HuggingFaceModel.open(q.write(dir.resolve("in")))) {
            assertThatThrownBy(() -> HuggingFaceWriter.write(hf, dir.resolve("out"), "F32", Map.of()))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("q/k norms");
        }
        assertThat(dir.resolve("out")).doesNotExist();
    }
}
