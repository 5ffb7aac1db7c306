package io.quantgate.runtime.tokenizer;

/**
 * Byte-fallback pieces: SentencePiece (and Hugging Face's {@code byte_fallback}) spell the raw byte
 * {@code 0xNN} as the piece {@code <0xNN>}, with two upper-case hex digits.
 */
final class BytePiece {
    private BytePiece() {
    }

    /** The piece for byte {@code b} (0..255), e.g. {@code <0x0A>}. */
    static String of(int b) {
        return String.format("<0x%02X>", b & 0xFF);
    }

    /** The byte of a piece spelled exactly {@code <0xNN>} (hex digits, either case), else -1. */
    static int value(CharSequence p) {
        if (p.length() != 6 || p.charAt(0) != '<' || p.charAt(1) != '0' || p.charAt(2) != 'x' || p.charAt(5) != '>') {
            return -1;
        }
        int hi = Character.digit(p.charAt(3), 16);
        int lo = Character.digit(p.charAt(4), 16);
        return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
    }
}
