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
     *                                  when the tokenizer's size does not match the model's ({@link #requireMatch})
     */
    public static Tokenizer tokenizer(ModelWeights weights, String tokenizer) {
        Tokenizer t;
        if (tokenizer != null && !tokenizer.isBlank()) {
            t = Tokenizers.load(Path.of(tokenizer));
        } else {
            t = findTokenizer(weights).orElseThrow(() -> new IllegalArgumentException(noTokenizer(weights)
                    + ": pass --tokenizer"));
        }
        requireMatch(weights, t);
        return t;
    }

    /**
     * The most embedding rows a model may have beyond its tokenizer's ids, as a fraction of its vocabulary:
     * models pad their embeddings (Qwen2.5: 151,665 ids, 152,064 rows; Phi-3: 32,011 and 32,064), but a
     * tokenizer that falls further short is another model's or truncated.
     */
    public static final int MAX_PADDING_DIVISOR = 16;

    /**
     * The tokenizer belongs to the model: it has no id without an embedding, and no fewer ids than the model has
     * rows, but for padding. A llama2.c tokenizer is {@code vocab_size} records of the checkpoint, so its size must
     * equal the model's; other kinds may fall short by at most 1/{@value #MAX_PADDING_DIVISOR} of the model's
     * vocabulary (padding rows). Synthetic weights have no vocabulary of their own and take any tokenizer that fits.
     *
     * @throws IllegalArgumentException naming both and both sizes when they do not match
     */
    public static void requireMatch(ModelWeights weights, Tokenizer t) {
        int model = weights.config().vocabSize();
        int tok = t.vocabSize();
        String both = "tokenizer " + t + " has " + tok + " ids but the model " + weights.source() + " has " + model
                + " embeddings";
        if (tok > model) {
            throw new IllegalArgumentException(both + ": ids without an embedding (is it another model's tokenizer?)");
        }
        if (weights.fileFormat().equals("synthetic")) {
            return;
        }
        if (t instanceof Llama2cTokenizer && tok != model) {
            throw new IllegalArgumentException(both + ": a llama2.c tokenizer has exactly vocab_size records, so it is "
                    + "truncated or another model's");
        }
        if (model - tok > model / MAX_PADDING_DIVISOR) {
            throw new IllegalArgumentException(both + ": more than 1/" + MAX_PADDING_DIVISOR + " of the model's "
                    + "vocabulary would have no token, more than padding explains (a truncated tokenizer, or another "
                    + "model's)");
        }
    }

    /** Why {@link #findTokenizer} found none: the model and where it looked. */
    public static String noTokenizer(ModelWeights weights) {
        return "no tokenizer for " + weights.source() + " (looked for the GGUF vocabulary, tokenizer.json and "
                + "tokenizer.model in a Hugging Face directory, tokenizer.bin and tok" + weights.config().vocabSize()
                + ".bin beside a llama2.c checkpoint)";
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
