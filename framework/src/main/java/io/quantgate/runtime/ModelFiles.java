package io.quantgate.runtime;

import io.quantgate.runtime.model.Llama2cCheckpoint;
import io.quantgate.runtime.model.ModelWeights;
import io.quantgate.runtime.model.SyntheticWeights;
import io.quantgate.runtime.gguf.GgufFile;
import io.quantgate.runtime.gguf.GgufVocabulary;
import io.quantgate.runtime.model.QuantizedWeights;
import io.quantgate.runtime.tokenizer.Tokenizers;
import io.quantgate.runtime.safetensors.HuggingFaceModel;
import io.quantgate.runtime.tokenizer.Llama2cTokenizer;
import io.quantgate.runtime.tokenizer.Tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Opens a model named on the command line or in an annotation: {@code synthetic:<spec>}, a llama2.c
 * checkpoint ({@code .bin}), a Hugging Face directory (or its config.json / .safetensors), and finds the
 * tokenizer that goes with it when none is named.
 */
public final class ModelFiles {
    private ModelFiles() {
    }

    /**
     * @throws IllegalArgumentException naming the path when it does not exist or is of no known kind
     */
    public static ModelWeights open(String model) {
        if (SyntheticWeights.isSpec(model)) {
            return SyntheticWeights.of(model);
        }
        Path p = Path.of(model);
        if (!Files.exists(p)) {
            throw new IllegalArgumentException("model file " + p.toAbsolutePath() + " does not exist");
        }
        String name = p.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        if (Files.isRegularFile(p) && name.endsWith(".bin")) {
            return Llama2cCheckpoint.open(p);
        }
        if (Files.isRegularFile(p) && name.endsWith(".gguf")) {
            return GgufFile.open(p);
        }
        if (Files.isDirectory(p) || name.equals("config.json") || name.endsWith(".safetensors")
                || name.endsWith(".safetensors.index.json")) {
            return HuggingFaceModel.open(p);
        }
        throw new IllegalArgumentException("model " + p + " is of no known kind: expected a llama2.c checkpoint (.bin), a GGUF file, "
                + "a Hugging Face model directory (config.json + *.safetensors) or synthetic:<spec>");
    }

    /**
     * The tokenizer named by {@code tokenizer} (any file {@link Tokenizers#load} reads), or else the one that
     * belongs to the model: the vocabulary a GGUF file carries, {@code tokenizer.json} / {@code tokenizer.model}
     * in a Hugging Face directory, {@code tokenizer.bin} or {@code tok<vocab>.bin} beside a llama2.c checkpoint.
     *
     * @throws IllegalArgumentException when none is named and none can be found (saying where it looked), or
     *                                  when the tokenizer has more ids than the model has embeddings
     */
    public static Tokenizer tokenizer(ModelWeights weights, String tokenizer) {
        Tokenizer t;
        if (tokenizer != null && !tokenizer.isBlank()) {
            t = Tokenizers.load(Path.of(tokenizer));
        } else {
            t = findTokenizer(weights).orElseThrow(() -> new IllegalArgumentException("no tokenizer for "
                    + weights.source() + ": pass --tokenizer (looked for the GGUF vocabulary, tokenizer.json and "
                    + "tokenizer.model in a Hugging Face directory, tokenizer.bin and tok"
                    + weights.config().vocabSize() + ".bin beside a llama2.c checkpoint)"));
        }
        if (t.vocabSize() > weights.config().vocabSize()) {
            throw new IllegalArgumentException("tokenizer " + t + " has " + t.vocabSize() + " ids but the model "
                    + weights.source() + " has only " + weights.config().vocabSize() + " embeddings");
        }
        return t;
    }

    /** The tokenizer that belongs to the model, if one can be found. */
    public static Optional<Tokenizer> findTokenizer(ModelWeights weights) {
        if (weights instanceof QuantizedWeights q) {
            return findTokenizer(q.unquantized());
        }
        if (weights instanceof GgufFile gguf) {
            return GgufVocabulary.tokenizer(gguf);
        }
        return findTokenizerFile(weights).map(f -> weights.fileFormat().equals("safetensors") ? Tokenizers.load(f)
                : Llama2cTokenizer.load(f, weights.config().vocabSize()));
    }

    /**
     * The tokenizer file {@link #findTokenizer} loads: {@code tokenizer.json} / {@code tokenizer.model} of a
     * Hugging Face directory, {@code tokenizer.bin} / {@code tok<vocab>.bin} beside a llama2.c checkpoint; empty
     * for GGUF (the vocabulary is inside the file) and synthetic weights.
     */
    public static Optional<Path> findTokenizerFile(ModelWeights weights) {
        if (weights instanceof QuantizedWeights q) {
            return findTokenizerFile(q.unquantized());
        }
        if (weights instanceof GgufFile || weights.fileFormat().equals("synthetic")) {
            return Optional.empty();
        }
        Path src = weights.source().toAbsolutePath();
        Path dir = Files.isDirectory(src) ? src : src.getParent();
        if (dir == null) {
            return Optional.empty();
        }
        String[] names = weights.fileFormat().equals("safetensors")
                ? new String[] {"tokenizer.json", "tokenizer.model"}
                : new String[] {"tokenizer.bin", "tok" + weights.config().vocabSize() + ".bin"};
        for (String n : names) {
            if (Files.isRegularFile(dir.resolve(n))) {
                return Optional.of(dir.resolve(n));
            }
        }
        return Optional.empty();
    }
}
