package io.quantgate.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.quantgate.cli.QuantGateCli;
import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.results.model.ResultsJson;
import io.quantgate.runtime.ModelFiles;
import io.quantgate.runtime.model.LlamaModel;
import io.quantgate.runtime.model.ModelWeights;
import io.quantgate.runtime.tokenizer.Tokenizer;
import io.quantgate.runtime.tokenizer.Tokenizers;
import picocli.CommandLine;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Coverage-guided fuzz targets (Jazzer) for every reader of outside input. The contract each one checks: whatever the
 * bytes, the reader returns, or throws an {@link IllegalArgumentException} (or an {@link UncheckedIOException}) whose
 * message names the file — never another exception, a crash, a hang or an out-of-memory error. Anything else escapes
 * and is a finding.
 *
 * <p>In a normal build ({@code mvn test}) each target runs its committed seed corpus
 * ({@code src/test/resources/io/quantgate/fuzz/ParserFuzzTestInputs/<target>/}) and any crash file Jazzer saved there.
 * {@code ./quantgate fuzz <target> [runs]} fuzzes one target (docs/reliability.md).
 */
class ParserFuzzTest {
    /** Upper bounds of a fuzzing run; regression mode (the build) ignores them and runs the seeds. */
    static final String DURATION = "10m";
    static final long RUNS = 100_000;

    private static final Path DIR = tempDir();

    private static Path tempDir() {
        try {
            return Files.createTempDirectory("quantgate-fuzz");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path write(String name, byte[] data) {
        try {
            Path dir = Files.createDirectories(DIR.resolve(name.contains("/") ? name.substring(0, name.indexOf('/'))
                    : "."));
            Path f = DIR.resolve(name);
            Files.write(f, data);
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The allowed outcome of bad input: an error naming {@code file}; anything else is rethrown, a finding. */
    private static void expectNamed(RuntimeException e, Path file) {
        boolean allowed = e instanceof IllegalArgumentException || e instanceof UncheckedIOException;
        String m = e.getMessage();
        if (!allowed || m == null || !(m.contains(file.toString()) || m.contains(file.getFileName().toString()))) {
            throw new AssertionError("bad input gave " + e.getClass().getName() + " not naming " + file + ": " + m, e);
        }
    }

    /**
     * A model — a file, or a Hugging Face directory — opened and built as fp32 (the step that once allocated before
     * validating); errors must name {@code model}.
     */
    private static void model(Path model) {
        try (ModelWeights w = ModelFiles.open(model.toString())) {
            try (LlamaModel m = LlamaModel.load(w, "fp32", ActivationMode.FP32)) {
                if (m.config().vocabSize() < 1 || m.config().dim() < 1) {
                    throw new AssertionError("a model with no vocabulary or width was accepted: " + model);
                }
            }
        } catch (RuntimeException e) {
            expectNamed(e, model);
        }
    }

    @FuzzTest(maxDuration = DURATION, maxExecutions = RUNS)
    void gguf(byte[] data) {
        model(write("model.gguf", data));
    }

    @FuzzTest(maxDuration = DURATION, maxExecutions = RUNS)
    void llama2cCheckpoint(byte[] data) {
        model(write("model.bin", data));
    }

    /** The safetensors file of a Hugging Face directory whose config.json is valid (seeded from the corpus). */
    @FuzzTest(maxDuration = DURATION, maxExecutions = RUNS)
    void safetensors(byte[] data) {
        writeConfig();
        Path file = write("hf/model.safetensors", data);
        // a Hugging Face model is its directory: errors about its weights name the directory and the tensor
        model(file.getParent());
    }

    /** The config.json of a Hugging Face directory with a valid safetensors file. */
    @FuzzTest(maxDuration = DURATION, maxExecutions = RUNS)
    void huggingFaceConfig(byte[] data) {
        Path safetensors = DIR.resolve("hf-config/model.safetensors");
        if (!Files.exists(safetensors)) {
            write("hf-config/model.safetensors", FuzzSeeds.resource("hf-model.safetensors"));
        }
        Path config = write("hf-config/config.json", data);
        model(config.getParent());
    }

    private static void writeConfig() {
        if (!Files.exists(DIR.resolve("hf/config.json"))) {
            write("hf/config.json", FuzzSeeds.resource("hf-config.json"));
        }
    }

    private static void tokenizer(Path file) {
        Tokenizer t;
        try {
            t = Tokenizers.load(file);
        } catch (RuntimeException e) {
            expectNamed(e, file);
            return;
        }
        // a tokenizer that loads encodes and decodes any text, or says which file cannot and why
        int[] ids;
        try {
            ids = t.encode("Hello, world!  Ünïcödé 123 \t\n<s> the end", true);
        } catch (RuntimeException e) {
            expectNamed(e, file);
            return;
        }
        for (int id : ids) {
            if (id < 0 || id >= t.vocabSize()) {
                throw new AssertionError("id " + id + " outside the vocabulary of " + t.vocabSize() + ": " + file);
            }
        }
        t.decode(ids);
    }

    @FuzzTest(maxDuration = DURATION, maxExecutions = RUNS)
    void llama2cTokenizer(byte[] data) {
        tokenizer(write("tokenizer.bin", data));
    }

    @FuzzTest(maxDuration = DURATION, maxExecutions = RUNS)
    void sentencePiece(byte[] data) {
        tokenizer(write("tokenizer.model", data));
    }

    @FuzzTest(maxDuration = DURATION, maxExecutions = RUNS)
    void huggingFaceTokenizer(byte[] data) {
        tokenizer(write("tokenizer.json", data));
    }

    @FuzzTest(maxDuration = DURATION, maxExecutions = RUNS)
    void resultsJson(byte[] data) {
        Path f = write("results.json", data);
        try {
            ResultsJson.read(f);
        } catch (RuntimeException e) {
            expectNamed(e, f);
        }
    }

    @FuzzTest(maxDuration = DURATION, maxExecutions = RUNS)
    void configId(byte[] data) {
        String id = new String(data, StandardCharsets.UTF_8);
        try {
            QuantizationConfig c = QuantizationConfig.parse(id);
            // what parses prints back as an id that parses to the same config
            if (!QuantizationConfig.parse(c.label()).equals(c)) {
                throw new AssertionError("'" + id + "' parsed to " + c + " whose label parses differently");
            }
        } catch (IllegalArgumentException e) {
            if (e.getMessage() == null || e.getMessage().isBlank()) {
                throw new AssertionError("a config id error without a message for '" + id + "'", e);
            }
        }
    }

    /** Every command's options: a bad command line is a picocli ParameterException naming the option, nothing else. */
    @FuzzTest(maxDuration = DURATION, maxExecutions = RUNS)
    void cliOptions(byte[] data) {
        String[] args = new String(data, StandardCharsets.UTF_8).split("\u0000", -1);
        try {
            QuantGateCli.commandLine().parseArgs(args);
        } catch (CommandLine.ParameterException e) {
            if (e.getMessage() == null || e.getMessage().isBlank()) {
                throw new AssertionError("a command-line error without a message", e);
            }
        }
    }
}
