package io.quantgate.runtime.tokenizer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The tokenizer of llama2.c ({@code tokenizer.bin}, {@code tok512.bin}): a SentencePiece BPE vocabulary
 * exported as {@code int32 max_token_length} followed by one {@code {float32 score, int32 len, len bytes}}
 * record per id, all little-endian.
 *
 * <p>Encoding follows {@code run.c}: BOS, a dummy-prefix {@code " "} for non-empty text, one token per
 * UTF-8 code point that is a piece (else one {@code byte+3} token per byte), then repeatedly merge the
 * adjacent pair whose concatenation is the piece with the highest score (leftmost pair on ties). run.c
 * rescans all pairs per merge, O(n²); here {@link BpeMerger} gives the same merges in O(n log n), so a
 * whole WikiText file encodes in one call.
 *
 * <p>Pieces are keyed by their bytes (as ISO-8859-1 strings, a bijection), because pieces need not be
 * valid UTF-8 on their own.
 */
public final class Llama2cTokenizer implements Tokenizer {
    public static final int UNK = 0;
    public static final int BOS = 1;
    public static final int EOS = 2;
    /** Ids 3..258 are the byte-fallback pieces {@code <0x00>..<0xFF>}. */
    public static final int BYTE_OFFSET = 3;

    private final Path source;
    private final int maxTokenLength;
    private final byte[][] pieces;
    private final float[] scores;
    /** For each id: the raw byte of a {@code <0xNN>} piece, or -1. */
    private final int[] byteValue;
    private final Map<String, Integer> ids;
    private final MergeTable merges;

    private Llama2cTokenizer(Path source, int maxTokenLength, byte[][] pieces, float[] scores) {
        this.source = source;
        this.maxTokenLength = maxTokenLength;
        this.pieces = pieces;
        this.scores = scores;
        this.byteValue = new int[pieces.length];
        this.ids = HashMap.newHashMap(pieces.length);
        for (int i = 0; i < pieces.length; i++) {
            ids.putIfAbsent(key(pieces[i]), i);
            byteValue[i] = BytePiece.value(key(pieces[i]));
        }
        this.merges = mergeTable();
    }

    /**
     * run.c merges two adjacent tokens whenever the concatenation of their bytes is a piece, scored by that
     * piece. So every way of cutting a piece's bytes into two pieces is a merge rule, ranked by the piece's
     * score.
     */
    private MergeTable mergeTable() {
        int[] rank = MergeTable.ranksByScore(scores);
        MergeTable table = new MergeTable(pieces.length * 4);
        for (int m = 0; m < pieces.length; m++) {
            byte[] p = pieces[m];
            if (ids.get(key(p)) != m) {
                continue; // a duplicate piece: lookups (and run.c's) find the first id
            }
            for (int cut = 1; cut < p.length; cut++) {
                Integer left = ids.get(new String(p, 0, cut, StandardCharsets.ISO_8859_1));
                Integer right = left == null ? null : ids.get(new String(p, cut, p.length - cut, StandardCharsets.ISO_8859_1));
                if (right != null) {
                    table.put(left, right, rank[m], m);
                }
            }
        }
        return table;
    }

    /** Reads every record up to the end of the file. */
    public static Llama2cTokenizer load(Path file) {
        return load(file, -1);
    }

    /**
     * @param expectedVocabSize the model's vocabulary size, or -1 to read records until the end of the file
     * @throws IllegalArgumentException naming the file when it is truncated, has trailing bytes, or has an
     *                                  impossible header or record
     */
    public static Llama2cTokenizer load(Path file, int expectedVocabSize) {
        Objects.requireNonNull(file, "file");
        byte[] all;
        try {
            all = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read tokenizer file " + file + ": " + e.getMessage(), e);
        }
        ByteBuffer buf = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        if (buf.remaining() < 4) {
            throw new IllegalArgumentException("tokenizer file " + file + " is truncated: " + all.length
                    + " bytes, need at least 4 for max_token_length");
        }
        int maxLen = buf.getInt();
        if (maxLen <= 0 || maxLen > 1 << 16) {
            throw new IllegalArgumentException("tokenizer file " + file + " is corrupt: max_token_length "
                    + maxLen + " is not in 1..65536");
        }
        java.util.List<byte[]> pieceList = new java.util.ArrayList<>();
        java.util.List<Float> scoreList = new java.util.ArrayList<>();
        while (expectedVocabSize < 0 ? buf.hasRemaining() : pieceList.size() < expectedVocabSize) {
            int id = pieceList.size();
            if (buf.remaining() < 8) {
                throw new IllegalArgumentException("tokenizer file " + file + " is truncated in record " + id
                        + " at byte " + buf.position() + " (" + all.length + " bytes in all, record header needs 8)");
            }
            float score = buf.getFloat();
            int len = buf.getInt();
            if (Float.isNaN(score) || len < 0 || len > maxLen) {
                throw new IllegalArgumentException("tokenizer file " + file + " is corrupt: record " + id
                        + " has score " + score + " and length " + len + " (max_token_length " + maxLen + ")");
            }
            if (buf.remaining() < len) {
                throw new IllegalArgumentException("tokenizer file " + file + " is truncated in record " + id
                        + ": piece of " + len + " bytes, only " + buf.remaining() + " left (" + all.length
                        + " bytes in all)");
            }
            byte[] piece = new byte[len];
            buf.get(piece);
            pieceList.add(piece);
            scoreList.add(score);
        }
        if (buf.hasRemaining()) {
            throw new IllegalArgumentException("tokenizer file " + file + " has " + buf.remaining()
                    + " trailing bytes after " + expectedVocabSize + " records");
        }
        if (pieceList.size() < BYTE_OFFSET + 256) {
            throw new IllegalArgumentException("tokenizer file " + file + " holds " + pieceList.size()
                    + " pieces; a llama2.c vocabulary has at least 259 (<unk>, BOS, EOS and 256 byte pieces)");
        }
        float[] scores = new float[scoreList.size()];
        for (int i = 0; i < scores.length; i++) {
            scores[i] = scoreList.get(i);
        }
        return new Llama2cTokenizer(file, maxLen, pieceList.toArray(new byte[0][]), scores);
    }

