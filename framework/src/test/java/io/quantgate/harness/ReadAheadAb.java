package io.quantgate.harness;

import io.quantgate.backend.BackendModel;
import io.quantgate.backend.BackendOptions;
import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.kernels.nativeimpl.NativeKernels;
import io.quantgate.runtime.ModelFiles;
import io.quantgate.runtime.model.ModelWeights;
import java.util.Arrays;
import java.util.Locale;

/**
 * Paired A/B of the native library's read-ahead between decode GEMVs ({@link NativeKernels#setReadAhead}, docs/kernels.md
 * "Reading ahead between GEMVs") in the model: one process, one loaded model, rounds that decode 64 tokens after a
 * 16-token prompt with the read-ahead off and then on (the order flipped every round), each timed; prints each side's
 * median tokens/s and the median and quartiles of the per-round time ratios on/off. A separate process per side would
 * compare two memory phases of this VM as often as two settings.
 *
 * <pre>./quantgate bench read-ahead [MODEL [CONFIG [ROUNDS [KIB]]]]   (default synthetic:llama-1b int4s-g32 24 768)</pre>
 */
public final class ReadAheadAb {
    private ReadAheadAb() {}

    public static void main(String[] args) throws InterruptedException {
        String model = args.length > 0 ? args[0] : "synthetic:llama-1b";
        String config = args.length > 1 ? args[1] : "int4s-g32";
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 24;
        long on = (args.length > 3 ? Long.parseLong(args[3]) : 768) * 1024;
        if (rounds < 1 || on <= 0) {
            throw new IllegalArgumentException("ROUNDS must be >= 1 and KIB > 0, got " + rounds + " and " + on / 1024);
        }
        int prompt = 16, tokens = 64;
        try (ModelWeights weights = ModelFiles.open(model);
             ModelPool pool = new ModelPool(weights, BackendOptions.defaults(), prompt + tokens, 0)) {
            BackendModel m = pool.open(Subject.model("native", QuantizationConfig.parse(config), ActivationMode.INT8),
                    prompt + tokens);
            int vocab = weights.config().vocabSize();
            int[] promptTokens = new int[prompt], decodeTokens = new int[tokens];
            for (int i = 0; i < prompt; i++) {
                promptTokens[i] = (7 + 31 * i) % vocab;
            }
            for (int i = 0; i < tokens; i++) {
                decodeTokens[i] = (11 + 17 * i) % vocab;
            }
            double[][] seconds = new double[2][rounds];
            double[] ratio = new double[rounds];
            for (int r = -2; r < rounds; r++) { // two warm-up rounds
                double[] s = new double[2];
                for (int j = 0; j < 2; j++) {
                    int side = (r & 1) == 0 ? j : 1 - j;
                    NativeKernels.setReadAhead(side == 1 ? on : 0);
                    m.reset();
                    m.prefill(promptTokens);
                    long t0 = System.nanoTime();
                    m.decode(decodeTokens);
                    s[side] = (System.nanoTime() - t0) / 1e9 / tokens;
                    Thread.sleep(20);
                }
                if (r >= 0) {
                    seconds[0][r] = s[0];
                    seconds[1][r] = s[1];
                    ratio[r] = s[1] / s[0];
                }
            }
            NativeKernels.setReadAhead(768 << 10);
            Arrays.sort(ratio);
            Arrays.sort(seconds[0]);
            Arrays.sort(seconds[1]);
            System.out.printf(Locale.ROOT, "%s %s, tg%d after %d, %d rounds: read-ahead off %.1f tok/s, on (%d KiB) %.1f "
                            + "tok/s; on/off time per token median %.3f, quartiles [%.3f, %.3f], range [%.3f, %.3f]%n",
                    model, config, tokens, prompt, rounds, 1 / seconds[0][rounds / 2], on / 1024,
                    1 / seconds[1][rounds / 2], ratio[rounds / 2], ratio[rounds / 4], ratio[(3 * rounds) / 4], ratio[0],
                    ratio[rounds - 1]);
        }
    }
}
