package io.quantgate.runtime.tokenizer;

/**
 * Text ↔ token ids for a model. Ids are {@code 0 .. vocabSize()-1}.
 *
 * <p>Decoding works on bytes: a byte-fallback piece ({@code <0xNN>}) is one raw byte, and a multi-byte
 * UTF-8 character may be spread over several tokens. {@link #decode(int[])} joins the bytes before
 * turning them into a String, so it round-trips any text; {@link #decode(int, int)} decodes one piece
 * on its own (a lone partial UTF-8 byte then shows as U+FFFD), for streaming output.
 */
public interface Tokenizer {

    /** The ids of {@code text}, starting with {@link #bos()} when {@code bos} is true. */
    int[] encode(String text, boolean bos);

    /**
     * One piece as llama2.c's {@code decode(t, prev_token, token)} gives it: the leading space of the
     * piece right after BOS is dropped, {@code <0xNN>} becomes that byte.
     */
    default String decode(int prevToken, int token) {
        return new String(decodeBytes(prevToken, token), java.nio.charset.StandardCharsets.UTF_8);
    }

    /** The bytes of one piece, with the same rules as {@link #decode(int, int)}. */
    byte[] decodeBytes(int prevToken, int token);

    /**
     * The text of a whole token sequence. BOS and EOS are control tokens and produce no text; the start
     * of the sequence counts as following BOS, so the dummy-prefix space that {@link #encode} adds is
     * dropped whether or not the sequence starts with BOS.
     */
    String decode(int[] tokens);

    int vocabSize();

    int bos();

    int eos();
}
