package io.quantgate.runtime.gguf;

import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.runtime.model.LlamaConfig;
import io.quantgate.runtime.model.LlamaModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Absurd hyper-parameters (a mutated block_count, embedding_length, ...) are refused against the tensors the
 * file holds, naming the file, before anything sized by them is allocated (not as an OutOfMemoryError).
 */
class GgufHyperParameterTest {
    @TempDir
    Path dir;

    /** A valid two-layer llama GGUF file (dim 32, 4 heads, hidden 64, vocab 16, ctx 16). */
    private byte[] twoLayers() throws Exception {
        Path f = dir.resolve("valid.gguf");
        GgufWriter.writeModel(new MapWeights("llama", LlamaConfig.llama2c(32, 64, 2, 4, 4, 16, 16, true), 7), f,
                n -> GgmlType.F32, Map.of());
        return Files.readAllBytes(f);
    }

    /** Overwrites the UINT32 value of metadata key {@code key} in place. */
    static byte[] withU32(byte[] gguf, String key, long value) {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        byte[] out = gguf.clone();
        outer:
        for (int i = 8; i + 8 + k.length + 8 <= out.length; i++) {
            for (int j = 0; j < k.length; j++) {
                if (out[i + 8 + j] != k[j]) {
                    continue outer;
                }
            }
            ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
            if (b.getLong(i) != k.length || b.getInt(i + 8 + k.length) != 4) {
                continue;
            }
            b.putInt(i + 8 + k.length + 4, (int) value);
            return out;
        }
        throw new AssertionError("no UINT32 key " + key);
    }

    private Path file(String name, byte[] bytes) throws Exception {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    @Test
    void theValidFileLoads() throws Exception {
        try (GgufFile g = GgufFile.open(file("ok.gguf", twoLayers()));
             LlamaModel m = LlamaModel.load(g, "fp32", ActivationMode.FP32)) {
            assertThat(m.config().nLayers()).isEqualTo(2);
        }
    }

    @Test
    void blockCountBeyondTheLayerTensorsIsRefusedAtOpen() throws Exception {
        Path p = file("blocks.gguf", withU32(twoLayers(), "llama.block_count", 2_143_289_344L));
        assertThatThrownBy(() -> GgufFile.open(p)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(p.toString())
                .hasMessageContaining("llama.block_count is 2143289344 but the file has tensors only for blocks 0..1");
    }

    @Test
    void blockCountWithoutAnyLayerTensorsIsRefusedBeforeAllocating() throws Exception {
        // only token_embd.weight: the file opens (a vocabulary-only file looks like this), the model does not
        Path p = file("embed-only.gguf", withU32(GgufCorruptFileTest.tinyModel(new GgufCorruptFileTest.Spec()),
                "llama.block_count", 2_143_289_344L));
        try (GgufFile g = GgufFile.open(p)) {
            assertThat(g.config().nLayers()).isEqualTo(2_143_289_344);
            assertThatThrownBy(() -> LlamaModel.load(g, "fp32", ActivationMode.FP32))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(p.toString())
                    .hasMessageContaining("has no tensor 'layers.0.attn_norm'");
        }
    }

    @Test
    void widthsThatDisagreeWithTheTensorsAreRefusedBeforeAllocating() throws Exception {
        Path dim = file("dim.gguf", withU32(twoLayers(), "llama.embedding_length", 1 << 24));
        assertThatThrownBy(() -> GgufFile.open(dim)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(dim.toString()).hasMessageContaining("head size 4194304");
        // without rope.dimension_count nothing at open ties the width to a tensor; the model refuses it
        Path dim2 = file("dim2.gguf", withU32(GgufCorruptFileTest.tinyModel(new GgufCorruptFileTest.Spec()),
                "llama.embedding_length", 1 << 24));
        try (GgufFile g = GgufFile.open(dim2)) {
            assertThatThrownBy(() -> LlamaModel.load(g, "fp32", ActivationMode.FP32))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(dim2.toString())
                    .hasMessageContaining("tensor 'embed' has shape [4, 32]")
                    .hasMessageContaining("[4, 16777216]");
        }
        Path ffn = file("ffn.gguf", withU32(twoLayers(), "llama.feed_forward_length", 2_000_000_000L));
        try (GgufFile g = GgufFile.open(ffn)) {
            assertThatThrownBy(() -> LlamaModel.load(g, "fp32", ActivationMode.FP32))
                    .hasMessageContaining(ffn.toString())
                    .hasMessageContaining("tensor 'layers.0.mlp.gate' has shape [64, 32]");
        }
        Path heads = file("heads.gguf", withU32(twoLayers(), "llama.attention.head_count", 1 << 30));
        assertThatThrownBy(() -> GgufFile.open(heads)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(heads.toString()).hasMessageContaining("head_count");
    }

    @Test
    void absurdContextLengthIsRefusedAtOpen() throws Exception {
        Path p = file("ctx.gguf", withU32(twoLayers(), "llama.context_length", Integer.MAX_VALUE));
        assertThatThrownBy(() -> GgufFile.open(p)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(p.toString())
                .hasMessageContaining("context length 2147483647 exceeds 16777216 positions");
    }
}
