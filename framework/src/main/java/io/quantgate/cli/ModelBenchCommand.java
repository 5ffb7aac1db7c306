package io.quantgate.cli;

import io.quantgate.kernels.bench.MachineInfo;
import io.quantgate.results.model.SampleStats;
import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.kernels.nativeimpl.NativeKernels;
import io.quantgate.runtime.ModelFiles;
import io.quantgate.runtime.model.LlamaModel;
import io.quantgate.runtime.model.ModelWeights;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * {@code quantgate bench model}: prefill and decode speed of a whole model as llama-bench defines them
 * (pp512: a 512-token prompt in one batch from an empty cache; tg128: 128 single-token decode steps from
 * an empty cache), for one or more configs, with a memory-bandwidth probe in the same rounds. Each round
 * runs every config's pp, then its tg, then the probe, rotating the order, so the configs and the probe
 * see the same machine state; the decode ceiling is probe bandwidth ÷ bytes a decode step reads.
 */
final class ModelBenchCommand {
    static final String USAGE = """
            usage: quantgate bench model --model PATH|synthetic:<spec> --config ID[,ID...] [options]
              --activations A       int8 (default: the fast path for quantized weights) or fp32
              --pp N                prompt tokens (default 512)
              --tg N                generated tokens (default 128)
              --warmup N            unmeasured rounds (default 1)
              --reps N              measured rounds (default 5, as llama-bench)
              --threads N           kernel threads (default all cores)
              --json                print the JSON document on stdout (progress on stderr)
              --out FILE            also write the JSON document to FILE (atomically)
            synthetic specs: synthetic:llama-1b, synthetic:llama-7b, synthetic:llama3-8b, synthetic:tiny,
            or synthetic:dim=..,layers=..,heads=..,kv=..,hidden=..,vocab=..
            """;

    private ModelBenchCommand() {
    }

