package io.quantgate.runtime.gguf;

import io.quantgate.runtime.tokenizer.Llama2cTokenizer;
import io.quantgate.runtime.tokenizer.PieceType;
import io.quantgate.runtime.tokenizer.SentencePieceTokenizer;
import io.quantgate.runtime.tokenizer.Tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A SentencePiece-style vocabulary in and out of GGUF metadata ({@code tokenizer.ggml.model = "llama"}),
 * so that a GGUF file written by QuantGate carries its tokenizer (llama.cpp refuses a file without one)
 * and a GGUF file read by QuantGate needs no separate tokenizer file.
 */
public final class GgufVocabulary {
    private GgufVocabulary() {
    }

    /**
     * The {@code tokenizer.ggml.*} metadata of {@code tokenizer}: SentencePiece models as they are; llama2.c
     * vocabularies with spaces written as ▁, {@code <0xNN>} pieces typed BYTE, unk/bos/eos typed as llama.cpp
     * expects ({@code <unk>}, {@code <s>}, {@code </s>}).
     *
     * @throws IllegalArgumentException for a tokenizer GGUF's "llama" model cannot express
     */
    public static Map<String, Object> metadata(Tokenizer tokenizer) {
        List<String> pieces = new ArrayList<>();
        float[] scores = new float[tokenizer.vocabSize()];
        int[] types = new int[tokenizer.vocabSize()];
        int unk;
        boolean dummyPrefix = true;
        if (tokenizer instanceof SentencePieceTokenizer sp) {
            for (int i = 0; i < sp.vocabSize(); i++) {
                pieces.add(sp.piece(i));
                scores[i] = sp.score(i);
                types[i] = sp.type(i).code();
            }
            unk = sp.unk();
            dummyPrefix = sp.addsDummyPrefix();
        } else if (tokenizer instanceof Llama2cTokenizer lt) {
            for (int i = 0; i < lt.vocabSize(); i++) {
                String p = new String(lt.piece(i), StandardCharsets.UTF_8);
                PieceType t = PieceType.NORMAL;
                if (i == Llama2cTokenizer.UNK) {
                    p = "<unk>";
                    t = PieceType.UNKNOWN;
                } else if (i == lt.bos()) {
                    p = "<s>";
                    t = PieceType.CONTROL;
                } else if (i == lt.eos()) {
                    p = "</s>";
                    t = PieceType.CONTROL;
                } else if (p.matches("<0x[0-9A-F]{2}>")) {
                    t = PieceType.BYTE;
                } else {
                    p = p.replace(' ', SentencePieceTokenizer.SPACE_SYMBOL);
                }
                pieces.add(p);
                scores[i] = lt.score(i);
                types[i] = t.code();
            }
            unk = Llama2cTokenizer.UNK;
        } else {
            throw new IllegalArgumentException("tokenizer " + tokenizer + " cannot be stored as a GGUF \"llama\" "
                    + "vocabulary (only SentencePiece-style vocabularies can)");
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("tokenizer.ggml.model", "llama");
        m.put("tokenizer.ggml.tokens", pieces);
        m.put("tokenizer.ggml.scores", scores);
        m.put("tokenizer.ggml.token_type", types);
        m.put("tokenizer.ggml.bos_token_id", GgufValue.uint32(tokenizer.bos()));
        m.put("tokenizer.ggml.eos_token_id", GgufValue.uint32(tokenizer.eos()));
        m.put("tokenizer.ggml.unknown_token_id", GgufValue.uint32(unk));
        m.put("tokenizer.ggml.add_bos_token", true);
        m.put("tokenizer.ggml.add_space_prefix", dummyPrefix);
        return m;
    }

    /** The tokenizer a GGUF file carries, when it carries a SentencePiece ("llama") vocabulary. */
    public static Optional<Tokenizer> tokenizer(GgufFile file) {
        GgufMetadata meta = file.typedMetadata();
        if (!meta.has("tokenizer.ggml.model")) {
            return Optional.empty();
        }
        String model = file.tokenizerModel();
        if (!model.equals("llama")) {
            throw new IllegalArgumentException(file.source() + " carries a \"" + model + "\" vocabulary, which QuantGate "
                    + "reads only from the model's tokenizer.json: pass --tokenizer");
        }
        List<String> tokens = file.tokens();
        float[] scores = file.tokenScores().orElseGet(() -> new float[tokens.size()]);
        int[] types = file.tokenTypes().orElseGet(() -> {
            int[] t = new int[tokens.size()];
            java.util.Arrays.fill(t, PieceType.NORMAL.code());
            return t;
        });
        int unk = meta.getInt("tokenizer.ggml.unknown_token_id", -1);
        boolean prefix = meta.getBoolean("tokenizer.ggml.add_space_prefix", true);
        return Optional.of(SentencePieceTokenizer.fromVocabulary("GGUF vocabulary of " + file.source(), tokens, scores,
                types, file.bosTokenId().orElse(-1), file.eosTokenId().orElse(-1), unk, prefix));
    }
}
