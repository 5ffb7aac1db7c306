package io.quantgate.runtime;

import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.kernels.format.QuantizedMatrix;
import io.quantgate.runtime.model.Llama2cCheckpoint;
import io.quantgate.runtime.model.ModelWeights;
import io.quantgate.runtime.model.QuantizedWeights;
import io.quantgate.runtime.model.SyntheticWeights;
import io.quantgate.runtime.model.TensorNames;
import io.quantgate.runtime.tokenizer.Llama2cTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Opening models by name, finding their tokenizers, synthetic weights and the quantized-weights view. */
class ModelFilesTest {

    @Test
    void opensEachKindAndFindsTheTokenizerBesideALlama2cCheckpoint() {
        try (ModelWeights w = ModelFiles.open(TestData.stories260K().toString())) {
            assertThat(w).isInstanceOf(Llama2cCheckpoint.class);
            assertThat(ModelFiles.tokenizer(w, null)).isInstanceOf(Llama2cTokenizer.class)
                    .extracting(t -> t.vocabSize()).isEqualTo(512);
        }
        try (ModelWeights w = ModelFiles.open("synthetic:tiny")) {
            assertThat(ModelFiles.findTokenizer(w)).isEmpty();
            assertThatThrownBy(() -> ModelFiles.tokenizer(w, null)).hasMessageContaining("pass --tokenizer");
        }
    }

    /** The first {@code records} records of tok512.bin: a well-formed but truncated llama2.c tokenizer. */
    static Path truncatedTok512(Path dir, int records) throws Exception {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(Files.readAllBytes(TestData.tok512()))
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.position(4);
        for (int i = 0; i < records; i++) {
            b.getFloat();
            int len = b.getInt();
            b.position(b.position() + len);
        }
        Path p = dir.resolve("tok300.bin");
        Files.write(p, java.util.Arrays.copyOf(b.array(), b.position()));
        return p;
    }

    @Test
    void aTokenizerSmallerThanTheModelIsRefusedNamingBoth(@TempDir Path dir) throws Exception {
        Path tok300 = truncatedTok512(dir, 300);
        try (ModelWeights w = ModelFiles.open(TestData.stories260K().toString())) {
            assertThatThrownBy(() -> ModelFiles.tokenizer(w, tok300.toString()))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(tok300.toString()).hasMessageContaining(TestData.stories260K().toString())
                    .hasMessageContaining("has 300 ids").hasMessageContaining("has 512 embeddings")
                    .hasMessageContaining("exactly vocab_size records");
            // another kind falls short by 512 - 279 ids, more than padding (512 / 16) explains
            Path json = Path.of("src/test/resources/io/quantgate/runtime/tokenizer/bytelevel-tiny/tokenizer.json");
            assertThatThrownBy(() -> ModelFiles.tokenizer(w, json.toString()))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(json.toString()).hasMessageContaining(TestData.stories260K().toString())
                    .hasMessageContaining("has 279 ids").hasMessageContaining("has 512 embeddings")
                    .hasMessageContaining("more than padding explains");
            assertThat(ModelFiles.tokenizer(w, TestData.tok512().toString()).vocabSize()).isEqualTo(512);
        }
    }

    @Test
    void aTokenizerLargerThanTheModelIsRefused() {
        try (ModelWeights w = ModelFiles.open(TestData.stories260K().toString())) {
            assertThatThrownBy(() -> ModelFiles.tokenizer(w, TestData.llama2Tokenizer().toString()))
                    .hasMessageContaining("32000 ids").hasMessageContaining("has 512 embeddings");
        }
    }

    @Test
    void unknownOrMissingModelsAreClearErrors(@TempDir Path dir) throws Exception {
        assertThatThrownBy(() -> ModelFiles.open(dir.resolve("missing.gguf").toString()))
                .hasMessageContaining("missing.gguf").hasMessageContaining("does not exist");
        Path odd = Files.writeString(dir.resolve("model.onnx"), "x");
        assertThatThrownBy(() -> ModelFiles.open(odd.toString())).hasMessageContaining("model.onnx")
                .hasMessageContaining("no known kind");
        Path junk = Files.write(dir.resolve("junk.gguf"), new byte[] {1, 2, 3});
        assertThatThrownBy(() -> ModelFiles.open(junk.toString())).hasMessageContaining("junk.gguf");
    }

