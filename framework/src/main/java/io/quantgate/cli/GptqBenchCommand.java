package io.quantgate.cli;

import io.quantgate.kernels.format.ConfigId;
import io.quantgate.quantize.Gptq;
import io.quantgate.runtime.ModelFiles;
import io.quantgate.runtime.model.LlamaConfig;
import io.quantgate.runtime.model.ModelWeights;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/**
 * {@code quantgate bench gptq}: how long GPTQ takes on a model's linear shapes (q|k|v, o, gate|up, down, classifier),
 * each once, and the total it implies for the whole model (every layer has the same shapes). The Hessian is synthetic
 * (a diagonal plus a rank-32 part, positive definite): its values do not change GPTQ's cost, and building a real one is
 * the calibration pass's cost, reported by {@code perplexity --calibration}. A benchmark that prints its figures, not
 * a test.
 */
@Command(name = "gptq", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Time GPTQ on a model's linear shapes and extrapolate to the whole model.")
final class GptqBenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "PATH|synthetic:SPEC", defaultValue = "synthetic:llama-1b",
            description = "the model whose shapes to time (default ${DEFAULT-VALUE})")
    String model;

    @Option(names = "--config", paramLabel = "ID", defaultValue = "int4-g128",
            description = "the id GPTQ quantizes to (default ${DEFAULT-VALUE})")
    String config;

    @Option(names = "--act-order", description = "quantize columns by decreasing Hessian diagonal (static groups)")
    boolean actOrder;

    @Override
    public Integer call() {
        ConfigId id = ConfigId.parse(config);
        PrintWriter out = spec.commandLine().getOut();
        LlamaConfig c;
        try (ModelWeights w = ModelFiles.open(model)) {
            c = w.config();
        }
        Map<String, int[]> shapes = new LinkedHashMap<>();
        shapes.put("attn.qkv", new int[] {c.qDim() + 2 * c.kvDim(), c.dim()});
        shapes.put("attn.o", new int[] {c.dim(), c.qDim()});
        shapes.put("mlp.gate_up", new int[] {2 * c.hiddenDim(), c.dim()});
        shapes.put("mlp.down", new int[] {c.dim(), c.hiddenDim()});
        shapes.put("lm_head", new int[] {c.vocabSize(), c.dim()});
        out.printf(Locale.ROOT, "GPTQ %s%s on the shapes of %s (%d layers), %d threads (%s)%n", id,
                actOrder ? " with act order" : "", model, c.nLayers(),
                java.util.concurrent.ForkJoinPool.commonPool().getParallelism() + 1, io.quantgate.harness.MachineInfo
                        .machine().cpu());
        out.printf(Locale.ROOT, "%-12s %13s %10s %12s%n", "linear", "N x K", "seconds", "Mweights/s");
        double perLayer = 0;
        double head = 0;
        List<String> lines = new ArrayList<>();
        for (Map.Entry<String, int[]> e : shapes.entrySet()) {
            int n = e.getValue()[0];
            int k = e.getValue()[1];
            float[] w = new float[Math.multiplyExact(n, k)];
            SplittableRandom rnd = new SplittableRandom(n * 31L + k);
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) (rnd.nextGaussian() * 0.02);
            }
            double[] h = hessian(k, rnd);
            long t0 = System.nanoTime();
            try (Arena arena = Arena.ofConfined()) {
                Gptq.quantize(id, n, k, w, h, actOrder, Gptq.DEFAULT_DAMPING, arena, e.getKey());
            }
            double s = (System.nanoTime() - t0) / 1e9;
            if (e.getKey().equals("lm_head")) {
                head = s;
            } else {
                perLayer += s;
            }
            String line = String.format(Locale.ROOT, "%-12s %13s %10.2f %12.1f", e.getKey(), n + " x " + k, s,
                    (double) n * k / s / 1e6);
            out.println(line);
            out.flush();
            lines.add(line);
        }
        out.printf(Locale.ROOT, "whole model: %d layers x %.1f s + classifier %.1f s = %.0f s (%.1f min)%n",
                c.nLayers(), perLayer, head, c.nLayers() * perLayer + head, (c.nLayers() * perLayer + head) / 60);
        out.flush();
        return 0;
    }

    /** {@code D + U·Uᵀ/32} with D in [0.5, 1.5] and U of rank 32: positive definite, correlated columns. */
    private static double[] hessian(int k, SplittableRandom rnd) {
        int r = 32;
        double[] u = new double[k * r];
        for (int i = 0; i < u.length; i++) {
            u[i] = rnd.nextGaussian();
        }
        double[] h = new double[k * k];
        java.util.stream.IntStream.range(0, k).parallel().forEach(a -> {
            for (int b = 0; b < k; b++) {
                double s = 0;
                for (int j = 0; j < r; j++) {
                    s += u[a * r + j] * u[b * r + j];
                }
                h[a * k + b] = s / r;
            }
        });
        for (int a = 0; a < k; a++) {
            h[a * k + a] += 0.5 + rnd.nextDouble();
        }
        return h;
    }
}
