package io.quantgate.runtime.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quantgate.runtime.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HuggingFaceTokenizerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static Path fixture() {
        try {
            return Path.of(HuggingFaceTokenizerTest.class.getResource("bytelevel-tiny/tokenizer.json").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---------------------------------------------------------------- (a) Llama 2 as Hugging Face converts it

    /**
     * The merges transformers' {@code LlamaConverter} writes for a SentencePiece BPE model
     * ({@code generate_merges}): for each piece in id order, every cut into two pieces that are both in the
     * vocabulary (Python string indices, i.e. code points), those ordered by (left id, right id); then all
     * sorted by (merged piece's score, left length, right length) descending, a stable sort.
     */
    static List<String[]> huggingFaceMerges(SentencePieceTokenizer sp) {
        record Merge(String left, String right, float score, int order) {
        }
        Map<String, Integer> vocab = new HashMap<>();
        for (int i = 0; i < sp.vocabSize(); i++) {
            vocab.put(sp.piece(i), i);
        }
        List<Merge> merges = new ArrayList<>();
        for (int id = 0; id < sp.vocabSize(); id++) {
            String piece = sp.piece(id);
            List<Merge> local = new ArrayList<>();
            for (int cut = piece.offsetByCodePoints(0, 1); cut < piece.length(); cut = piece.offsetByCodePoints(cut, 1)) {
                String l = piece.substring(0, cut);
                String r = piece.substring(cut);
                if (vocab.containsKey(l) && vocab.containsKey(r)) {
                    local.add(new Merge(l, r, sp.score(id), 0));
                }
            }
            local.sort(Comparator.comparingInt((Merge m) -> vocab.get(m.left)).thenComparingInt(m -> vocab.get(m.right)));
            for (Merge m : local) {
                merges.add(new Merge(m.left, m.right, m.score, merges.size()));
            }
        }
        // descending on the key; equal keys keep their order (Python's reverse sort is stable)
        merges.sort(Comparator.comparing((Merge m) -> m.score).reversed()
                .thenComparing(Comparator.comparingInt((Merge m) -> m.left.codePointCount(0, m.left.length())).reversed())
                .thenComparing(Comparator.comparingInt((Merge m) -> m.right.codePointCount(0, m.right.length())).reversed())
                .thenComparingInt(Merge::order));
        return merges.stream().map(m -> new String[] {m.left, m.right}).toList();
    }

    /** Llama 2's tokenizer.json as transformers' LlamaConverter (legacy mode) builds it. */
    static ObjectNode llama2TokenizerJson(SentencePieceTokenizer sp) {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        ArrayNode added = root.putArray("added_tokens");
        for (int id : new int[] {0, 1, 2}) {
            added.addObject().put("id", id).put("content", sp.piece(id)).put("single_word", false).put("lstrip", false)
                    .put("rstrip", false).put("normalized", false).put("special", true);
        }
        ObjectNode normalizer = root.putObject("normalizer").put("type", "Sequence");
        ArrayNode normalizers = normalizer.putArray("normalizers");
        normalizers.addObject().put("type", "Prepend").put("prepend", "▁");
        ObjectNode replace = normalizers.addObject().put("type", "Replace");
        replace.putObject("pattern").put("String", " ");
        replace.put("content", "▁");
        root.putNull("pre_tokenizer");
        ObjectNode post = root.putObject("post_processor").put("type", "TemplateProcessing");
        post.putArray("single").addObject().putObject("SpecialToken").put("id", "<s>").put("type_id", 0);
        ((ArrayNode) post.get("single")).addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        post.putObject("special_tokens").putObject("<s>").put("id", "<s>").putArray("ids").add(1);
        ObjectNode decoder = root.putObject("decoder").put("type", "Sequence");
        ArrayNode decoders = decoder.putArray("decoders");
        ObjectNode unescape = decoders.addObject().put("type", "Replace");
        unescape.putObject("pattern").put("String", "▁");
        unescape.put("content", " ");
        decoders.addObject().put("type", "ByteFallback");
        decoders.addObject().put("type", "Fuse");
        decoders.addObject().put("type", "Strip").put("content", " ").put("start", 1).put("stop", 0);
        ObjectNode model = root.putObject("model").put("type", "BPE").putNull("dropout").put("unk_token", "<unk>")
                .putNull("continuing_subword_prefix").putNull("end_of_word_suffix").put("fuse_unk", true)
                .put("byte_fallback", true).put("ignore_merges", false);
        ObjectNode vocab = model.putObject("vocab");
        for (int i = 0; i < sp.vocabSize(); i++) {
            vocab.put(sp.piece(i), i);
        }
        ArrayNode merges = model.putArray("merges"); // the newer [left, right] form
        for (String[] m : huggingFaceMerges(sp)) {
            merges.addArray().add(m[0]).add(m[1]);
        }
        return root;
    }

    @Test
    void llama2TokenizerJsonEncodesLikeSentencePiece(@TempDir Path dir) throws Exception {
        SentencePieceTokenizer sp = SentencePieceTokenizer.load(TestData.llama2SentencePieceModel());
        Path file = dir.resolve("tokenizer.json");
        JSON.writeValue(file.toFile(), llama2TokenizerJson(sp));
        HuggingFaceTokenizer hf = HuggingFaceTokenizer.load(file);
        assertThat(hf.vocabSize()).isEqualTo(32000);
        assertThat(hf.bos()).isEqualTo(1);
        assertThat(hf.eos()).isEqualTo(2);
        assertThat(hf.encode("Hello world", true)).containsExactly(1, 15043, 3186);
        String wiki = Files.readString(TestData.wikiTestRaw());
        String first50k = wiki.substring(0, 50_000);
        int[] ids = hf.encode(first50k, true);
        IdSequences.assertSame(ids, sp.encode(first50k, true), "first 50,000 chars");
        assertThat(hf.decode(ids)).isEqualTo(first50k);
        IdSequences.assertSame(hf.encode(wiki, true), sp.encode(wiki, true), "all of wiki.test.raw");
        for (String s : SentencePieceTokenizerTest.TRICKY) {
            if (s.contains("<s>")) {
                continue; // added tokens are matched in the text by Hugging Face, never by SentencePiece
            }
            assertThat(hf.encode(s, true)).as("[%s]", s).containsExactly(sp.encode(s, true));
            assertThat(hf.decode(hf.encode(s, true))).as("[%s]", s).isEqualTo(s);
        }
        // "<s>" in the text is the BOS token for Hugging Face; SentencePiece spells it out (< s >)
        assertThat(hf.encode("a<s>b", false)).containsSubsequence(1);
        assertThat(sp.encode("a<s>b", false)).doesNotContain(1);
    }

    /**
     * The non-legacy form (Mistral's files): no normalizer, a Metaspace pre-tokenizer that turns spaces into
     * ▁ and prepends one only at the start of the input ({@code prepend_scheme: first}); here with a
     * Metaspace decoder (▁ to space, first space stripped) plus ByteFallback for the {@code <0xNN>} tokens.
     */
    @Test
    void metaspaceFormEncodesLikeSentencePiece(@TempDir Path dir) throws Exception {
        SentencePieceTokenizer sp = SentencePieceTokenizer.load(TestData.llama2SentencePieceModel());
        ObjectNode root = llama2TokenizerJson(sp);
        root.putNull("normalizer");
        root.putObject("pre_tokenizer").put("type", "Metaspace").put("replacement", "▁")
                .put("prepend_scheme", "first").put("split", false);
        ArrayNode decoders = root.putObject("decoder").put("type", "Sequence").putArray("decoders");
        decoders.addObject().put("type", "Metaspace").put("replacement", "▁").put("prepend_scheme", "first").put("split", false);
        decoders.addObject().put("type", "ByteFallback");
        decoders.addObject().put("type", "Fuse");
        Path file = write(dir, "tokenizer.json", root);
        HuggingFaceTokenizer hf = HuggingFaceTokenizer.load(file);
        String wiki = Files.readString(TestData.wikiTestRaw()).substring(100_000, 120_000);
        IdSequences.assertSame(hf.encode(wiki, true), sp.encode(wiki, true), "20,000 chars of wiki.test.raw");
        assertThat(hf.decode(hf.encode(wiki, true))).isEqualTo(wiki);
        // "first": the text after an added token gets no ▁ (the legacy Prepend normalizer adds one to every
        // stretch): "a<s>b" -> ▁a <s> b
        int a = sp.pieceId("▁a");
        int b = sp.pieceId("b");
        assertThat(hf.encode("a<s>b", false)).containsExactly(a, 1, b);
        HuggingFaceTokenizer legacy = HuggingFaceTokenizer.load(write(dir, "legacy.json", llama2TokenizerJson(sp)));
        assertThat(legacy.encode("a<s>b", false)).containsExactly(a, 1, sp.pieceId("▁b"));
    }

    // ---------------------------------------------------------------- (b) a hand-made byte-level tokenizer

    /*
     * The fixture src/test/resources/.../bytelevel-tiny/tokenizer.json: a Llama 3 style tokenizer
     * (Split with the Llama 3 regex, then ByteLevel without regex; decoder ByteLevel; ignore_merges).
     *
     * Ids 0..255 are the byte characters in GPT-2's order: the 188 printable bytes first (0x21..0x7E ->
     * ids 0..93, 0xA1..0xAC -> 94..105, 0xAE..0xFF -> 106..187), then the other 68 bytes in byte order
     * (0x00..0x20 -> 188..220, 0x7F..0xA0 -> 221..254, 0xAD -> 255). So an ASCII letter or digit b is
     * b - 33 (h = 104 - 33 = 71, e 68, l 75, o 78, s 82, t 83, i 72, ' 6, 1 16 ...), space (Ġ) is
     * 188 + 32 = 220 and newline (Ċ) 188 + 10 = 198.
     *
     * Merges, by rank, with the id of the result: 0 Ġ+t 256, 1 h+e 257, 2 Ġt+he 258, 3 l+l 259,
     * 4 he+ll 260, 5 hell+o 261, 6 '+s 262, 7 1+2 263, 8 Ġ+w 264, 9 o+r 265, 10 Ġw+or 266, 11 l+d 267,
     * 12 Ġwor+ld 268, 13 Ã+© 269 (é is C3 A9), 14 c+a 270, 15 ca+f 271, 16 caf+Ã© 272, 17 Ġ+Ġ 273.
     * Id 274 is Ġhello, which no merge makes. Added: 275 <|endoftext|>, 276 <|im_start|>, 277 <|im_end|>
     * (special), 278 <extra> (not special).
     */

    @Test
    void byteLevelFixtureEncodesHandDerivedIds() {
        HuggingFaceTokenizer t = HuggingFaceTokenizer.load(fixture());
        assertThat(t.vocabSize()).isEqualTo(279);
        // "hellos": one word; h e l l o s -> he (rank 1) -> ll (3) -> hell (4) -> hello (5); hello+s has no merge
        assertThat(t.encode("hellos", false)).containsExactly(261, 82);
        // "the": t h e -> t he; t+he has no merge (only Ġt+he does)
        assertThat(t.encode("the", false)).containsExactly(83, 257);
        // " the": the word Ġthe is itself a token, taken whole (ignore_merges); Ġ t h e -> Ġt -> he -> Ġthe agrees
        assertThat(t.encode(" the", false)).containsExactly(258);
        // " hello": Ġhello is a token (274), taken whole although no merge makes it
        assertThat(t.encode(" hello", false)).containsExactly(274);
        // "it's": split "it" + "'s" (contraction); i t -> 72 83; ' s -> 's (262)
        assertThat(t.encode("it's", false)).containsExactly(72, 83, 262);
        // "IT'S": the contraction is case-insensitive, so "'S" is its own word; ' S (S = 83 - 33 = 50) has no merge
        assertThat(t.encode("IT'S", false)).containsExactly(40, 51, 6, 50);
        // "12345": digits in groups of up to three: "123" -> 12 (263) 3 (18); "45" -> 19 20
        assertThat(t.encode("12345", false)).containsExactly(263, 18, 19, 20);
        // "a  b": "a", " " (\s+(?!\S) leaves the last space to the word), " b" -> 64, 220, Ġ b = 220 65
        assertThat(t.encode("a  b", false)).containsExactly(64, 220, 220, 65);
        // "a   b": "a", "  " (ĠĠ, a token: 273), " b"
        assertThat(t.encode("a   b", false)).containsExactly(64, 273, 220, 65);
        // "hi\n\nthere": "hi", "\n\n" (Ċ Ċ = 198 198), "there": t h e r e -> t he r e (r = 81, e = 68)
        assertThat(t.encode("hi\n\nthere", false)).containsExactly(71, 72, 198, 198, 83, 257, 81, 68);
        // " café": one word Ġ c a f Ã ©; Ã© (13), ca (14), caf (15), cafÃ© (16); Ġ+cafÃ© has no merge
        assertThat(t.encode(" café", false)).containsExactly(220, 272);
        // "ü" = C3 BC: Ã (0xC3 -> 106 + 0xC3 - 0xAE = 127), ¼ (0xBC -> 106 + 0xBC - 0xAE = 120), no merge
        assertThat(t.encode("ü", false)).containsExactly(127, 120);
        // added tokens are cut out first: <|im_start|> "user" "\n" "hi" <|im_end|>
        assertThat(t.encode("<|im_start|>user\nhi<|im_end|>", false))
                .containsExactly(276, 84, 82, 68, 81, 198, 71, 72, 277);
        assertThat(t.encode("a<|endoftext|>b", false)).containsExactly(64, 275, 65);
        assertThat(t.encode("x<extra>y", false)).containsExactly(87, 278, 88);
        // no template and no <s>: BOS is <|endoftext|> (GPT-2 convention), and so is EOS
        assertThat(t.bos()).isEqualTo(275);
        assertThat(t.eos()).isEqualTo(275);
        assertThat(t.encode("hi", true)).containsExactly(275, 71, 72);
    }

    @Test
    void byteLevelFixtureDecodes() {
        HuggingFaceTokenizer t = HuggingFaceTokenizer.load(fixture());
        for (String s : new String[] {"hellos", " the", " hello", "it's", "IT'S", "12345", "a  b", "a   b",
                "hi\n\nthere", " café", "ü", "x<extra>y", "emoji 🙂 and 日本", ""}) {
            assertThat(t.decode(t.encode(s, true))).as("[%s]", s).isEqualTo(s);
        }
        // special tokens give no text; a byte-level token keeps its leading space (no dummy prefix to strip)
        assertThat(t.decode(new int[] {276, 84, 82, 68, 81, 277})).isEqualTo("user");
        assertThat(t.decode(new int[] {275, 274})).isEqualTo(" hello");
        assertThat(t.decode(275, 268)).isEqualTo(" world");
        assertThat(t.decode(new int[] {127})).isEqualTo("\uFFFD"); // half of a UTF-8 character
        assertThat(t.token(220)).isEqualTo("Ġ");
        assertThat(t.isSpecial(276)).isTrue();
        assertThat(t.isSpecial(278)).isFalse();
    }

    @Test
    void ignoreMergesOffMergesEvenWordsThatAreTokens(@TempDir Path dir) throws Exception {
        ObjectNode root = (ObjectNode) JSON.readTree(fixture().toFile());
        ((ObjectNode) root.get("model")).put("ignore_merges", false);
        Path file = dir.resolve("tokenizer.json");
        JSON.writeValue(file.toFile(), root);
        HuggingFaceTokenizer t = HuggingFaceTokenizer.load(file);
        // " hello": Ġ h e l l o -> Ġ hello; no merge joins Ġ and hello
        assertThat(t.encode(" hello", false)).containsExactly(220, 261);
        assertThat(t.encode(" the", false)).containsExactly(258);
    }

    @Test
    void splitPatternsCutAsTheirModelsDo() {
        var gpt2 = SplitPatterns.compile(SplitPatterns.GPT2, "test");
        // GPT-2: contractions are case-sensitive; " 12" keeps its space; "!!" is a symbol run; of two
        // spaces the first is white space on its own, the second stays with "ok"
        assertThat(SplitPatterns.split(gpt2, "I'm 12 cats!!  ok"))
                .containsExactly("I", "'m", " 12", " cats", "!!", " ", " ok");
        assertThat(SplitPatterns.split(gpt2, "DON'T")).containsExactly("DON", "'", "T");
        var llama3 = SplitPatterns.compile(SplitPatterns.LLAMA3, "test");
        // Llama 3: case-insensitive contractions, digit groups of three, a symbol before letters joins them,
        // newlines gather with the white space before them
        assertThat(SplitPatterns.split(llama3, "DON'T 1234567 $abc  \n\nx"))
                .containsExactly("DON", "'T", " ", "123", "456", "7", " $", "abc", "  \n\n", "x");
        var qwen2 = SplitPatterns.compile(SplitPatterns.QWEN2, "test");
        assertThat(SplitPatterns.split(qwen2, "x 2024")).containsExactly("x", " ", "2", "0", "2", "4");
        // a no-break space (U+00A0) is \s here, as in Oniguruma, so it is white space on its own (" ?" only
        // takes an ASCII space); with Java's ASCII \s both would be one symbol run. \p{L} covers accents and CJK
        assertThat(SplitPatterns.split(gpt2, "a\u00A0\u00A0b café 日本"))
                .containsExactly("a", "\u00A0", "\u00A0", "b", " café", " 日本");
    }

    // ---------------------------------------------------------------- (c) errors and missing BOS

    @Test
    void errorsNameTheFile(@TempDir Path dir) throws Exception {
        String good = Files.readString(fixture());
        Path malformed = dir.resolve("malformed.json");
        Files.writeString(malformed, good.substring(0, good.length() / 2));
        assertThatThrownBy(() -> HuggingFaceTokenizer.load(malformed))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(malformed.toString()).hasMessageContaining("not valid JSON");

        ObjectNode wordPiece = (ObjectNode) JSON.readTree(good);
        ((ObjectNode) wordPiece.get("model")).put("type", "WordPiece");
        Path wp = write(dir, "wordpiece.json", wordPiece);
        assertThatThrownBy(() -> HuggingFaceTokenizer.load(wp))
                .hasMessageContaining(wp.toString()).hasMessageContaining("'WordPiece'").hasMessageContaining("only BPE");

        ObjectNode badMerge = (ObjectNode) JSON.readTree(good);
        ((ArrayNode) badMerge.get("model").get("merges")).add("Ġ zzz");
        Path bm = write(dir, "badmerge.json", badMerge);
        assertThatThrownBy(() -> HuggingFaceTokenizer.load(bm))
                .hasMessageContaining(bm.toString()).hasMessageContaining("merges[18]").hasMessageContaining("'zzz'");

        ObjectNode unknownPreTokenizer = (ObjectNode) JSON.readTree(good);
        unknownPreTokenizer.putObject("pre_tokenizer").put("type", "BertPreTokenizer");
        Path up = write(dir, "bert.json", unknownPreTokenizer);
        assertThatThrownBy(() -> HuggingFaceTokenizer.load(up))
                .hasMessageContaining(up.toString()).hasMessageContaining("BertPreTokenizer").hasMessageContaining("not supported");

        ObjectNode noModel = JSON.createObjectNode();
        Path nm = write(dir, "nomodel.json", noModel);
        assertThatThrownBy(() -> HuggingFaceTokenizer.load(nm)).hasMessageContaining(nm.toString()).hasMessageContaining("model");

        HuggingFaceTokenizer t = HuggingFaceTokenizer.load(fixture());
        assertThatThrownBy(() -> t.decode(new int[] {279})).hasMessageContaining("279");
        // a character that is no token, with neither byte fallback nor unk (impossible with the byte-level
        // pre-tokenizer, so use a copy without it): 日 (U+65E5) is not in the byte alphabet
        ObjectNode noPre = (ObjectNode) JSON.readTree(good);
        noPre.putNull("pre_tokenizer");
        Path np = write(dir, "nopre.json", noPre);
        assertThatThrownBy(() -> HuggingFaceTokenizer.load(np).encode("日", false))
                .hasMessageContaining(np.toString()).hasMessageContaining("U+65E5");
    }

    @Test
    void withoutBosEncodingWithBosFails(@TempDir Path dir) throws Exception {
        ObjectNode root = (ObjectNode) JSON.readTree(fixture().toFile());
        ArrayNode added = (ArrayNode) root.get("added_tokens");
        ((ObjectNode) added.get(0)).put("special", false); // <|endoftext|> no longer special
        Path file = write(dir, "nobos.json", root);
        HuggingFaceTokenizer t = HuggingFaceTokenizer.load(file);
        assertThat(t.bos()).isEqualTo(-1);
        assertThat(t.eos()).isEqualTo(-1);
        assertThat(t.encode("hi", false)).containsExactly(71, 72);
        assertThatThrownBy(() -> t.encode("hi", true))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(file.toString()).hasMessageContaining("no BOS");
    }

    /** Patterns that backtrack exponentially (or as n^4) fail in bounded time, naming the file and the pattern. */
    @Test
    void catastrophicRegexesFailInsteadOfHanging(@TempDir Path dir) throws Exception {
        String good = Files.readString(fixture());
        String[][] cases = {{"(((x*)*)*)*y", "x".repeat(5000)}, {".*.*.*.*=.*", "ab".repeat(3000)}};
        for (String[] c : cases) {
            ObjectNode split = (ObjectNode) JSON.readTree(good);
            ObjectNode pre = split.putObject("pre_tokenizer").put("type", "Split").put("behavior", "Isolated")
                    .put("invert", false);
            pre.putObject("pattern").put("Regex", c[0]);
            Path file = write(dir, "split.json", split);
            HuggingFaceTokenizer t = HuggingFaceTokenizer.load(file);
            long start = System.nanoTime();
            assertThatThrownBy(() -> t.encode(c[1], false)).as(c[0])
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(file.toString())
                    .hasMessageContaining("pre_tokenizer.pattern")
                    .hasMessageContaining("/" + c[0] + "/")
                    .hasMessageContaining("backtracks catastrophically");
            assertThat((System.nanoTime() - start) / 1e9).as("seconds for %s", c[0]).isLessThan(30); // a hang is unbounded; the work limit stops it within seconds on a loaded 2-core machine
            assertThat(t.encode("xyz", false)).isNotEmpty(); // short pieces are still matched as before

            ObjectNode replace = (ObjectNode) JSON.readTree(good);
            ObjectNode norm = replace.putObject("normalizer").put("type", "Replace").put("content", "-");
            norm.putObject("pattern").put("Regex", c[0]);
            Path nf = write(dir, "replace.json", replace);
            assertThatThrownBy(() -> HuggingFaceTokenizer.load(nf).encode(c[1], false)).as(c[0])
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(nf.toString())
                    .hasMessageContaining("normalizer.pattern")
                    .hasMessageContaining("backtracks catastrophically");
        }
    }

    /** Ids that would overflow, go negative, repeat or leave the id tables huge are refused, naming the file. */
    @Test
    void badIdsAreRefusedNamingTheFile(@TempDir Path dir) throws Exception {
        String good = Files.readString(fixture());
        ObjectNode maxInt = (ObjectNode) JSON.readTree(good);
        ((ObjectNode) maxInt.get("model").get("vocab")).put("zz", Integer.MAX_VALUE);
        Path mi = write(dir, "maxint.json", maxInt);
        assertThatThrownBy(() -> HuggingFaceTokenizer.load(mi)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(mi.toString()).hasMessageContaining("ids up to 2147483647")
                .hasMessageContaining("too sparse");

        ObjectNode addedMax = (ObjectNode) JSON.readTree(good);
        ((ObjectNode) addedMax.get("added_tokens").get(0)).put("id", Integer.MAX_VALUE);
        Path am = write(dir, "addedmax.json", addedMax);
        assertThatThrownBy(() -> HuggingFaceTokenizer.load(am)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(am.toString()).hasMessageContaining("ids up to 2147483647");

        ObjectNode negative = (ObjectNode) JSON.readTree(good);
        ((ObjectNode) negative.get("model").get("vocab")).put("zz", -1);
        Path neg = write(dir, "negative.json", negative);
        assertThatThrownBy(() -> HuggingFaceTokenizer.load(neg)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(neg.toString()).hasMessageContaining("'zz' the id -1");

        ObjectNode addedNegative = (ObjectNode) JSON.readTree(good);
        ((ObjectNode) addedNegative.get("added_tokens").get(0)).put("id", -5);
        Path an = write(dir, "addedneg.json", addedNegative);
        assertThatThrownBy(() -> HuggingFaceTokenizer.load(an)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(an.toString()).hasMessageContaining("added_tokens[0].id");

        ObjectNode duplicate = (ObjectNode) JSON.readTree(good);
        ((ObjectNode) duplicate.get("model").get("vocab")).put("zz", 3);
        Path dup = write(dir, "duplicate.json", duplicate);
        assertThatThrownBy(() -> HuggingFaceTokenizer.load(dup)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(dup.toString()).hasMessageContaining("gives id 3 to both");

        ObjectNode twoAdded = (ObjectNode) JSON.readTree(good);
        ArrayNode added = (ArrayNode) twoAdded.get("added_tokens");
        ((ObjectNode) added.addObject().setAll((ObjectNode) added.get(0).deepCopy())).put("content", "<|other|>");
        Path ta = write(dir, "twoadded.json", twoAdded);
        assertThatThrownBy(() -> HuggingFaceTokenizer.load(ta)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(ta.toString()).hasMessageContaining("which another added token gives to");

        // a key twice in the vocabulary: the last would win silently and leave the first id a hole
        Path twice = dir.resolve("twice.json");
        Files.writeString(twice, good.replace("\"vocab\": {",
                "\"vocab\": {\"dupkey\": 1, \"dupkey\": 2, "));
        assertThatThrownBy(() -> HuggingFaceTokenizer.load(twice)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(twice.toString()).hasMessageContaining("Duplicate field");
    }

    private static Path write(Path dir, String name, Object json) throws Exception {
        Path file = dir.resolve(name);
        JSON.writeValue(file.toFile(), json);
        return file;
    }
}