    @Test
    void syntheticSpecsAreDeterministicAndValidated() {
        try (SyntheticWeights a = SyntheticWeights.of("synthetic:llama-1b");
             SyntheticWeights b = SyntheticWeights.of("synthetic:dim=2048,layers=16,heads=32,kv=8,hidden=5632,vocab=32000")) {
            assertThat(a.config()).isEqualTo(b.config());
            assertThat(a.config().kvDim()).isEqualTo(512);
            assertThat(a.shapes().get("layers.15.mlp.down")).containsExactly(2048, 5632);
            float[] x = a.floats("layers.3.attn.k");
            // Arrays.equals: AssertJ's containsExactly is quadratic on a million elements
            assertThat(java.util.Arrays.equals(x, b.floats("layers.3.attn.k"))).isTrue();
            assertThat(java.util.Arrays.equals(x, a.floats("layers.4.attn.k"))).isFalse();
            double sum2 = 0;
            for (float v : x) {
                assertThat(Math.abs(v)).isLessThanOrEqualTo((float) (Math.sqrt(3) * 0.02));
                sum2 += v * v;
            }
            assertThat(Math.sqrt(sum2 / x.length)).isCloseTo(0.02, org.assertj.core.data.Offset.offset(0.0005));
            assertThat(a.floats("norm")).containsOnly(1f);
        }
        try (SyntheticWeights s = SyntheticWeights.of("synthetic:llama-1b")) {
            // 16 x (2048² x 2 + 2048 x 512 x 2 + 2048 x 5632 x 3) + 2 x 32000 x 2048 + 2048 (+ norms not counted)
            assertThat(s.config().parameterCount()).isEqualTo(16L * (2048 * 2048 * 2 + 2048 * 512 * 2 + 2048 * 5632 * 3
                    + 2 * 2048) + 2L * 32000 * 2048 + 2048);
        }
        assertThatThrownBy(() -> SyntheticWeights.of("synthetic:dim=64,layers=2,heads=3,hidden=8,vocab=9"))
                .hasMessageContaining("not a multiple of heads");
        assertThatThrownBy(() -> SyntheticWeights.of("synthetic:dim=64,bogus=1")).hasMessageContaining("unknown key 'bogus'");
        assertThatThrownBy(() -> SyntheticWeights.of("synthetic:dim=64")).hasMessageContaining("lacks layers=");
    }

    @Test
    void quantizedWeightsAreTheDequantizedCodesAndUntieAQuantizedClassifier() {
        try (Llama2cCheckpoint ck = Llama2cCheckpoint.open(TestData.stories260K());
             Arena arena = Arena.ofConfined()) {
            QuantizedWeights fp32 = new QuantizedWeights(ck, QuantizationConfig.parse("fp32"));
            assertThat(fp32.config().sharedClassifier()).isTrue();
            assertThat(fp32.has(TensorNames.LM_HEAD)).isFalse();
            assertThat(fp32.floats("layers.0.attn.q")).containsExactly(ck.floats("layers.0.attn.q"));

            QuantizedWeights q = new QuantizedWeights(ck, QuantizationConfig.parse("mixed:mlp.*=int4-g64,lm_head=int8"));
            assertThat(q.config().sharedClassifier()).isFalse();
            assertThat(q.shapes().get(TensorNames.LM_HEAD)).containsExactly(512, 64);
            QuantizedMatrix down = q.quantized("layers.1.mlp.down", arena);
            assertThat(q.floats("layers.1.mlp.down")).containsExactly(down.dequantize());
            assertThat(q.floats("layers.1.mlp.down")).isNotEqualTo(ck.floats("layers.1.mlp.down"));
            assertThat(q.storedType("layers.1.mlp.down")).isEqualTo("int4-g64");
            assertThat(q.floats("layers.1.attn.q")).containsExactly(ck.floats("layers.1.attn.q")); // unmatched: fp32
            assertThat(q.storedType(TensorNames.EMBED)).isEqualTo("F32");
            assertThat(q.floats(TensorNames.EMBED)).containsExactly(ck.floats(TensorNames.EMBED));
        }
    }
}
