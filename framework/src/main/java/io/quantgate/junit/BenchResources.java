package io.quantgate.junit;

import io.quantgate.runtime.FileHashes;
import io.quantgate.backend.BackendOptions;
import io.quantgate.calibration.CalibrationOptions;
import io.quantgate.calibration.CalibrationRunner;
import io.quantgate.backend.EngineFiles;
import io.quantgate.harness.ModelPool;
import io.quantgate.runtime.ModelFiles;
import io.quantgate.runtime.model.ModelWeights;
import io.quantgate.runtime.model.SyntheticWeights;
import io.quantgate.runtime.model.TensorNames;
import io.quantgate.runtime.tokenizer.Tokenizer;
import org.opentest4j.TestAbortedException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What the tests of one {@link QuantBench} share in a run, built lazily and once: the opened model, its tokenizer,
 * the tokenized dataset, the hashes of the inputs, and the {@link ModelPool} of engines opened on it (every backend,
 * {@code native} included). Kept in the root {@code ExtensionContext.Store} (namespace of {@link QuantTestExtension})
 * and closed by JUnit when the run ends (JUnit closes {@link AutoCloseable} store values;
 * {@code junit.jupiter.extensions.store.close.autocloseable.enabled} must stay at its default, true). Thread-safe.
 */
final class BenchResources implements AutoCloseable {
    /** Every variant gets at least this KV-cache length (or the model's own when smaller). */
    private static final int MIN_CONTEXT = 2048;

    private final QuantTestSpec.Bench bench;
    private final Path dataDir;
    private final QuantSettings settings;
    private ModelWeights weights;
    private ModelWeights calibrated;
    private Tokenizer tokenizer;
    private Path tokenizerPath;
    private int[] tokens;
    private Path datasetPath;
    private String modelSha;
    private ModelPool pool;
    private boolean closed;

    BenchResources(QuantTestSpec.Bench bench, Path dataDir, QuantSettings settings) {
        this.bench = bench;
        this.dataDir = dataDir;
        this.settings = settings;
    }

    QuantTestSpec.Bench bench() {
        return bench;
    }

    Path dataDir() {
        return dataDir;
    }

    boolean synthetic() {
        return SyntheticWeights.isSpec(bench.model());
    }

    /** The model name used in baseline file names and reports: the file name or the synthetic spec. */
    String modelName() {
        return synthetic() ? bench.model() : DataFiles.resolve(bench.model(), dataDir).getFileName().toString();
    }

    synchronized ModelWeights weights() {
        check();
        if (weights == null) {
            String m = synthetic() ? bench.model() : DataFiles.resolve(bench.model(), dataDir).toString();
            if (!synthetic() && !Files.isRegularFile(Path.of(m))) {
                throw new TestAbortedException("model file missing: " + m);
            }
            weights = ModelFiles.open(m);
        }
        return weights;
    }

    /**
     * The weights every engine gets: calibrated on {@code @QuantBench(calibration)} when one is named (once per run,
     * with progress on the console), the opened weights otherwise.
     */
    synchronized ModelWeights engineWeights() {
        check();
        if (calibrated == null) {
            if (bench.calibration().isEmpty()) {
                calibrated = weights();
            } else {
                Path file = DataFiles.resolve(bench.calibration(), dataDir);
                if (!Files.isRegularFile(file)) {
                    throw new TestAbortedException("calibration file missing: " + file);
                }
                ConsoleProgress progress = new ConsoleProgress(settings.progress(), modelName());
                calibrated = CalibrationRunner.calibrate(weights(), tokenizer(), file,
                        CalibrationOptions.DEFAULTS.withChunks(bench.calibrationChunks()).withSeed(bench.calibrationSeed()),
                        progress::line);
            }
        }
        return calibrated;
    }

    synchronized String modelSha256() {
        if (modelSha == null) {
            modelSha = synthetic() ? FileHashes.sha256(bench.model())
                    : FileHashes.sha256(DataFiles.resolve(bench.model(), dataDir));
        }
        return modelSha;
    }