    public Path source() {
        return source;
    }

    public int maxTokenLength() {
        return maxTokenLength;
    }

    /** The raw bytes of piece {@code id}, as stored (no decode rules applied). */
    public byte[] piece(int id) {
        return pieces[id].clone();
    }

    public float score(int id) {
        return scores[id];
    }

    /** The id of a piece given as text (UTF-8), or -1. */
    public int lookup(String piece) {
        return ids.getOrDefault(key(piece.getBytes(StandardCharsets.UTF_8)), -1);
    }

    @Override
    public int vocabSize() {
        return pieces.length;
    }

    @Override
    public int bos() {
        return BOS;
    }

    @Override
    public int eos() {
        return EOS;
    }

    // ---------------------------------------------------------------- encode

    @Override
    public int[] encode(String text, boolean bos) {
        Objects.requireNonNull(text, "text");
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        int[] tok = new int[utf8.length + 2];
        int n = 0;
        if (bos) {
            tok[n++] = BOS;
        }
        if (utf8.length > 0) {
            int space = ids.getOrDefault(" ", -1);
            tok[n++] = space >= 0 ? space : ' ' + BYTE_OFFSET;
        }
        for (int i = 0; i < utf8.length; ) {
            int len = codePointLength(utf8, i);
            Integer id = ids.get(new String(utf8, i, len, StandardCharsets.ISO_8859_1));
            if (id != null) {
                tok[n++] = id;
            } else {
                for (int j = 0; j < len; j++) {
                    tok[n++] = (utf8[i + j] & 0xFF) + BYTE_OFFSET;
                }
            }
            i += len;
        }
        // like run.c, merge over the whole list, BOS included (BOS + a piece is never a piece in practice)
        int count = new BpeMerger(merges, null, null, null).merge(tok, 0, n);
        return Arrays.copyOf(tok, count);
    }

    /**
     * run.c's {@code str_buffer} loop: a code point is a lead byte plus the continuation bytes
     * ({@code 10xxxxxx}) that follow it, at most 4 bytes in all.
     */
    private static int codePointLength(byte[] s, int i) {
        int len = 1;
        while (i + len < s.length && (s[i + len] & 0xC0) == 0x80 && len < 4) {
            len++;
        }
        return len;
    }

    // ---------------------------------------------------------------- decode

    @Override
    public byte[] decodeBytes(int prevToken, int token) {
        if (token < 0 || token >= pieces.length) {
            throw new IllegalArgumentException("token " + token + " is outside the vocabulary 0.." + (pieces.length - 1)
                    + " of " + source);
        }
        if (byteValue[token] >= 0) {
            return new byte[] {(byte) byteValue[token]};
        }
        byte[] piece = pieces[token];
        if (prevToken == BOS && piece.length > 0 && piece[0] == ' ') {
            return Arrays.copyOfRange(piece, 1, piece.length);
        }
        return piece.clone();
    }

    @Override
    public String decode(int[] tokens) {
        // BOS and EOS have the pieces "\n<s>\n" / "\n</s>\n" in llama2.c's export: skip them
        return TokenDecoding.decode(this, tokens, t -> t != BOS && t != EOS);
    }

    private static String key(byte[] bytes) {
        return new String(bytes, StandardCharsets.ISO_8859_1);
    }

    @Override
    public String toString() {
        return "Llama2cTokenizer[" + source + ", " + pieces.length + " pieces]";
    }
}
