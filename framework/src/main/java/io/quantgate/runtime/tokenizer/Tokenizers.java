package io.quantgate.runtime.tokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;

/** Opens whichever tokenizer a path holds. */
public final class Tokenizers {
    /** The file names looked for in a directory, in order of preference. */
    private static final String[] DIRECTORY_FILES = {"tokenizer.json", "tokenizer.model", "tokenizer.bin"};

    private Tokenizers() {
    }

    /**
     * By file name: {@code *.json} → {@link HuggingFaceTokenizer}, {@code *.model} →
     * {@link SentencePieceTokenizer}, {@code *.bin} → {@link Llama2cTokenizer}. Any other name is judged by
     * its first bytes: {@code '{'} after JSON white space is JSON, else a first byte {@code 0x0A} (protobuf field 1, length-delimited: a SentencePiece
     * piece) is a SentencePiece model. A directory → its {@code tokenizer.json}, else {@code tokenizer.model},
     * else {@code tokenizer.bin}.
     *
     * @throws IllegalArgumentException naming the path when it does not exist, holds none of these, or the
     *                                  file is not a valid tokenizer of its kind
     */
    public static Tokenizer load(Path path) {
        Objects.requireNonNull(path, "path");
        if (Files.isDirectory(path)) {
            for (String name : DIRECTORY_FILES) {
                Path candidate = path.resolve(name);
                if (Files.isRegularFile(candidate)) {
                    return loadFile(candidate);
                }
            }
            throw new IllegalArgumentException("directory " + path + " holds no tokenizer: looked for "
                    + String.join(", ", DIRECTORY_FILES));
        }
        if (!Files.isRegularFile(path)) {
            throw new IllegalArgumentException("tokenizer " + path + " does not exist");
        }
        return loadFile(path);
    }

    private static Tokenizer loadFile(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".json")) {
            return HuggingFaceTokenizer.load(file);
        }
        if (name.endsWith(".model")) {
            return SentencePieceTokenizer.load(file);
        }
        if (name.endsWith(".bin")) {
            return Llama2cTokenizer.load(file);
        }
        if (name.endsWith(".gguf")) {
            throw new IllegalArgumentException("tokenizer " + file + " is a GGUF model: its tokenizer is in the model "
                    + "metadata (SentencePieceTokenizer.fromVocabulary), not a file of its own");
        }
        byte[] head = head(file, 64);
        int first = head.length == 0 ? -1 : head[0] & 0xFF;
        if (startsJsonObject(head)) {
            return HuggingFaceTokenizer.load(file);
        }
        if (first == 0x0A) {
            return SentencePieceTokenizer.load(file);
        }
        throw new IllegalArgumentException("cannot tell what tokenizer " + file + " is: expected a name ending in .json "
                + "(Hugging Face), .model (SentencePiece) or .bin (llama2.c), or content starting with '{' or a "
                + "SentencePiece piece; first byte is " + (first < 0 ? "none (empty file)" : String.format("0x%02X", first)));
    }

    /** JSON white space, then '{'. */
    private static boolean startsJsonObject(byte[] head) {
        for (byte b : head) {
            if (b == '{') {
                return true;
            }
            if (b != ' ' && b != '\t' && b != '\n' && b != '\r') {
                return false;
            }
        }
        return false;
    }

    private static byte[] head(Path file, int max) {
        try (InputStream in = Files.newInputStream(file)) {
            return in.readNBytes(max);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read tokenizer " + file + ": " + e.getMessage(), e);
        }
    }
}