    synchronized Tokenizer tokenizer() {
        check();
        if (tokenizer == null) {
            ModelWeights w = weights();
            if (bench.tokenizer().isEmpty()) {
                // only a missing tokenizer aborts; a corrupt or mismatched one is an error like any bad input
                Tokenizer found = ModelFiles.findTokenizer(w).orElseThrow(() -> new TestAbortedException(
                        "tokenizer missing: " + ModelFiles.noTokenizer(w) + "; name one with @QuantBench(tokenizer = ...)"));
                ModelFiles.requireMatch(w, found);
                tokenizer = found;
                tokenizerPath = ModelFiles.findTokenizerFile(w).orElse(null); // the file ModelFiles loaded
            } else {
                tokenizerPath = DataFiles.resolve(bench.tokenizer(), dataDir);
                tokenizer = ModelFiles.tokenizer(w, tokenizerPath.toString());
            }
        }
        return tokenizer;
    }

    /** The tokenizer file, or null when the model has none (synthetic weights without a named tokenizer). */
    synchronized Path tokenizerPathOrNull() {
        try {
            return tokenizerPath();
        } catch (org.opentest4j.TestAbortedException e) {
            return null;
        }
    }

    synchronized Path tokenizerPath() {
        tokenizer();
        return tokenizerPath;
    }

    /** The dataset tokenized whole, BOS first (llama.cpp: one string, one piece). */
    synchronized int[] tokens() {
        check();
        if (tokens == null) {
            datasetPath = DataFiles.dataset(bench.dataset(), dataDir);
            if (!Files.isRegularFile(datasetPath)) {
                throw new TestAbortedException("dataset file missing: " + datasetPath);
            }
            Tokenizer t = tokenizer();
            tokens = TokenCache.get(datasetPath, tokenizerPath == null ? "" : FileHashes.sha256(tokenizerPath),
                    () -> t.encode(io.quantgate.runtime.TextFiles.readUtf8(datasetPath, "dataset"), true));
        }
        return tokens;
    }

    synchronized Path datasetPath() {
        tokens();
        return datasetPath;
    }

    /**
     * The engines this bench opened (every backend, {@code native} included), each subject opened once for the run
     * with at least {@value #MIN_CONTEXT} positions when the model allows, so that tests of different lengths share
     * them; baseline logits are cached within {@code quantgate.baseline.cache.mb}.
     */
    synchronized ModelPool pool() {
        check();
        if (pool == null) {
            BackendOptions o = BackendOptions.defaults();
            Path tok = tokenizerPathOrNull();
            if (tok != null) {
                o = o.with(EngineFiles.TOKENIZER, tok.toString());
            }
            pool = new ModelPool(engineWeights(), o, MIN_CONTEXT, settings.baselineCacheBytes());
        }
        return pool;
    }

    /** Distinct [N, K] shapes of the model's linears (layer 0 and the classifier), in load order. */
    synchronized List<int[]> linearShapes() {
        ModelWeights w = weights();
        List<int[]> out = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (String t : new String[] {TensorNames.Q, TensorNames.K, TensorNames.V, TensorNames.O, TensorNames.GATE,
            TensorNames.UP, TensorNames.DOWN}) {
            names.add(TensorNames.layer(0, t));
        }
        names.add(w.config().sharedClassifier() ? TensorNames.EMBED : TensorNames.LM_HEAD);
        for (String n : names) {
            int[] s = w.shapes().get(n);
            if (s != null && s.length == 2 && out.stream().noneMatch(x -> x[0] == s[0] && x[1] == s[1])) {
                out.add(s.clone());
            }
        }
        return out;
    }

    private void check() {
        if (closed) {
            throw new IllegalStateException("the resources of this test class were already closed");
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        RuntimeException first = null;
        List<AutoCloseable> all = new ArrayList<>();
        if (pool != null) {
            all.add(pool);
        }
        if (weights != null) {
            all.add(weights);
        }
        for (AutoCloseable c : all) {
            try {
                c.close();
            } catch (Exception e) {
                if (first == null) {
                    first = new IllegalStateException("closing QuantGate resources: " + e.getMessage(), e);
                }
            }
        }
        pool = null;
        if (first != null) {
            throw first;
        }
    }
}
