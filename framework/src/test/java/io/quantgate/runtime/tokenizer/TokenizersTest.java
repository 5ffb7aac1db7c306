package io.quantgate.runtime.tokenizer;

import io.quantgate.runtime.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TokenizersTest {

    @Test
    void picksByFileName() {
        assertThat(Tokenizers.load(TestData.llama2Tokenizer())).isInstanceOf(Llama2cTokenizer.class);
        assertThat(Tokenizers.load(TestData.llama2SentencePieceModel())).isInstanceOf(SentencePieceTokenizer.class);
        assertThat(Tokenizers.load(HuggingFaceTokenizerTest.fixture())).isInstanceOf(HuggingFaceTokenizer.class);
        // all three Llama 2 forms agree (the fixture is a different vocabulary)
        assertThat(Tokenizers.load(TestData.llama2Tokenizer()).encode("Hello world", true)).containsExactly(1, 15043, 3186);
        assertThat(Tokenizers.load(TestData.llama2SentencePieceModel()).encode("Hello world", true)).containsExactly(1, 15043, 3186);
    }

    @Test
    void inADirectoryPrefersJsonThenModelThenBin(@TempDir Path dir) throws Exception {
        Files.copy(TestData.llama2Tokenizer(), dir.resolve("tokenizer.bin"));
        assertThat(Tokenizers.load(dir)).isInstanceOf(Llama2cTokenizer.class);
        Files.copy(TestData.llama2SentencePieceModel(), dir.resolve("tokenizer.model"));
        assertThat(Tokenizers.load(dir)).isInstanceOf(SentencePieceTokenizer.class);
        Files.copy(HuggingFaceTokenizerTest.fixture(), dir.resolve("tokenizer.json"));
        assertThat(Tokenizers.load(dir)).isInstanceOf(HuggingFaceTokenizer.class);
    }

    @Test
    void otherNamesAreJudgedByContent(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("vocab.txt");
        Files.copy(HuggingFaceTokenizerTest.fixture(), json);
        assertThat(Tokenizers.load(json)).isInstanceOf(HuggingFaceTokenizer.class);
        Path proto = dir.resolve("spm");
        Files.copy(TestData.llama2SentencePieceModel(), proto);
        assertThat(Tokenizers.load(proto)).isInstanceOf(SentencePieceTokenizer.class);
    }

    @Test
    void failsClearly(@TempDir Path dir) throws Exception {
        assertThatThrownBy(() -> Tokenizers.load(dir))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(dir.toString()).hasMessageContaining("tokenizer.json, tokenizer.model, tokenizer.bin");
        Path missing = dir.resolve("nope.json");
        assertThatThrownBy(() -> Tokenizers.load(missing)).hasMessageContaining(missing.toString()).hasMessageContaining("does not exist");
        Path garbage = dir.resolve("garbage.dat");
        Files.write(garbage, new byte[] {0x7F, 'E', 'L', 'F'});
        assertThatThrownBy(() -> Tokenizers.load(garbage)).hasMessageContaining(garbage.toString()).hasMessageContaining("0x7F");
        Path gguf = dir.resolve("model.gguf");
        Files.write(gguf, new byte[] {'G', 'G', 'U', 'F'});
        assertThatThrownBy(() -> Tokenizers.load(gguf)).hasMessageContaining(gguf.toString()).hasMessageContaining("fromVocabulary");
        Path badJson = dir.resolve("tokenizer.json");
        Files.writeString(badJson, "{\"model\": ");
        assertThatThrownBy(() -> Tokenizers.load(dir)).hasMessageContaining(badJson.toString()).hasMessageContaining("not valid JSON");
    }
}
