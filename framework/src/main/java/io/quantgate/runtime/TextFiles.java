package io.quantgate.runtime;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Text files the tokenizers read whole (evaluation text, datasets): strict UTF-8 with errors that say where. */
public final class TextFiles {
    private TextFiles() {
    }

    /**
     * The whole file as one string. {@code Files.readString} reports malformed input as
     * {@code MalformedInputException: Input length = 1}, with neither the file nor the place; this names both.
     *
     * @param what what the file is, for messages ({@code "--text file"}, {@code "dataset"})
     * @throws IllegalArgumentException naming the file and the byte offset of the first invalid sequence when the
     *                                  file is not valid UTF-8
     * @throws UncheckedIOException     naming the file when it cannot be read
     */
    public static String readUtf8(Path file, String what) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + what + " " + file + ": " + e.getMessage(), e);
        }
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length); // UTF-8 never has fewer bytes than UTF-16 chars
        CoderResult r = decoder.decode(in, out, true);
        if (!r.isError()) {
            r = decoder.flush(out);
        }
        if (r.isError()) {
            int at = in.position();
            StringBuilder seq = new StringBuilder();
            for (int i = at; i < Math.min(bytes.length, at + r.length()); i++) {
                seq.append(seq.isEmpty() ? "" : " ").append(String.format("0x%02X", bytes[i] & 0xFF));
            }
            throw new IllegalArgumentException(what + " " + file + " is not valid UTF-8: the byte sequence " + seq
                    + " at byte offset " + at + " is invalid (" + bytes.length + " bytes in all); the text must be "
                    + "UTF-8 (convert it first, e.g. iconv -t UTF-8)");
        }
        return out.flip().toString();
    }
}
