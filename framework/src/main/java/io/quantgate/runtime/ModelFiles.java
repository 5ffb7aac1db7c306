package io.quantgate.runtime;

import io.quantgate.runtime.model.Llama2cCheckpoint;
import io.quantgate.runtime.model.ModelWeights;
import io.quantgate.runtime.model.SyntheticWeights;
import io.quantgate.runtime.gguf.GgufFile;
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
     * The tokenizer named by {@code tokenizer}, or else the one that belongs to the model: for a llama2.c
     * checkpoint {@code tokenizer.bin} or {@code tok<vocab>.bin} beside it.
     *
     * @throws IllegalArgumentException when none is named and none can be found, saying where it looked
     */
    public static Tokenizer tokenizer(ModelWeights weights, String tokenizer) {
        if (tokenizer != null && !tokenizer.isBlank()) {
            return Llama2cTokenizer.load(Path.of(tokenizer), weights.config().vocabSize());
        }
        return findTokenizer(weights).orElseThrow(() -> new IllegalArgumentException("no tokenizer for "
                + weights.source() + ": pass --tokenizer (looked for tokenizer.bin and tok"
                + weights.config().vocabSize() + ".bin beside the model)"));
    }

    static Optional<Tokenizer> findTokenizer(ModelWeights weights) {
        Path dir = weights.source().toAbsolutePath().getParent();
        if (dir == null || weights.fileFormat().equals("synthetic")) {
            return Optional.empty();
        }
        for (String n : new String[] {"tokenizer.bin", "tok" + weights.config().vocabSize() + ".bin"}) {
            Path f = dir.resolve(n);
            if (Files.isRegularFile(f)) {
                return Optional.of(Llama2cTokenizer.load(f, weights.config().vocabSize()));
            }
        }
        return Optional.empty();
    }
}
