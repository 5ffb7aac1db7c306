package io.quantgate.runtime.model;

import io.quantgate.runtime.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class Llama2cCheckpointTest {

    @Test
    void readsStories260KHeaderAndTensors() {
        try (Llama2cCheckpoint ck = Llama2cCheckpoint.open(TestData.stories260K())) {
            LlamaConfig c = ck.config();
            assertThat(c).isEqualTo(LlamaConfig.llama2c(64, 172, 5, 8, 4, 512, 512, true));
            assertThat(c.headSize()).isEqualTo(8);
            assertThat(c.kvDim()).isEqualTo(32);
            assertThat(ck.hasFreqCis()).isTrue();
            assertThat(ck.tensor("layers.4.attn.k").shape()).containsExactly(32, 64);
            assertThat(ck.tensor("layers.0.mlp.down").shape()).containsExactly(64, 172);
            assertThat(ck.has("lm_head")).as("the shared classifier is the embedding, not a tensor").isFalse();
            assertThat(ck.shapes()).hasSize(1 + 5 * 9 + 1).doesNotContainKey("freq_cis_real");
            // rms weights are positive-ish scales, the embedding starts right after the header
            assertThat(ck.tensor("embed").byteOffset()).isEqualTo(28);
            float[] norm = ck.floats("norm");
            assertThat(norm).hasSize(64);
            long total = ck.tensors().entrySet().stream().mapToLong(e -> e.getValue().size()).sum();
            assertThat(total).isEqualTo(264_128);
        }
    }

    @Test
    void ropeTablesMatchTheFilesFreqCis() {
        try (Llama2cCheckpoint ck = Llama2cCheckpoint.open(TestData.stories260K())) {
            LlamaConfig c = ck.config();
            Rope rope = new Rope(c);
            float[] re = ck.floats("freq_cis_real");
            float[] im = ck.floats("freq_cis_imag");
            int half = c.headSize() / 2;
            double maxDiff = 0;
            for (int pos = 0; pos < c.seqLen(); pos++) {
                for (int i = 0; i < half; i++) {
                    maxDiff = Math.max(maxDiff, Math.abs(rope.cos(pos, i) - re[pos * half + i]));
                    maxDiff = Math.max(maxDiff, Math.abs(rope.sin(pos, i) - im[pos * half + i]));
                }
            }
            assertThat(maxDiff).isLessThan(1e-5);
        }
    }

    @Test
    void truncatedCheckpointIsRejectedWithSizes(@TempDir Path dir) throws Exception {
        byte[] all = Files.readAllBytes(TestData.stories260K());
        Path bad = dir.resolve("stories260K-truncated.bin");
        Files.write(bad, Arrays.copyOf(all, all.length - 1000));
        assertThatThrownBy(() -> Llama2cCheckpoint.open(bad))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(bad.toString())
                .hasMessageContaining(String.valueOf(all.length - 1000))
                .hasMessageContaining("1056540")
                .hasMessageContaining("truncated");
    }

    @Test
    void fileWithoutFreqCisAndSeparateClassifierIsAccepted(@TempDir Path dir) throws Exception {
        byte[] all = Files.readAllBytes(TestData.stories260K());
        int freqBytes = 2 * 512 * 4 * 4;
        int embBytes = 512 * 64 * 4;
        // drop the freq tables, append a copy of the embedding as a separate classifier, negate vocab
        ByteBuffer b = ByteBuffer.allocate(all.length - freqBytes + embBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.put(all, 0, all.length - freqBytes);
        b.put(all, 28, embBytes);
        b.putInt(20, -512);
        Path f = dir.resolve("nofreq.bin");
        Files.write(f, b.array());
        try (Llama2cCheckpoint ck = Llama2cCheckpoint.open(f)) {
            assertThat(ck.hasFreqCis()).isFalse();
            assertThat(ck.config().sharedClassifier()).isFalse();
            assertThat(ck.tensor("lm_head").byteOffset()).isEqualTo(all.length - freqBytes);
            assertThat(ck.floats("lm_head")).containsExactly(ck.floats("embed"));
        }
    }

    @Test
    void impossibleHeaderIsRejected(@TempDir Path dir) throws Exception {
        byte[] all = Files.readAllBytes(TestData.stories260K());
        ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN).putInt(8, 0); // n_layers = 0
        Path f = dir.resolve("zero-layers.bin");
        Files.write(f, all);
        assertThatThrownBy(() -> Llama2cCheckpoint.open(f))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(f.toString())
                .hasMessageContaining("n_layers=0");
        Path tiny = dir.resolve("tiny.bin");
        Files.write(tiny, new byte[10]);
        assertThatThrownBy(() -> Llama2cCheckpoint.open(tiny))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(tiny.toString())
                .hasMessageContaining("10 bytes");
    }

    @Test
    void absurdHeaderValuesAreRefusedBeforeAllocating(@TempDir Path dir) throws Exception {
        // seq_len 2^31 - 1 in a file without freq_cis tables: no tensor bounds it, the RoPE tables would
        byte[] all = Files.readAllBytes(TestData.stories260K());
        int freqBytes = 2 * 512 * 4 * 4;
        byte[] noFreq = Arrays.copyOf(all, all.length - freqBytes);
        ByteBuffer.wrap(noFreq).order(ByteOrder.LITTLE_ENDIAN).putInt(24, Integer.MAX_VALUE);
        Path ctx = dir.resolve("seq-len.bin");
        Files.write(ctx, noFreq);
        assertThatThrownBy(() -> Llama2cCheckpoint.open(ctx))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(ctx.toString())
                .hasMessageContaining("context length 2147483647 exceeds 16777216");
        // n_layers 2^31 - 1 with dim 2^24: the implied size overflows 64 bits and must not wrap around
        ByteBuffer h = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        h.putInt(1 << 24).putInt(1 << 30).putInt(Integer.MAX_VALUE).putInt(1 << 10).putInt(1 << 10).putInt(32)
                .putInt(16);
        Path layers = dir.resolve("layers.bin");
        Files.write(layers, h.array());
        assertThatThrownBy(() -> Llama2cCheckpoint.open(layers))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(layers.toString())
                .hasMessageContaining("overflows 64 bits");
    }
}
