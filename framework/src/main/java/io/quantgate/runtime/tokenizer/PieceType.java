package io.quantgate.runtime.tokenizer;

/**
 * SentencePiece's {@code ModelProto.SentencePiece.Type}; GGUF's {@code tokenizer.ggml.token_type} uses the
 * same numbers.
 */
public enum PieceType {
    /** An ordinary piece: a merge result and a merge operand. */
    NORMAL(1),
    /** {@code <unk>}: what an unknown character becomes without byte fallback. */
    UNKNOWN(2),
    /** {@code <s>}, {@code </s>} ...: never produced from text, decode to nothing. */
    CONTROL(3),
    /** Matched verbatim in the text and never merged with neighbours. */
    USER_DEFINED(4),
    /** May be formed by a merge, but is then split back into the pieces it was merged from. */
    UNUSED(5),
    /** {@code <0xNN>}: one raw byte, for characters that are not in the vocabulary. */
    BYTE(6);

    private final int code;

    PieceType(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The type with this protobuf / GGUF number, or null. */
    public static PieceType ofCode(long code) {
        for (PieceType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        return null;
    }
}
