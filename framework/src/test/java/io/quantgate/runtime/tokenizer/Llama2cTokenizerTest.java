package io.quantgate.runtime.tokenizer;

import io.quantgate.runtime.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class Llama2cTokenizerTest {

    @Test
    void tok512HasTheDocumentedStructure() {
        Llama2cTokenizer tok = Llama2cTokenizer.load(TestData.tok512());
        assertThat(tok.vocabSize()).isEqualTo(512);
        assertThat(tok.maxTokenLength()).isEqualTo(7);
        assertThat(new String(tok.piece(0), StandardCharsets.UTF_8)).isEqualTo("<unk>");
        assertThat(new String(tok.piece(1), StandardCharsets.UTF_8)).isEqualTo("\n<s>\n");
        assertThat(new String(tok.piece(2), StandardCharsets.UTF_8)).isEqualTo("\n</s>\n");
        assertThat(tok.bos()).isEqualTo(1);
        assertThat(tok.eos()).isEqualTo(2);
        for (int b = 0; b < 256; b++) {
            assertThat(new String(tok.piece(b + 3), StandardCharsets.UTF_8))
                    .isEqualTo(String.format("<0x%02X>", b));
            assertThat(tok.decodeBytes(5, b + 3)).containsExactly((byte) b);
        }
    }

    @Test
    void emptyTextIsJustBos() {
        Llama2cTokenizer tok = Llama2cTokenizer.load(TestData.tok512());
        assertThat(tok.encode("", true)).containsExactly(1);
        assertThat(tok.encode("", false)).isEmpty();
    }

    @Test
    void roundTripsIncludingByteFallback() {
        Llama2cTokenizer tok = Llama2cTokenizer.load(TestData.tok512());
        String[] texts = {
                "Once upon a time, there was a little girl named Lily.",
                "Hello world",
                " leading space and  double  spaces\nand a newline\t tab",
                "héllo wörld — naïve café",
                "日本語のテキスト",
                "emoji 🙂👍🏽 mixed",
                "x",
        };
        for (String s : texts) {
            int[] ids = tok.encode(s, true);
            assertThat(ids[0]).isEqualTo(1);
            assertThat(Arrays.stream(ids).allMatch(i -> i >= 0 && i < 512)).isTrue();
            assertThat(tok.decode(ids)).as("round trip of %s (ids %s)", s, Arrays.toString(ids)).isEqualTo(s);
            assertThat(tok.decode(tok.encode(s, false))).isEqualTo(s);
        }
        // non-ASCII characters that are not pieces fall back to their UTF-8 bytes (+3)
        int[] cjk = tok.encode("日", false);
        byte[] utf8 = "日".getBytes(StandardCharsets.UTF_8);
        assertThat(cjk).hasSize(1 + utf8.length);
        for (int i = 0; i < utf8.length; i++) {
            assertThat(cjk[1 + i]).isEqualTo((utf8[i] & 0xFF) + 3);
        }
    }

    @Test
    void heapMergesEqualRunCsQuadraticScan() throws Exception {
        Llama2cTokenizer tok = Llama2cTokenizer.load(TestData.tok512());
        String wiki = Files.readString(TestData.wikiTestRaw());
        String[] texts = {"Once upon a time", "aaaaaaaaaaaaaaaa", "the the the  the", "héllo wörld",
                wiki.substring(0, 1500), wiki.substring(500_000, 501_200)};
        for (String s : texts) {
            assertThat(tok.encode(s, true)).as(s.substring(0, Math.min(40, s.length())))
                    .containsExactly(runCEncode(tok, s));
        }
        assertThat(new String(tok.piece(tok.encode("Once", false)[0]), StandardCharsets.UTF_8)).startsWith(" ");
    }

    /** A literal transcription of llama2.c run.c encode(): rescan all pairs per merge, strict '>' wins. */
    private static int[] runCEncode(Llama2cTokenizer tok, String text) {
        java.util.List<Integer> t = new java.util.ArrayList<>();
        t.add(1);
        if (!text.isEmpty()) {
            t.add(tok.lookup(" "));
        }
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < b.length; ) {
            int len = 1;
            while (i + len < b.length && (b[i + len] & 0xC0) == 0x80 && len < 4) {
                len++;
            }
            int id = tok.lookup(new String(b, i, len, StandardCharsets.UTF_8));
            boolean exact = id >= 0 && Arrays.equals(tok.piece(id), Arrays.copyOfRange(b, i, i + len));
            if (exact) {
                t.add(id);
            } else {
                for (int j = 0; j < len; j++) {
                    t.add((b[i + j] & 0xFF) + 3);
                }
            }
            i += len;
        }
        while (true) {
            float bestScore = -1e10f;
            int bestId = -1;
            int bestIdx = -1;
            for (int i = 0; i < t.size() - 1; i++) {
                byte[] x = tok.piece(t.get(i));
                byte[] y = tok.piece(t.get(i + 1));
                byte[] xy = Arrays.copyOf(x, x.length + y.length);
                System.arraycopy(y, 0, xy, x.length, y.length);
                int id = lookupBytes(tok, xy);
                if (id != -1 && tok.score(id) > bestScore) {
                    bestScore = tok.score(id);
                    bestId = id;
                    bestIdx = i;
                }
            }
            if (bestIdx == -1) {
                break;
            }
            t.set(bestIdx, bestId);
            t.remove(bestIdx + 1);
        }
        return t.stream().mapToInt(Integer::intValue).toArray();
    }

    private static int lookupBytes(Llama2cTokenizer tok, byte[] piece) {
        java.util.Map<String, Integer> m = VOCAB.computeIfAbsent(tok, k -> {
            java.util.Map<String, Integer> v = new java.util.HashMap<>();
            for (int i = 0; i < k.vocabSize(); i++) {
                v.putIfAbsent(new String(k.piece(i), StandardCharsets.ISO_8859_1), i);
            }
            return v;
        });
        return m.getOrDefault(new String(piece, StandardCharsets.ISO_8859_1), -1);
    }

    private static final java.util.Map<Llama2cTokenizer, java.util.Map<String, Integer>> VOCAB =
            new java.util.IdentityHashMap<>();

    @Test
    void llama2TokenizerEncodesHelloWorld() {
        Llama2cTokenizer tok = Llama2cTokenizer.load(TestData.llama2Tokenizer());
        assertThat(tok.vocabSize()).isEqualTo(32000);
        assertThat(tok.encode("Hello world", true)).containsExactly(1, 15043, 3186);
        assertThat(tok.decode(new int[] {1, 15043, 3186})).isEqualTo("Hello world");
    }

    @Test
    void encodesAllOfWikiTestRawQuicklyAndRoundTrips() throws Exception {
        Llama2cTokenizer tok = Llama2cTokenizer.load(TestData.tok512());
        String text = Files.readString(TestData.wikiTestRaw());
        long t0 = System.nanoTime();
        int[] ids = tok.encode(text, true);
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf("wiki.test.raw: %d chars -> %d tok512 tokens in %.2f s%n", text.length(), ids.length, seconds);
        assertThat(seconds).isLessThan(5.0);
        assertThat(ids.length).isBetween(text.length() / 8, text.length());
        assertThat(tok.decode(ids)).isEqualTo(text);
    }

    @Test
    void truncatedFileIsRejectedNamingIt(@TempDir Path dir) throws Exception {
        byte[] all = Files.readAllBytes(TestData.tok512());
        Path bad = dir.resolve("tok512-truncated.bin");
        Files.write(bad, Arrays.copyOf(all, all.length - 3));
        assertThatThrownBy(() -> Llama2cTokenizer.load(bad))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(bad.toString())
                .hasMessageContaining("truncated");
        Path tiny = dir.resolve("tiny.bin");
        Files.write(tiny, new byte[] {7, 0});
        assertThatThrownBy(() -> Llama2cTokenizer.load(tiny))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(tiny.toString());
        assertThatThrownBy(() -> Llama2cTokenizer.load(TestData.tok512(), 513))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("tok512.bin");
    }
}