    static int run(String[] args, PrintStream out, PrintStream err) throws IOException {
        CliArgs a = new CliArgs("bench model", args, Set.of("--model", "--config", "--activations", "--pp", "--tg",
                "--warmup", "--reps", "--threads", "--out"), Set.of("--json"));
        List<String> configs = new ArrayList<>();
        for (String c : a.require("--config").split(",")) {
            QuantizationConfig.parse(c.trim());
            configs.add(c.trim());
        }
        ActivationMode act = Commands.activations(a.get("--activations", "int8"));
        int pp = a.getInt("--pp", 512, 1);
        int tg = a.getInt("--tg", 128, 1);
        int warmup = a.getInt("--warmup", 1, 0);
        int reps = a.getInt("--reps", 5, 2);
        if (a.has("--threads")) {
            NativeKernels.setThreads(a.getInt("--threads", 0, 1));
        }
        PrintStream log = a.flag("--json") ? err : out;
        Map<String, Object> doc = new LinkedHashMap<>();
        try (ModelWeights weights = ModelFiles.open(a.require("--model"));
             Arena probeArena = Arena.ofShared()) {
            if (pp + tg > weights.config().seqLen() || pp > weights.config().seqLen()) {
                throw new IllegalArgumentException("bench model: pp " + pp + " / tg " + tg + " exceed the context of "
                        + weights.config().seqLen());
            }
            int ctx = Math.max(pp, tg);
            List<LlamaModel> models = new ArrayList<>();
            try {
                for (String c : configs) {
                    long t0 = System.nanoTime();
                    models.add(new LlamaModel(weights, QuantizationConfig.parse(c), act, pp, ctx));
                    log.printf(Locale.ROOT, "loaded %s as %s in %.1f s%n", weights.source(), c, (System.nanoTime() - t0) / 1e9);
                }
                long probeBytes = Math.max(512L << 20, 16 * MachineInfo.lastLevelCacheBytes()) & ~((1L << 20) - 1);
                MemorySegment probe = probeArena.allocate(probeBytes, 4096);
                for (long i = 0; i < probeBytes / 8; i++) {
                    probe.setAtIndex(ValueLayout.JAVA_LONG, i, i * 0x9E3779B97F4A7C15L);
                }
                int n = configs.size();
                double[][] ppTps = new double[n][reps];
                double[][] tgTps = new double[n][reps];
                double[] bw = new double[reps];
                SplittableRandom rnd = new SplittableRandom(42);
                int vocab = weights.config().vocabSize();
                int[] prompt = rnd.ints(pp, 0, vocab).toArray();
                int[] gen = rnd.ints(tg, 0, vocab).toArray();
                for (int round = 0; round < warmup + reps; round++) {
                    int r = round - warmup;
                    for (int j = 0; j < n; j++) {
                        int i = (j + round) % n; // rotate which config goes first
                        LlamaModel m = models.get(i);
                        m.reset();
                        long t0 = System.nanoTime();
                        m.forwardBatch(prompt, 0, pp - 1); // logits of the last position only, as llama-bench
                        double ppS = (System.nanoTime() - t0) / 1e9;
                        m.reset();
                        t0 = System.nanoTime();
                        for (int p = 0; p < tg; p++) {
                            m.forward(gen[p], p);
                        }
                        double tgS = (System.nanoTime() - t0) / 1e9;
                        if (r >= 0) {
                            ppTps[i][r] = pp / ppS;
                            tgTps[i][r] = tg / tgS;
                        }
                        log.printf(Locale.ROOT, "%s round %d %s: pp%d %.1f tok/s, tg%d %.2f tok/s%n",
                                r < 0 ? "warmup" : "measured", Math.max(r, round) + 1, configs.get(i), pp, pp / ppS, tg,
                                tg / tgS);
                    }
                    // the probe: four slices, each several times the LLC, the median GB/s of the four
                    long slice = probeBytes / 4 & ~63L;
                    double[] sl = new double[4];
                    long sink = 0;
                    for (int k = 0; k < 4; k++) {
                        long t0 = System.nanoTime();
                        sink += NativeKernels.streamRead(probe.asSlice(k * slice, slice), slice);
                        sl[k] = slice / (double) (System.nanoTime() - t0);
                    }
                    double gbs = SampleStats.median(sl);
                    if (r >= 0) {
                        bw[r] = gbs;
                    }
                    log.printf(Locale.ROOT, "  probe %.1f GB/s (checksum %x)%n", gbs, sink & 0xff);
                }
                SampleStats bws = SampleStats.of(bw);
                doc.put("model", weights.source().toString());
                doc.put("architecture", weights.architecture());
                doc.put("shape", Map.of("dim", weights.config().dim(), "layers", weights.config().nLayers(),
                        "heads", weights.config().nHeads(), "kv_heads", weights.config().nKvHeads(),
                        "hidden", weights.config().hiddenDim(), "vocab", weights.config().vocabSize()));
                doc.put("activations", act.name().toLowerCase(Locale.ROOT));
                doc.put("threads", NativeKernels.threads());
                doc.put("isa", NativeKernels.isa().id());
                doc.put("warmup", warmup);
                doc.put("reps", reps);
                doc.put("bandwidth_gbs", bws);
                doc.put("machine", MachineInfo.describe());
                List<Map<String, Object>> rows = new ArrayList<>();
                log.printf(Locale.ROOT, "%n| config | compression | weight MB/token | pp%d tok/s | tg%d tok/s | tg ceiling tok/s | tg / ceiling | decode GB/s |%n",
                        pp, tg);
                log.println("|---|---:|---:|---:|---:|---:|---:|---:|");
                for (int i = 0; i < n; i++) {
                    LlamaModel m = models.get(i);
                    // bytes one decode step reads, averaged over the tg positions (the KV cache grows)
                    double bytes = m.weightBytesPerToken() + (m.kvBytesRead(0) + m.kvBytesRead(tg - 1)) / 2.0;
                    double[] ratio = new double[reps];
                    double[] decodeGbs = new double[reps];
                    for (int r = 0; r < reps; r++) {
                        ratio[r] = tgTps[i][r] * bytes / (bw[r] * 1e9); // paired with the probe of the same round
                        decodeGbs[r] = tgTps[i][r] * bytes / 1e9;
                    }
                    SampleStats pps = SampleStats.of(ppTps[i]);
                    SampleStats tgs = SampleStats.of(tgTps[i]);
                    SampleStats rs = SampleStats.of(ratio);
                    double ceiling = bws.median() * 1e9 / bytes;
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("config", configs.get(i));
                    row.put("compression", m.compressionRatio());
                    row.put("weight_bytes_per_token", m.weightBytesPerToken());
                    row.put("decode_bytes_per_token", bytes);
                    row.put("pp_tokens", pp);
                    row.put("tg_tokens", tg);
                    row.put("pp_tokens_per_second", pps);
                    row.put("tg_tokens_per_second", tgs);
                    row.put("tg_ceiling_tokens_per_second", ceiling);
                    row.put("tg_fraction_of_ceiling", rs);
                    row.put("decode_gbs", SampleStats.of(decodeGbs));
                    row.put("pp_samples", ppTps[i]);
                    row.put("tg_samples", tgTps[i]);
                    rows.add(row);
                    log.printf(Locale.ROOT, "| %s | %.2f | %.1f | %.1f ± %.1f | %.2f ± %.2f | %.2f | %.2f | %.1f |%n",
                            configs.get(i), m.compressionRatio(), m.weightBytesPerToken() / 1e6, pps.median(), pps.sd(),
                            tgs.median(), tgs.sd(), ceiling, rs.median(), SampleStats.of(decodeGbs).median());
                }
                doc.put("results", rows);
                log.printf(Locale.ROOT, "bandwidth probe: %.1f GB/s median (%.1f..%.1f)%n", bws.median(), bws.min(), bws.max());
            } finally {
                for (LlamaModel m : models) {
                    m.close();
                }
            }
        }
        String json = Commands.JSON.writeValueAsString(doc);
        if (a.has("--out")) {
            io.quantgate.runtime.AtomicFile.writeString(Path.of(a.get("--out", null)).toAbsolutePath(), json + "\n");
        }
        if (a.flag("--json")) {
            out.println(json);
        }
        return 0;
    }
}
