package io.quantgate.calibration;

import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.kernels.format.WeightFormat;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.quantize.Calibration;
import io.quantgate.quantize.CalibrationSites;
import io.quantgate.quantize.Gram;
import io.quantgate.runtime.FileHashes;
import io.quantgate.runtime.TextFiles;
import io.quantgate.runtime.model.CalibratedWeights;
import io.quantgate.runtime.model.LlamaConfig;
import io.quantgate.runtime.model.LlamaModel;
import io.quantgate.runtime.model.ModelWeights;
import io.quantgate.runtime.model.TensorNames;
import io.quantgate.runtime.tokenizer.Tokenizer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Runs the unquantized model (fp32 weights, fp32 activations) over calibration text and keeps, for every linear
 * layer's input, the Gram matrix {@code XᵀX}: GPTQ's Hessian and the importance matrix in one pass. The result wraps
 * the weights as {@link CalibratedWeights}, which every engine then quantizes through.
 */
public final class CalibrationRunner {
    private CalibrationRunner() {
    }

    /**
     * @param progress one line per step ("calibration: chunk 3/128 ..."), or null
     * @throws IllegalArgumentException naming the file when it is too short for one chunk, or when the statistics
     *                                  would not fit in the heap
     */
    public static CalibratedWeights calibrate(ModelWeights weights, Tokenizer tokenizer, Path file,
                                              CalibrationOptions options, Consumer<String> progress) {
        Consumer<String> say = progress == null ? s -> { } : progress;
        long t0 = System.nanoTime();
        String sha = FileHashes.sha256(file);
        int[] tokens = tokenizer.encode(TextFiles.readUtf8(file, "calibration text"), true);
        LlamaConfig c = weights.config();
        int ctx = Math.min(options.ctx(), c.seqLen());
        int available = tokens.length / ctx;
        if (available < 1) {
            throw new IllegalArgumentException("calibration text " + file + " has " + tokens.length + " tokens, fewer "
                    + "than one chunk of " + ctx);
        }
        long need = 0;
        for (int k : new int[] {c.dim(), c.qDim(), c.dim(), c.hiddenDim()}) {
            need += Gram.bytes(k);
        }
        need = need * c.nLayers() + Gram.bytes(c.dim());
        long max = Runtime.getRuntime().maxMemory();
        if (need > max / 3) {
            throw new IllegalArgumentException("calibrating " + weights.source() + " needs " + (need >> 20) + " MiB of "
                    + "Gram matrices (one [K][K] double matrix per linear input), more than a third of the heap ("
                    + (max >> 20) + " MiB): raise -Xmx or calibrate a smaller model");
        }
        int chunks = Math.min(options.chunks(), available);
        int[] order = new int[available];
        for (int i = 0; i < available; i++) {
            order[i] = i;
        }
        SplittableRandom rnd = new SplittableRandom(options.seed());
        for (int i = available - 1; i > 0; i--) {       // Fisher–Yates, then the first `chunks` in file order
            int j = rnd.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        int[] picked = Arrays.copyOf(order, chunks);
        Arrays.sort(picked);
        List<int[]> sample = new ArrayList<>();
        for (int p : picked) {
            int[] chunk = Arrays.copyOfRange(tokens, p * ctx, (p + 1) * ctx);
            chunk[0] = tokenizer.bos();
            sample.add(chunk);
        }
        Map<String, Gram> grams = new LinkedHashMap<>();
        say.accept(String.format(java.util.Locale.ROOT, "calibration: %s, %d tokens, %d of %d chunks of %d (seed %d)",
                file.getFileName(), tokens.length, chunks, available, ctx, options.seed()));
        try (LlamaModel model = new LlamaModel(weights, new QuantizationConfig.Uniform(ConfigId.of(WeightFormat.FP32)),
                ActivationMode.FP32, ctx, ctx)) {
            model.observeLinearInputs((tensor, in, rows, stride, k) ->
                    grams.computeIfAbsent(CalibrationSites.of(tensor), s -> new Gram(k)).add(in, rows, stride));
            for (int i = 0; i < sample.size(); i++) {
                model.reset();
                model.forwardBatch(sample.get(i), 0, 0);
                if ((i + 1) % Math.max(1, chunks / 8) == 0 || i + 1 == chunks) {
                    say.accept(String.format(java.util.Locale.ROOT, "calibration: chunk %d/%d, %.1f s", i + 1, chunks,
                            (System.nanoTime() - t0) / 1e9));
                }
            }
        }
        if (!grams.containsKey(TensorNames.LM_HEAD)) {
            throw new IllegalStateException("calibration saw no classifier inputs");
        }
        Calibration cal = new Calibration(file, sha, (long) chunks * ctx, chunks, ctx, options.seed(), grams, sample);
        return new CalibratedWeights(weights, cal,
                (w, auto) -> MixedAutoResolver.resolve(w, auto, options.sensitivityChunks(), say));
    }
}
