package io.quantgate.runtime.tokenizer;

import io.quantgate.runtime.TestData;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SentencePieceTokenizerTest {
    /** Strings where whitespace, digits, byte fallback and empty input matter. */
    static final String[] TRICKY = {
            "", " ", "  ", "     ", "   leading", "trailing   ", "a  b   c    d", "          x",
            "\n", "line1\nline2\n\n", " \n ", "a\r\nb", "\ttab",
            "12345 67.89 1,000,000", "emoji 🙂👍🏽 mixed", "日本語のテキスト", "mixed 中文 and English",
            "héllo wörld — naïve café", "Ünïcödé", "$%^&*()_+{}|:<>?", "x\u0000y",
            "The quick brown fox jumps over the lazy dog.", "<s> and </s> and <unk> and <0x41> as text",
    };

    static SentencePieceTokenizer llama;

    @BeforeAll
    static void load() {
        llama = SentencePieceTokenizer.load(TestData.llama2SentencePieceModel());
    }

    @Test
    void llama2ModelHasTheExpectedStructure() {
        assertThat(llama.vocabSize()).isEqualTo(32000);
        assertThat(llama.bos()).isEqualTo(1);
        assertThat(llama.eos()).isEqualTo(2);
        assertThat(llama.unk()).isEqualTo(0);
        assertThat(llama.type(0)).isEqualTo(PieceType.UNKNOWN);
        assertThat(llama.type(1)).isEqualTo(PieceType.CONTROL);
        assertThat(llama.piece(1)).isEqualTo("<s>");
        for (int b = 0; b < 256; b++) {
            assertThat(llama.piece(3 + b)).isEqualTo(String.format("<0x%02X>", b));
            assertThat(llama.type(3 + b)).isEqualTo(PieceType.BYTE);
        }
        // Llama 2's normalizer spec: identity, dummy prefix on, extra whitespace kept
        assertThat(llama.addsDummyPrefix()).isTrue();
        assertThat(llama.removesExtraWhitespaces()).isFalse();
        assertThat(llama.byteFallback()).isTrue();
    }

    @Test
    void encodesHelloWorldAsLlama() {
        assertThat(llama.encode("Hello world", true)).containsExactly(1, 15043, 3186);
        assertThat(llama.piece(15043)).isEqualTo("▁Hello");
        assertThat(llama.decode(new int[] {1, 15043, 3186})).isEqualTo("Hello world");
        assertThat(llama.decode(1, 15043)).isEqualTo("Hello");
        assertThat(llama.decode(15043, 3186)).isEqualTo(" world");
        assertThat(llama.encode("", true)).containsExactly(1);
        assertThat(llama.encode("", false)).isEmpty();
    }

    /**
     * llama2.c's tokenizer.bin is the same vocabulary exported with ▁ as a plain space, and run.c is an
     * independent implementation of the same greedy-by-score BPE.
     */
    @Test
    void agreesWithLlama2cOnTrickyStrings() {
        Llama2cTokenizer l2c = Llama2cTokenizer.load(TestData.llama2Tokenizer());
        for (String s : TRICKY) {
            assertThat(llama.encode(s, true)).as("[%s]", s).containsExactly(l2c.encode(s, true));
            assertThat(llama.encode(s, false)).as("[%s]", s).containsExactly(l2c.encode(s, false));
        }
        // byte fallback: 🙂 (F0 9F 99 82) is no piece, so its four bytes are <0xF0>.. = ids 3 + byte
        assertThat(llama.encode("🙂", false)).containsExactly(29871, 3 + 0xF0, 3 + 0x9F, 3 + 0x99, 3 + 0x82);
        assertThat(llama.piece(29871)).isEqualTo("▁");
        // the legitimate difference: SentencePiece reads a literal ▁ in the input as a space (it is its
        // escape for one), llama2.c's vocabulary has no ▁ so it falls back to the bytes E2 96 81
        String escaped = "a▁b";
        assertThat(llama.encode(escaped, false)).containsExactly(llama.encode("a b", false));
        assertThat(l2c.encode(escaped, false)).contains(3 + 0xE2, 3 + 0x96, 3 + 0x81);
    }

    /**
     * SentencePiece's BPE written out literally, quadratic: escape, split into code points, rescan all
     * adjacent pairs and merge the one whose concatenation is the NORMAL piece with the highest score
     * (strict {@code >}, so the leftmost on ties), and only at the end turn symbols that are not pieces into
     * byte pieces, as {@code bpe_model.cc} does. Shares nothing with the heap merge.
     */
    static int[] referenceEncode(SentencePieceTokenizer t, String text) {
        List<Integer> out = new ArrayList<>(List.of(t.bos()));
        if (text.isEmpty()) {
            return new int[] {t.bos()};
        }
        String s = "▁" + text.replace(' ', '▁');
        List<String> sym = new ArrayList<>(s.codePoints().mapToObj(Character::toString).toList());
        while (true) {
            float best = Float.NEGATIVE_INFINITY;
            int at = -1;
            for (int i = 0; i + 1 < sym.size(); i++) {
                int id = t.pieceId(sym.get(i) + sym.get(i + 1));
                if (id >= 0 && t.type(id) == PieceType.NORMAL && t.score(id) > best) {
                    best = t.score(id);
                    at = i;
                }
            }
            if (at < 0) {
                break;
            }
            sym.set(at, sym.get(at) + sym.remove(at + 1));
        }
        for (String x : sym) {
            int id = t.pieceId(x);
            if (id >= 0 && t.type(id) == PieceType.NORMAL) {
                out.add(id);
            } else {
                for (byte b : x.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
                    out.add(t.pieceId(String.format("<0x%02X>", b & 0xFF)));
                }
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    @Test
    void heapMergeEqualsTheLiteralAlgorithm() throws Exception {
        String wiki = Files.readString(TestData.wikiTestRaw());
        List<String> texts = new ArrayList<>(Arrays.asList(TRICKY));
        texts.add(wiki.substring(0, 1500));
        texts.add(wiki.substring(700_000, 701_500));
        for (String s : texts) {
            assertThat(llama.encode(s, true)).as("[%s]", s.substring(0, Math.min(40, s.length())))
                    .containsExactly(referenceEncode(llama, s));
        }
    }

    @Test
    void agreesWithLlama2cOnAllOfWikiTestRaw() throws Exception {
        Llama2cTokenizer l2c = Llama2cTokenizer.load(TestData.llama2Tokenizer());
        String wiki = Files.readString(TestData.wikiTestRaw());
        String first200k = wiki.substring(0, 200_000);
        IdSequences.assertSame(llama.encode(first200k, true), l2c.encode(first200k, true), "first 200,000 chars");
        int[] all = llama.encode(wiki, true);
        IdSequences.assertSame(all, l2c.encode(wiki, true), "all of wiki.test.raw");
        assertThat(llama.decode(all)).isEqualTo(wiki);
    }

    @Test
    void encodesAllOfWikiTestRawInAboutASecond() throws Exception {
        String wiki = Files.readString(TestData.wikiTestRaw());
        long t0 = System.nanoTime();
        int[] ids = llama.encode(wiki, true);
        double first = (System.nanoTime() - t0) / 1e9;
        t0 = System.nanoTime();
        llama.encode(wiki, true);
        double second = (System.nanoTime() - t0) / 1e9;
        System.out.printf("SentencePiece 32k: wiki.test.raw %d chars -> %d tokens in %.3f s (first call), %.3f s (second)%n",
                wiki.length(), ids.length, first, second);
        assertThat(ids.length).isBetween(wiki.length() / 8, wiki.length() / 2);
    }

    @Test
    void roundTripsManyStrings() throws Exception {
        List<String> texts = new ArrayList<>(Arrays.asList(TRICKY));
        String wiki = Files.readString(TestData.wikiTestRaw());
        for (int i = 0; i < 200; i++) {
            int start = (int) ((long) i * 6151 % (wiki.length() - 400));
            texts.add(wiki.substring(start, start + 1 + i % 400));
        }
        for (String s : texts) {
            assertThat(llama.decode(llama.encode(s, true))).as("[%s]", s).isEqualTo(s);
            assertThat(llama.decode(llama.encode(s, false))).as("[%s]", s).isEqualTo(s);
        }
    }

    @Test
    void fromVocabularyIsTheSameTokenizer() throws Exception {
        List<String> pieces = new ArrayList<>();
        float[] scores = new float[llama.vocabSize()];
        int[] types = new int[llama.vocabSize()];
        for (int i = 0; i < llama.vocabSize(); i++) {
            pieces.add(llama.piece(i));
            scores[i] = llama.score(i);
            types[i] = llama.type(i).code();
        }
        SentencePieceTokenizer gguf = SentencePieceTokenizer.fromVocabulary(pieces, scores, types, 1, 2, 0, true);
        assertThat(gguf.byteFallback()).isTrue();
        String wiki = Files.readString(TestData.wikiTestRaw()).substring(0, 100_000);
        IdSequences.assertSame(gguf.encode(wiki, true), llama.encode(wiki, true), "100,000 chars of wiki.test.raw");
        for (String s : TRICKY) {
            assertThat(gguf.encode(s, true)).as("[%s]", s).containsExactly(llama.encode(s, true));
            assertThat(gguf.decode(gguf.encode(s, true))).isEqualTo(s);
        }
        assertThatThrownBy(() -> SentencePieceTokenizer.fromVocabulary(pieces, new float[3], types, 1, 2, 0, true))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("32000 pieces, 3 scores");
        List<String> duplicated = new ArrayList<>(pieces);
        duplicated.set(500, pieces.get(400));
        assertThatThrownBy(() -> SentencePieceTokenizer.fromVocabulary(duplicated, scores, types, 1, 2, 0, true))
                .hasMessageContaining("appears twice").hasMessageContaining("400").hasMessageContaining("500");
    }

    // ---------------------------------------------------------------- hand-made models

    /** Piece fields: 1 piece, 2 score, 3 type. */
    private static ProtoWriter piece(String text, float score, PieceType type) {
        ProtoWriter p = new ProtoWriter().string(1, text).float32(2, score);
        return type == PieceType.NORMAL ? p : p.varint(3, type.code()); // NORMAL is the proto default
    }

    /**
     * A tiny BPE model. Pieces: 0 {@code <unk>}, 1 {@code <s>}, 2 {@code </s>}, 3 ▁, 4 a, 5 b, 6 c,
     * 7 ▁a (-1), 8 ab (-2), 9 ▁ab (-0.5), 10 bc (-0.1), 11 {@code <x>} user-defined, 12 cc unused (0),
     * 13 bcc (-3). No byte fallback.
     */
    private static byte[] tinyModel(int modelType, boolean addDummyPrefix, boolean removeExtraWhitespaces) {
        ProtoWriter m = new ProtoWriter()
                .message(1, piece("<unk>", 0, PieceType.UNKNOWN))
                .message(1, piece("<s>", 0, PieceType.CONTROL))
                .message(1, piece("</s>", 0, PieceType.CONTROL))
                .message(1, piece("▁", -10, PieceType.NORMAL))
                .message(1, piece("a", -11, PieceType.NORMAL))
                .message(1, piece("b", -12, PieceType.NORMAL))
                .message(1, piece("c", -13, PieceType.NORMAL))
                .message(1, piece("▁a", -1, PieceType.NORMAL))
                .message(1, piece("ab", -2, PieceType.NORMAL))
                .message(1, piece("▁ab", -0.5f, PieceType.NORMAL))
                .message(1, piece("bc", -0.1f, PieceType.NORMAL))
                .message(1, piece("<x>", 0, PieceType.USER_DEFINED))
                .message(1, piece("cc", 0, PieceType.UNUSED))
                .message(1, piece("bcc", -3, PieceType.NORMAL));
        // trainer_spec: model_type (3), an unknown string field (2, model_prefix) to skip, unk/bos/eos 40/41/42
        m.message(2, new ProtoWriter().string(2, "tiny").varint(3, modelType).varint(40, 0).varint(41, 1).varint(42, 2));
        m.message(3, new ProtoWriter().string(1, "identity").varint(3, addDummyPrefix ? 1 : 0)
                .varint(4, removeExtraWhitespaces ? 1 : 0));
        return m.toByteArray();
    }

    private static SentencePieceTokenizer tiny(Path dir, boolean addDummyPrefix, boolean removeExtraWhitespaces) throws Exception {
        Path file = dir.resolve("tiny-" + addDummyPrefix + "-" + removeExtraWhitespaces + ".model");
        Files.write(file, tinyModel(2, addDummyPrefix, removeExtraWhitespaces));
        return SentencePieceTokenizer.load(file);
    }

    @Test
    void handMadeModelMergesByScore(@TempDir Path dir) throws Exception {
        SentencePieceTokenizer t = tiny(dir, true, false);
        // "ab" -> ▁ a b; pairs ▁a (-1) and ab (-2): ▁a first -> ▁a b; then ▁a+b = ▁ab (-0.5)
        assertThat(t.encode("ab", true)).containsExactly(1, 9);
        // "abc" -> ▁ a b c; bc (-0.1) beats ▁a (-1) and ab (-2) -> ▁ a bc; a+bc is no piece; ▁a -> ▁a bc
        assertThat(t.encode("abc", false)).containsExactly(7, 10);
        // the user-defined <x> is one symbol and never merges: ▁ a <x> b -> ▁a <x> b
        assertThat(t.encode("a<x>b", false)).containsExactly(7, 11, 5);
        // "d" is no piece and there is no byte fallback: <unk>
        assertThat(t.encode("d", false)).containsExactly(3, 0);
        // "bcc": ▁ b c c; cc (0, unused) merges first -> ▁ b cc; b+cc = bcc (-3) -> ▁ bcc
        assertThat(t.encode("bcc", false)).containsExactly(3, 13);
        // "cc": ▁ c c -> ▁ cc; cc is UNUSED, so it is split back into c c
        assertThat(t.encode("cc", false)).containsExactly(3, 6, 6);
        // extra whitespace kept: "a  b" -> ▁a ▁ ▁ b (▁▁ and ▁b are no pieces)
        assertThat(t.encode("a  b", false)).containsExactly(7, 3, 3, 5);
        // decoding: ▁ is a space, the dummy prefix after BOS / at the start is dropped, <unk> is " ⁇ "
        assertThat(t.decode(new int[] {1, 7, 10})).isEqualTo("abc");
        assertThat(t.decode(new int[] {7, 3, 3, 5})).isEqualTo("a  b");
        assertThat(t.decode(new int[] {4, 0})).isEqualTo("a \u2047 ");
        assertThat(t.decode(new int[] {2})).isEmpty();
    }

    @Test
    void honoursRemoveExtraWhitespacesAndAddDummyPrefix(@TempDir Path dir) throws Exception {
        SentencePieceTokenizer t = tiny(dir, true, true);
        // leading/trailing spaces dropped, inner runs made one: "a b" -> ▁a ▁ b
        assertThat(t.encode("  a   b  ", false)).containsExactly(7, 3, 5);
        assertThat(t.encode("   ", true)).containsExactly(1);
        SentencePieceTokenizer noPrefix = tiny(dir, false, false);
        // no dummy prefix: "ab" -> a b -> ab
        assertThat(noPrefix.encode("ab", false)).containsExactly(8);
        assertThat(noPrefix.encode(" ab", false)).containsExactly(9);
        // without a dummy prefix nothing is stripped when decoding
        assertThat(noPrefix.decode(new int[] {1, 9})).isEqualTo(" ab");
    }

    @Test
    void rejectsUnigramAndBadFilesNamingThem(@TempDir Path dir) throws Exception {
        Path unigram = dir.resolve("unigram.model");
        Files.write(unigram, tinyModel(1, true, false));
        assertThatThrownBy(() -> SentencePieceTokenizer.load(unigram))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(unigram.toString()).hasMessageContaining("UNIGRAM").hasMessageContaining("unsupported");

        byte[] real = Files.readAllBytes(TestData.llama2SentencePieceModel());
        Path truncated = dir.resolve("truncated.model");
        Files.write(truncated, Arrays.copyOf(real, 100_001));
        assertThatThrownBy(() -> SentencePieceTokenizer.load(truncated))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(truncated.toString()).hasMessageContaining("offset");

        Path notAModel = dir.resolve("llama2c.model");
        Files.copy(TestData.llama2Tokenizer(), notAModel);
        assertThatThrownBy(() -> SentencePieceTokenizer.load(notAModel))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(notAModel.toString());

        Path charsmap = dir.resolve("nfkc.model");
        byte[] withCharsmap = new ProtoWriter().message(1, piece("<unk>", 0, PieceType.UNKNOWN))
                .message(2, new ProtoWriter().varint(3, 2))
                .message(3, new ProtoWriter().string(1, "nmt_nfkc").bytes(2, new byte[] {1, 2, 3})).toByteArray();
        Files.write(charsmap, withCharsmap);
        assertThatThrownBy(() -> SentencePieceTokenizer.load(charsmap))
                .hasMessageContaining(charsmap.toString()).hasMessageContaining("nmt_nfkc").hasMessageContaining("unsupported");

        Path badType = dir.resolve("badtype.model");
        Files.write(badType, new ProtoWriter().message(1, new ProtoWriter().string(1, "x").varint(3, 9))
                .message(2, new ProtoWriter().varint(3, 2)).toByteArray());
        assertThatThrownBy(() -> SentencePieceTokenizer.load(badType)).hasMessageContaining("unknown type 9");

        Path empty = dir.resolve("empty.model");
        Files.write(empty, new byte[0]);
        assertThatThrownBy(() -> SentencePieceTokenizer.load(empty)).hasMessageContaining("no pieces");

        assertThatThrownBy(() -> llama.decode(new int[] {32000})).hasMessageContaining("32000");
    }

    /** A model whose unk/bos/eos pieces were deleted keeps ids 0, 1, 2 in its trainer spec: every id would shift. */
    @Test
    void deletedSpecialPiecesAreDetected(@TempDir Path dir) throws Exception {
        byte[] real = Files.readAllBytes(TestData.llama2SentencePieceModel());
        // the first three field-1 messages are <unk>, <s>, </s>: drop 1..3 of them
        for (int drop = 1; drop <= 3; drop++) {
            int at = 0;
            for (int i = 0; i < drop; i++) {
                assertThat(real[at]).isEqualTo((byte) 0x0A);
                int len = real[at + 1]; // these pieces are short: a one-byte length
                at += 2 + len;
            }
            byte[] cut = Arrays.copyOfRange(real, at, real.length);
            Path file = dir.resolve("drop" + drop + ".model");
            Files.write(file, cut);
            assertThatThrownBy(() -> SentencePieceTokenizer.load(file)).as("%d pieces dropped", drop)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(file.toString())
                    .hasMessageContaining("unk_id is 0 but piece 0 is")
                    .hasMessageContaining("shift every id");
        }
        // <unk> kept, <s> and </s> deleted: bos_id 1 is now the normal piece that followed them
        ProtoWriter m = new ProtoWriter()
                .message(1, piece("<unk>", 0, PieceType.UNKNOWN))
                .message(1, piece("a", -1, PieceType.NORMAL))
                .message(1, piece("b", -2, PieceType.NORMAL));
        m.message(2, new ProtoWriter().varint(3, 2).varint(40, 0).varint(41, 1).varint(42, 2));
        Path noBos = dir.resolve("nobos.model");
        Files.write(noBos, m.toByteArray());
        assertThatThrownBy(() -> SentencePieceTokenizer.load(noBos))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(noBos.toString())
                .hasMessageContaining("bos_id is 1 but piece 1 is 'a' of type NORMAL");
    }
}
