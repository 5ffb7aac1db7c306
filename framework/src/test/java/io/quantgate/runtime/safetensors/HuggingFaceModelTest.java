package io.quantgate.runtime.safetensors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.runtime.model.LlamaConfig;
import io.quantgate.runtime.model.LlamaConfig.RopeScaling;
import io.quantgate.runtime.model.LlamaConfig.RopeStyle;
import io.quantgate.runtime.model.LlamaModel;
import io.quantgate.runtime.model.TensorNames;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HuggingFaceModelTest {
    @TempDir
    Path dir;

    private static final int[] TOKENS = {3, 17, 0, 39, 22, 8};

    /** Runs LlamaModel over TOKENS and checks every position against the model's fp64 reference. */
    private static void assertMatchesReference(HuggingFaceModel hf, TinyHfModel ref) {
        double[][] want = ref.referenceLogits(TOKENS);
        try (LlamaModel m = LlamaModel.load(hf, "fp32", ActivationMode.FP32)) {
            for (int pos = 0; pos < TOKENS.length; pos++) {
                float[] got = m.forward(TOKENS[pos], pos);
                assertThat(got).hasSize(ref.vocab);
                double maxAbs = 0, maxDiff = 0;
                for (int i = 0; i < got.length; i++) {
                    assertThat(Float.isFinite(got[i])).as("finite logit %d at position %d", i, pos).isTrue();
                    maxAbs = Math.max(maxAbs, Math.abs(want[pos][i]));
                    maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[pos][i]));
                }
                assertThat(maxAbs).as("logits are not trivially zero").isGreaterThan(0.1);
                assertThat(maxDiff / maxAbs).as("%s position %d: relative difference to fp64", ref.modelType, pos)
                        .isLessThan(1e-4);
            }
        }
    }

    @Test
    void qwen3LikeModelLoadsAndMatchesAnFp64Forward() throws Exception {
        TinyHfModel ref = TinyHfModel.qwen3(1);
        try (HuggingFaceModel hf = HuggingFaceModel.open(ref.write(dir))) {
            assertThat(hf.architecture()).isEqualTo("qwen3");
            assertThat(hf.fileFormat()).isEqualTo("safetensors");
            assertThat(hf.config()).isEqualTo(new LlamaConfig(32, 48, 2, 4, 2, 16, 40, 64, 1e6f, RopeScaling.NONE,
                    1e-6f, true, RopeStyle.ROTATE_HALF, false, true));
            assertThat(hf.has(TensorNames.LM_HEAD)).isFalse();
            assertThat(hf.shapes().get("layers.1.attn.q")).containsExactly(64, 32);
            assertThat(hf.shapes().get("layers.1.attn.q_norm")).containsExactly(16);
            assertThat(hf.storedType("layers.0.attn.k")).isEqualTo("F32");
            // Qwen rows are used as stored
            assertThat(hf.floats("layers.0.attn.q")).containsExactly(ref.tensors.get("model.layers.0.self_attn.q_proj.weight"));
            assertMatchesReference(hf, ref);
        }
    }

    @Test
    void qwen2LikeModelWithBiasesLoadsAndMatchesAnFp64Forward() throws Exception {
        TinyHfModel ref = TinyHfModel.qwen2(2);
        try (HuggingFaceModel hf = HuggingFaceModel.open(ref.write(dir))) {
            assertThat(hf.config()).isEqualTo(new LlamaConfig(32, 56, 2, 4, 2, 8, 40, 64, 1e6f, RopeScaling.NONE,
                    1e-6f, false, RopeStyle.ROTATE_HALF, true, false));
            assertThat(hf.shapes()).containsKeys("layers.0.attn.q.bias", "layers.1.attn.v.bias", "lm_head");
            assertThat(hf.huggingFaceName("layers.1.attn.k.bias")).isEqualTo("model.layers.1.self_attn.k_proj.bias");
            assertMatchesReference(hf, ref);
        }
    }

    @Test
    void llamaRowsAreUnpermutedToInterleavedAndComputeTheSameModel() throws Exception {
        // the reference applies transformers' rotate_half to the rows as stored; QuantGate un-permutes them
        // and rotates adjacent pairs: the logits agreeing checks that the un-permutation is the right one
        TinyHfModel ref = TinyHfModel.llama(3);
        try (HuggingFaceModel hf = HuggingFaceModel.open(ref.write(dir))) {
            assertThat(hf.config()).isEqualTo(new LlamaConfig(32, 64, 2, 4, 2, 8, 40, 64, 10000f,
                    new RopeScaling(RopeScaling.Type.LINEAR, 2f, 0f, 0f, 0), 1e-5f, false, RopeStyle.INTERLEAVED,
                    false, false));
            float[] stored = ref.tensors.get("model.layers.1.self_attn.k_proj.weight");
            assertThat(hf.floats("layers.1.attn.k")).containsExactly(RopePermutation.toInterleaved(stored, 2, 8, 32));
            assertThat(hf.floats("layers.1.attn.v")).containsExactly(ref.tensors.get("model.layers.1.self_attn.v_proj.weight"));
            assertMatchesReference(hf, ref);
        }
    }

    @Test
    void shardedModelReadsTheSameTensors() throws Exception {
        TinyHfModel ref = TinyHfModel.qwen2(4);
        Path single = ref.write(dir.resolve("single"));
        Path sharded = ref.writeSharded(dir.resolve("sharded"), 3);
        try (HuggingFaceModel a = HuggingFaceModel.open(single);
             HuggingFaceModel b = HuggingFaceModel.open(sharded.resolve(HuggingFaceModel.INDEX))) {
            assertThat(b.weightsFile().getFileName().toString()).isEqualTo(HuggingFaceModel.INDEX);
            assertThat(b.config()).isEqualTo(a.config());
            assertThat(b.shapes().keySet()).containsExactlyElementsOf(a.shapes().keySet());
            for (String name : a.shapes().keySet()) {
                assertThat(b.floats(name)).as(name).containsExactly(a.floats(name));
            }
        }
        // the directory alone finds the index; config.json or model.safetensors as the path work too
        try (HuggingFaceModel b = HuggingFaceModel.open(sharded);
             HuggingFaceModel c = HuggingFaceModel.open(single.resolve("config.json"));
             HuggingFaceModel d = HuggingFaceModel.open(single.resolve("model.safetensors"))) {
            assertThat(b.weightsFile().getFileName().toString()).isEqualTo(HuggingFaceModel.INDEX);
            assertThat(c.config()).isEqualTo(d.config());
        }
    }

    @Test
    void shardIndexErrorsNameTheIndex() throws Exception {
        TinyHfModel ref = TinyHfModel.qwen3(5);
        Path d = ref.writeSharded(dir.resolve("m"), 2);
        Path index = d.resolve(HuggingFaceModel.INDEX);
        String json = Files.readString(index);
        Files.writeString(index, json.replace("model-00002-of-00002", "model-00009-of-00002"));
        assertThatThrownBy(() -> HuggingFaceModel.open(d)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(index.toString()).hasMessageContaining("does not exist");
        // a tensor mapped to the wrong shard
        ObjectNode tree = (ObjectNode) new ObjectMapper().readTree(json);
        ObjectNode map = (ObjectNode) tree.get("weight_map");
        String shard = map.get("model.norm.weight").asText();
        map.put("model.norm.weight", shard.startsWith("model-00001") ? "model-00002-of-00002.safetensors"
                : "model-00001-of-00002.safetensors");
        Files.writeString(index, tree.toString());
        assertThatThrownBy(() -> HuggingFaceModel.open(d)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(index.toString()).hasMessageContaining("'model.norm.weight'")
                .hasMessageContaining("does not contain it");
        Files.writeString(index, json.replace("model-00001-of-00002", "../escape"));
        assertThatThrownBy(() -> HuggingFaceModel.open(d)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(index.toString()).hasMessageContaining("not a file name");
    }

    @Test
    void configFieldsAndDefaults() throws Exception {
        // multi-head attention written without num_key_value_heads, head_dim, rope_theta, rms_norm_eps
        TinyHfModel mha = new TinyHfModel("qwen2", 32, 56, 2, 2, 2, 0, 40, 64, 10000, 1e-6, 0, false, true, false, 6);
        mha.config.remove(List.of("num_key_value_heads", "rope_theta", "rms_norm_eps"));
        mha.config.putObject("rope_scaling").put("rope_type", "llama3").put("factor", 8.0).put("low_freq_factor", 1.0)
                .put("high_freq_factor", 4.0).put("original_max_position_embeddings", 8192);
        try (HuggingFaceModel hf = HuggingFaceModel.open(mha.write(dir))) {
            LlamaConfig c = hf.config();
            assertThat(c.nKvHeads()).as("num_key_value_heads defaults to the heads").isEqualTo(2);
            assertThat(c.headSize()).as("head_dim defaults to hidden/heads").isEqualTo(16);
            assertThat(c.ropeTheta()).isEqualTo(10000f);
            assertThat(c.normEps()).as("transformers' default rms_norm_eps").isEqualTo(1e-6f);
            assertThat(c.ropeScaling()).isEqualTo(new RopeScaling(RopeScaling.Type.LLAMA3, 8f, 1f, 4f, 8192));
        }
    }

    @Test
    void mistralSlidingWindowCapsTheContext() throws Exception {
        TinyHfModel m = new TinyHfModel("mistral", 32, 64, 1, 4, 2, 0, 40, 64, 10000, 1e-5, 0, false, false, false, 7);
        m.config.put("sliding_window", 16);
        try (HuggingFaceModel hf = HuggingFaceModel.open(m.write(dir))) {
            assertThat(hf.config().seqLen()).isEqualTo(16);
            assertThat(hf.huggingFaceConfig().maxPositions()).isEqualTo(64);
            assertThat(hf.config().ropeStyle()).isEqualTo(RopeStyle.INTERLEAVED);
        }
    }

    @Test
    void tiedModelIgnoresAStrayClassifierAndUntiedModelNeedsOne() throws Exception {
        TinyHfModel m = TinyHfModel.llama(8); // untied
        m.config.put("tie_word_embeddings", true);
        try (HuggingFaceModel hf = HuggingFaceModel.open(m.write(dir.resolve("a")))) {
            assertThat(hf.config().sharedClassifier()).isTrue();
            assertThat(hf.has(TensorNames.LM_HEAD)).isFalse();
        }
        TinyHfModel q = TinyHfModel.qwen3(8); // tied, no lm_head
        q.config.put("tie_word_embeddings", false);
        Path d = q.write(dir.resolve("b"));
        assertThatThrownBy(() -> HuggingFaceModel.open(d)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(d.resolve("model.safetensors").toString())
                .hasMessageContaining("no tensor 'lm_head.weight'").hasMessageContaining("tie_word_embeddings=false");
    }

    // ---------------------------------------------------------------- errors

    @Test
    void unknownModelTypeListsTheSupportedOnes() throws Exception {
        TinyHfModel m = TinyHfModel.llama(9);
        m.config.put("model_type", "gemma");
        Path d = m.write(dir);
        assertThatThrownBy(() -> HuggingFaceModel.open(d)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(d.resolve("config.json").toString()).hasMessageContaining("'gemma'")
                .hasMessageContaining("[llama, mistral, qwen2, qwen3]");
    }

    @Test
    void unsupportedRopeScalingIsRejected() throws Exception {
        TinyHfModel m = TinyHfModel.llama(10);
        m.config.putObject("rope_scaling").put("rope_type", "yarn").put("factor", 4.0);
        Path d = m.write(dir);
        assertThatThrownBy(() -> HuggingFaceModel.open(d)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(d.resolve("config.json").toString()).hasMessageContaining("'yarn'")
                .hasMessageContaining("linear, llama3");
    }

    @Test
    void badConfigJsonIsRejected() throws Exception {
        Path d = TinyHfModel.qwen3(11).write(dir);
        Files.writeString(d.resolve("config.json"), "{\"model_type\": \"qwen3\", ");
        assertThatThrownBy(() -> HuggingFaceModel.open(d)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(d.resolve("config.json").toString()).hasMessageContaining("not valid JSON");
        Files.writeString(d.resolve("config.json"), "{\"model_type\": \"qwen3\", \"hidden_size\": 32}");
        assertThatThrownBy(() -> HuggingFaceModel.open(d)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(d.resolve("config.json").toString()).hasMessageContaining("intermediate_size");
        Files.delete(d.resolve("config.json"));
        assertThatThrownBy(() -> HuggingFaceModel.open(d)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(d.toString()).hasMessageContaining("no config.json");
    }

    @Test
    void shapeMismatchWithTheConfigIsRejected() throws Exception {
        TinyHfModel m = TinyHfModel.qwen3(12);
        m.config.put("num_key_value_heads", 4); // the file's k/v have 2 heads of 16 rows
        Path d = m.write(dir);
        assertThatThrownBy(() -> HuggingFaceModel.open(d)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(d.resolve("model.safetensors").toString())
                .hasMessageContaining("'model.layers.0.self_attn.k_proj.weight'").hasMessageContaining("[32, 32]")
                .hasMessageContaining("[64, 32]").hasMessageContaining("num_key_value_heads=4");
    }

    @Test
    void missingTensorIsRejected() throws Exception {
        TinyHfModel m = TinyHfModel.qwen2(13);
        m.tensors.remove("model.layers.1.mlp.up_proj.weight");
        Path d = m.write(dir);
        assertThatThrownBy(() -> HuggingFaceModel.open(d)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(d.resolve("model.safetensors").toString())
                .hasMessageContaining("no tensor 'model.layers.1.mlp.up_proj.weight'");
        // a bias in one layer only: the others are then missing
        TinyHfModel n = TinyHfModel.qwen3(13);
        n.tensors.put("model.layers.1.self_attn.q_proj.bias", new float[64]);
        n.shapes.put("model.layers.1.self_attn.q_proj.bias", new int[] {64});
        Path e = n.write(dir.resolve("n"));
        assertThatThrownBy(() -> HuggingFaceModel.open(e)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no tensor 'model.layers.0.self_attn.q_proj.bias'");
    }

    @Test
    void tensorsWithoutAPlaceAreRejected() throws Exception {
        TinyHfModel m = TinyHfModel.qwen2(14);
        m.tensors.put("model.layers.2.input_layernorm.weight", new float[32]);
        m.shapes.put("model.layers.2.input_layernorm.weight", new int[] {32});
        Path d = m.write(dir);
        assertThatThrownBy(() -> HuggingFaceModel.open(d)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(d.resolve("model.safetensors").toString())
                .hasMessageContaining("layer 2").hasMessageContaining("num_hidden_layers=2");
        TinyHfModel n = TinyHfModel.qwen2(14);
        n.tensors.put("model.layers.0.mlp.gate_proj.bias", new float[56]);
        n.shapes.put("model.layers.0.mlp.gate_proj.bias", new int[] {56});
        Path e = n.write(dir.resolve("n"));
        assertThatThrownBy(() -> HuggingFaceModel.open(e)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'model.layers.0.mlp.gate_proj.bias'").hasMessageContaining("no place");
    }

    @Test
    void unsupportedDtypeInAModelIsRejectedWhenOpening() throws Exception {
        TinyHfModel m = TinyHfModel.qwen3(15);
        SafetensorsBytes b = new SafetensorsBytes();
        m.tensors.forEach((name, v) -> {
            if (name.equals("model.layers.0.mlp.down_proj.weight")) {
                b.raw(name, "I8", m.shapes.get(name), new byte[v.length]);
            } else {
                b.f32(name, m.shapes.get(name), v);
            }
        });
        Files.write(dir.resolve("model.safetensors"), b.build());
        m.writeConfig(dir);
        assertThatThrownBy(() -> HuggingFaceModel.open(dir)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(dir.resolve("model.safetensors").toString())
                .hasMessageContaining("'model.layers.0.mlp.down_proj.weight'").hasMessageContaining("unsupported dtype I8");
    }

    @Test
    void corruptWeightsFileIsRejectedNamingIt() throws Exception {
        Path d = TinyHfModel.qwen3(16).write(dir);
        Path f = d.resolve("model.safetensors");
        byte[] all = Files.readAllBytes(f);
        Files.write(f, Arrays.copyOf(all, all.length / 2));
        assertThatThrownBy(() -> HuggingFaceModel.open(d)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(f.toString()).hasMessageContaining("beyond the data region");
        Files.delete(f);
        assertThatThrownBy(() -> HuggingFaceModel.open(d)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(d.toString()).hasMessageContaining("neither model.safetensors nor");
    }

    @Test
    void nonZeroOutputBiasIsRejectedAndZeroOneIgnored() throws Exception {
        TinyHfModel m = TinyHfModel.llama(17);
        for (int l = 0; l < 2; l++) {
            m.tensors.put("model.layers." + l + ".self_attn.o_proj.bias", new float[32]);
            m.shapes.put("model.layers." + l + ".self_attn.o_proj.bias", new int[] {32});
        }
        try (HuggingFaceModel hf = HuggingFaceModel.open(m.write(dir.resolve("zero")))) {
            assertThat(hf.shapes()).doesNotContainKey("layers.0.attn.o.bias");
        }
        m.tensors.get("model.layers.1.self_attn.o_proj.bias")[5] = 0.5f;
        Path d = m.write(dir.resolve("nonzero"));
        assertThatThrownBy(() -> HuggingFaceModel.open(d)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'model.layers.1.self_attn.o_proj.bias'").hasMessageContaining("0.5 at index 5");
    }

    @Test
    void namesMapBothWays() {
        Map<String, String> pairs = Map.of(
                "model.embed_tokens.weight", "embed",
                "lm_head.weight", "lm_head",
                "model.norm.weight", "norm",
                "model.layers.12.input_layernorm.weight", "layers.12.attn_norm",
                "model.layers.0.self_attn.k_proj.bias", "layers.0.attn.k.bias",
                "model.layers.3.self_attn.q_norm.weight", "layers.3.attn.q_norm",
                "model.layers.3.post_attention_layernorm.weight", "layers.3.mlp_norm",
                "model.layers.7.mlp.down_proj.weight", "layers.7.mlp.down");
        pairs.forEach((hf, canonical) -> {
            assertThat(HuggingFaceNames.toCanonical(hf)).contains(canonical);
            assertThat(HuggingFaceNames.toHuggingFace(canonical)).isEqualTo(hf);
        });
        assertThat(HuggingFaceNames.toCanonical("model.layers.01.mlp.up_proj.weight")).isEmpty();
        assertThat(HuggingFaceNames.toCanonical("model.layers.1.mlp.up_proj.bias")).isEmpty();
    }
}
