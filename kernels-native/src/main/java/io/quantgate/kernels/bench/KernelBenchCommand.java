package io.quantgate.kernels.bench;

import io.quantgate.results.model.SampleStats;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.format.QuantizedMatrix;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.kernels.nativeimpl.Isa;
import io.quantgate.kernels.nativeimpl.NativeKernels;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * {@code ./quantgate bench kernels}: in ONE run, the machine's read bandwidth (STREAM-like), then
 * for each shape x batch every format's GEMV/GEMM interleaved round-robin with dense fp16 and with
 * a bandwidth probe, so that GB/s, the ratio to bandwidth and the speedup over fp16 are all ratios
 * of measurements taken side by side (SPEC §4). Each case rotates over enough copies of its own weights
 * that the working set is at least 4x the last-level cache: every call streams from DRAM.
 */
public final class KernelBenchCommand {

    static final String USAGE = """
            usage: ./quantgate bench kernels [options]
              --formats IDS        config ids, comma separated (default fp32,fp16,bf16,int8,int4-g128,int4s-g128,fp4-g128,nf4-g128)
              --activations LIST   fp32,int8 (default both; int8 applies to quantized formats only)
              --shapes NxK,...     weight shapes N(out)xK(in) (default Llama-7B and Llama-3-8B layers:
                                   4096x4096,11008x4096,4096x11008,14336x4096,4096x14336)
              --batch B,...        activation rows M (default 1,16,512)
              --threads T          kernel threads (default: all cores)
              --isa ID             scalar, avx2 or avx512 (default: best supported)
              --warmup N           warmup rounds (default 15)
              --iterations N       measured rounds (default 100)
              --max-seconds S      time budget per shape x batch; fewer rounds are measured when it runs out,
                                   and the count is reported (default 20)
              --outlier-sigma S    drop samples beyond S sd of the mean (default 2)
              --json               print only the JSON document on stdout (progress goes to stderr)
              --out FILE           also write the JSON document to FILE (atomically)
              --markdown FILE      also write a Markdown table to FILE (atomically)
            """;

    record Options(List<ConfigId> formats, List<ActivationMode> activations, List<int[]> shapes, List<Integer> batches,
                   int threads, Isa isa, int warmup, int iterations, double maxSeconds, double outlierSigma, boolean json,
                   Path out, Path markdown) {}

    /** One measured kernel configuration inside a shape x batch group. */
    static final class Case {
        final ConfigId config;
        final ActivationMode act;
        final QuantizedMatrix[] copies; // null for the bandwidth probe
        final double[] ns;
        int count;

        Case(ConfigId config, ActivationMode act, QuantizedMatrix[] copies, int capacity) {
            this.config = config;
            this.act = act;
            this.copies = copies;
            this.ns = new double[capacity];
        }

        boolean isProbe() {
            return copies == null;
        }

        double[] samples() {
            return java.util.Arrays.copyOf(ns, count);
        }
    }

    public static void main(String[] args) {
        try {
            Options o = parse(args);
            run(o, System.out, System.err);
        } catch (IllegalArgumentException e) {
            System.err.println("quantgate bench kernels: " + e.getMessage());
            System.exit(2);
        }
    }

    static Options parse(String[] args) {
        List<ConfigId> formats = parseFormats("fp32,fp16,bf16,int8,int4-g128,int4s-g128,fp4-g128,nf4-g128");
        List<ActivationMode> acts = List.of(ActivationMode.FP32, ActivationMode.INT8);
        List<int[]> shapes = parseShapes("4096x4096,11008x4096,4096x11008,14336x4096,4096x14336");
        List<Integer> batches = List.of(1, 16, 512);
        int threads = 0;
        Isa isa = null;
        int warmup = 15;
        int iterations = 100;
        double maxSeconds = 20;
        double sigma = SampleStats.DEFAULT_OUTLIER_SIGMA;
        boolean json = false;
        Path out = null;
        Path md = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--json")) {
                json = true;
                continue;
            }
            if (a.equals("-h") || a.equals("--help")) {
                System.out.print(USAGE);
                System.exit(0);
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("option " + a + " needs a value\n" + USAGE);
            }
            String v = args[++i];
            switch (a) {
                case "--formats" -> formats = parseFormats(v);
                case "--activations" -> acts = splitList(v).stream().map(ActivationMode::fromId).toList();
                case "--shapes" -> shapes = parseShapes(v);
                case "--batch" -> batches = splitList(v).stream().map(s -> positiveInt("--batch", s)).toList();
                case "--threads" -> threads = nonNegativeInt("--threads", v);
                case "--isa" -> isa = Isa.fromId(v);
                case "--warmup" -> warmup = nonNegativeInt("--warmup", v);
                case "--iterations" -> iterations = positiveInt("--iterations", v);
                case "--max-seconds" -> maxSeconds = positiveDouble("--max-seconds", v);
                case "--outlier-sigma" -> sigma = positiveDouble("--outlier-sigma", v);
                case "--out" -> out = Path.of(v);
                case "--markdown" -> md = Path.of(v);
                default -> throw new IllegalArgumentException("unknown option " + a + "\n" + USAGE);
            }
        }
        if (acts.isEmpty()) {
            throw new IllegalArgumentException("--activations is empty");
        }
        return new Options(formats, acts, shapes, batches, threads, isa, warmup, iterations, maxSeconds, sigma, json, out, md);
    }

    static List<ConfigId> parseFormats(String v) {
        List<ConfigId> l = splitList(v).stream().map(ConfigId::parse).toList();
        if (l.isEmpty()) {
            throw new IllegalArgumentException("--formats is empty");
        }
        return l;
    }

    static List<int[]> parseShapes(String v) {
        List<int[]> out = new ArrayList<>();
        for (String s : splitList(v)) {
            String[] p = s.toLowerCase(Locale.ROOT).split("x");
            if (p.length != 2) {
                throw new IllegalArgumentException("bad shape '" + s + "': expected NxK, e.g. 4096x11008");
            }
            out.add(new int[] {positiveInt("shape N in '" + s + "'", p[0]), positiveInt("shape K in '" + s + "'", p[1])});
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("--shapes is empty");
        }
        return out;
    }

    private static List<String> splitList(String v) {
        return java.util.Arrays.stream(v.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }

    private static int positiveInt(String what, String s) {
        int v = nonNegativeInt(what, s);
        if (v == 0) {
            throw new IllegalArgumentException(what + " must be positive, got " + s);
        }
        return v;
    }

    private static int nonNegativeInt(String what, String s) {
        try {
            int v = Integer.parseInt(s.trim());
            if (v < 0) {
                throw new IllegalArgumentException(what + " must not be negative, got " + s);
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + " must be an integer, got '" + s + "'");
        }
    }

    private static double positiveDouble(String what, String s) {
        try {
            double v = Double.parseDouble(s.trim());
            if (!(v > 0)) {
                throw new IllegalArgumentException(what + " must be positive, got " + s);
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + " must be a number, got '" + s + "'");
        }
    }

    static Map<String, Object> run(Options o, PrintStream stdout, PrintStream log) {
        if (o.isa() != null) {
            NativeKernels.setIsa(o.isa());
        }
        NativeKernels.setThreads(o.threads());
        long llc = MachineInfo.lastLevelCacheBytes();
        long workingSet = 4 * llc;
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("tool", "quantgate bench kernels");
        doc.put("timestamp", Instant.now().toString());
        doc.put("machine", MachineInfo.describe());
        List<Map<String, Object>> results = new ArrayList<>();
        try (Arena probeArena = Arena.ofShared()) {
            // bandwidth probe buffer: 4x LLC (at least 256 MiB), read in 4 rotating slices
            long probeBytes = Math.max(256L << 20, workingSet) & ~((64L << 20) - 1);
            MemorySegment probe = probeArena.allocate(probeBytes, 4096);
            fillRandomLongs(probe, 1);
            double bw = measureBandwidth(probe, o, log);
            doc.put("bandwidth_gbs", round(bw, 3));
            doc.put("sampling", Map.of("warmup", o.warmup(), "iterations", o.iterations(), "outlier_sigma", o.outlierSigma(),
                    "max_seconds_per_group", o.maxSeconds(), "working_set_bytes", workingSet, "interleaved", true));
            for (int[] shape : o.shapes()) {
                runShape(shape[0], shape[1], o, probe, workingSet, results, log);
            }
        }
        doc.put("results", results);
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        try {
            String json = mapper.writeValueAsString(doc);
            if (o.out() != null) {
                writeAtomically(o.out(), json + "\n");
            }
            if (o.markdown() != null) {
                writeAtomically(o.markdown(), markdown(doc, results));
            }
            if (o.json()) {
                stdout.println(json);
            } else {
                stdout.print(table(doc, results));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return doc;
    }

    private static double measureBandwidth(MemorySegment probe, Options o, PrintStream log) {
        long slice = probe.byteSize() / 4;
        int n = o.warmup() + o.iterations();
        double[] gbs = new double[o.iterations()];
        long sink = 0;
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            sink += NativeKernels.streamRead(probe.asSlice((i % 4) * slice, slice), slice);
            long dt = System.nanoTime() - t0;
            if (i >= o.warmup()) {
                gbs[i - o.warmup()] = slice / (double) dt;
            }
        }
        SampleStats s = SampleStats.of(gbs, o.outlierSigma());
        log.printf(Locale.ROOT, "memory read bandwidth: %.2f GB/s (median of %d, %s threads, checksum %x)%n", s.median(), s.n(),
                NativeKernels.threads(), sink & 0xff);
        return s.median();
    }

    /** A measured case: one config with one activation mode. */
    record CaseKey(ConfigId config, ActivationMode act) {}

    private static void runShape(int n, int k, Options o, MemorySegment probe, long workingSet, List<Map<String, Object>> results,
                                 PrintStream log) {
        List<CaseKey> keys = new ArrayList<>();
        CaseKey ref = new CaseKey(ConfigId.parse("fp16"), ActivationMode.FP32);
        keys.add(ref); // the reference always runs, with fp32 activations
        for (ConfigId c : o.formats()) {
            for (ActivationMode a : o.activations()) {
                CaseKey key = new CaseKey(c, a);
                if ((a == ActivationMode.INT8 && !c.format().isQuantized()) || keys.contains(key)) {
                    continue;
                }
                keys.add(key);
            }
        }
        try (Arena arena = Arena.ofShared()) {
            log.printf(Locale.ROOT, "shape %dx%d: preparing weights (working set >= %d MiB per case)%n", n, k, workingSet >> 20);
            // Every case gets its OWN copies, even two activation modes of one format: sharing them let
            // the second case of a round read what the first had just pulled into the last-level cache.
            Map<CaseKey, QuantizedMatrix[]> weights = new LinkedHashMap<>();
            long seed = 1000;
            for (CaseKey key : keys) {
                QuantizedMatrix first = QuantizedMatrix.random(key.config(), n, k, seed++, arena);
                int copies = (int) Math.max(2, (workingSet + first.packedBytes() - 1) / first.packedBytes());
                QuantizedMatrix[] arr = new QuantizedMatrix[copies];
                arr[0] = first;
                for (int i = 1; i < copies; i++) {
                    arr[i] = QuantizedMatrix.random(key.config(), n, k, seed++, arena);
                }
                weights.put(key, arr);
            }
            for (int m : o.batches()) {
                runGroup(n, k, m, o, weights, ref, probe, arena, results, log);
            }
        }
    }

    private static void runGroup(int n, int k, int m, Options o, Map<CaseKey, QuantizedMatrix[]> weights, CaseKey refKey,
                                 MemorySegment probe, Arena arena, List<Map<String, Object>> results, PrintStream log) {
        int cap = o.iterations();
        List<Case> cases = new ArrayList<>();
        Case ref = null;
        for (Map.Entry<CaseKey, QuantizedMatrix[]> e : weights.entrySet()) {
            Case c = new Case(e.getKey().config(), e.getKey().act(), e.getValue(), cap);
            cases.add(c);
            if (e.getKey().equals(refKey)) {
                ref = c;
            }
        }
        Case probeCase = new Case(null, null, null, cap);
        cases.add(probeCase);
        MemorySegment x = arena.allocate((long) m * k * Float.BYTES, 64);
        SplittableRandom rnd = new SplittableRandom(7 + m);
        for (long i = 0; i < (long) m * k; i++) {
            x.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (rnd.nextDouble() * 2 - 1));
        }
        MemorySegment y = arena.allocate((long) m * n * Float.BYTES, 64);
        long slice = probe.byteSize() / 4;
        long budgetNs = (long) (o.maxSeconds() * 1e9);
        long start = System.nanoTime();
        int rounds = 0;
        int warm = 0;
        int total = o.warmup() + o.iterations();
        long lastLog = start;
        long sink = 0;
        for (int round = 0; round < total; round++) {
            boolean measuring = round >= o.warmup() || (warm > 0 && System.nanoTime() - start > budgetNs / 5);
            int nc = cases.size();
            for (int j = 0; j < nc; j++) {
                Case c = cases.get((round + j) % nc); // rotate the order: no case always runs after the same one
                long t0;
                long dt;
                if (c.isProbe()) {
                    t0 = System.nanoTime();
                    sink += NativeKernels.streamRead(probe.asSlice((round % 4) * slice, slice), slice);
                    dt = System.nanoTime() - t0;
                    if (measuring) {
                        c.ns[c.count++] = slice / (double) dt; // GB/s, not ns
                    }
                    continue;
                }
                QuantizedMatrix w = c.copies[round % c.copies.length];
                t0 = System.nanoTime();
                NativeKernels.gemm(w, c.act, x, m, y);
                dt = System.nanoTime() - t0;
                if (measuring) {
                    c.ns[c.count++] = dt;
                }
            }
            if (measuring) {
                rounds++;
            } else {
                warm++;
            }
            long now = System.nanoTime();
            if (now - lastLog > 5_000_000_000L) {
                log.printf(Locale.ROOT, "  %dx%d batch %d: %d warmup + %d measured rounds, %.0f s%n", n, k, m, warm, rounds, (now - start) / 1e9);
                lastLog = now;
            }
            if (rounds >= o.iterations() || (now - start > budgetNs && rounds >= 5)) {
                break;
            }
            if (!measuring && round >= o.warmup() - 1) {
                // warmup finished by count; measuring starts next round
            }
        }
        if (sink == 42) {
            log.print("");
        }
        double roundBw = SampleStats.of(probeCase.samples(), o.outlierSigma()).median();
        double[] refNs = ref.samples();
        SampleStats refStats = SampleStats.of(refNs, o.outlierSigma());
        log.printf(Locale.ROOT, "  %dx%d batch %d: %d warmup + %d measured rounds, bandwidth in these rounds %.2f GB/s%n", n, k, m, warm,
                rounds, roundBw);
        for (Case c : cases) {
            if (c.isProbe()) {
                continue;
            }
            double[] s = c.samples();
            SampleStats st = SampleStats.of(s, o.outlierSigma());
            QuantizedMatrix w = c.copies[0];
            double sec = st.median() * 1e-9;
            double gbs = w.packedBytes() / sec / 1e9;
            double gflops = 2.0 * m * n * k / sec / 1e9;
            double[] ratios = new double[s.length];
            for (int i = 0; i < s.length; i++) {
                ratios[i] = refNs[i] / s[i]; // same round: paired
            }
            double speedup = refStats.median() / st.median();
            double[] ci = SampleStats.bootstrapMedianCi(ratios, 0.95, 1000, 17);
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("config", c.config.toString());
            r.put("format", c.config.format().id());
            r.put("group", c.config.format().isQuantized() ? w.groupSize() : 0);
            r.put("n", n);
            r.put("k", k);
            r.put("batch", m);
            r.put("activations", c.act.id());
            r.put("gbs", round(gbs, 3));
            r.put("gflops", round(gflops, 3));
            r.put("bandwidth_ratio", round(gbs / roundBw, 4));
            r.put("speedup_vs_fp16", round(speedup, 4));
            r.put("speedup_vs_fp16_paired_median", round(SampleStats.median(ratios), 4));
            r.put("speedup_vs_fp16_ci95", List.of(round(ci[0], 4), round(ci[1], 4)));
            r.put("median_ns", round(st.median(), 0));
            r.put("samples", st.n());
            r.put("dropped", st.dropped());
            r.put("stats_ns", Map.of("mean", round(st.mean(), 0), "sd", round(st.sd(), 0), "min", st.min(), "max", st.max(),
                    "p5", round(st.p5(), 0), "p95", round(st.p95(), 0)));
            r.put("weight_bytes", w.packedBytes());
            r.put("copies", c.copies.length);
            r.put("bandwidth_gbs_same_rounds", round(roundBw, 3));
            r.put("raw_ns", s);
            results.add(r);
            log.printf(Locale.ROOT, "    %-11s act=%-4s %9.1f us  %7.2f GB/s (%.2f of bw)  %8.1f GFLOP/s  x%.2f vs fp16%n",
                    c.config, c.act.id(), st.median() / 1e3, gbs, gbs / roundBw, gflops, speedup);
        }
    }

    private static void fillRandomLongs(MemorySegment seg, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        for (long off = 0; off + 8 <= seg.byteSize(); off += 8) {
            seg.set(ValueLayout.JAVA_LONG_UNALIGNED, off, rnd.nextLong());
        }
    }

    static double round(double v, int digits) {
        double p = Math.pow(10, digits);
        return Math.round(v * p) / p;
    }

    static String table(Map<String, Object> doc, List<Map<String, Object>> results) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "memory read bandwidth: %s GB/s  (%s)%n", doc.get("bandwidth_gbs"),
                ((Map<?, ?>) doc.get("machine")).get("cpu")));
        sb.append(String.format(Locale.ROOT, "%-12s %-5s %13s %6s %12s %9s %7s %9s %11s %7s%n", "config", "act", "shape NxK", "batch",
                "median us", "GB/s", "of bw", "GFLOP/s", "vs fp16", "n"));
        for (Map<String, Object> r : results) {
            sb.append(String.format(Locale.ROOT, "%-12s %-5s %13s %6s %12.1f %9.2f %7.2f %9.1f %11s %7s%n", r.get("config"),
                    r.get("activations"), r.get("n") + "x" + r.get("k"), r.get("batch"), ((Number) r.get("median_ns")).doubleValue() / 1e3,
                    r.get("gbs"), r.get("bandwidth_ratio"), r.get("gflops"), "x" + r.get("speedup_vs_fp16"), r.get("samples")));
        }
        return sb.toString();
    }

    static String markdown(Map<String, Object> doc, List<Map<String, Object>> results) {
        StringBuilder sb = new StringBuilder();
        Map<?, ?> mach = (Map<?, ?>) doc.get("machine");
        sb.append("# QuantGate kernel benchmark\n\n");
        sb.append("Generated by `./quantgate run` (`./quantgate bench kernels`); every figure below was measured in this run.\n\n");
        sb.append("- Machine: ").append(mach.get("cpu")).append(", ").append(mach.get("cores")).append(" cores, ISA tier `")
                .append(mach.get("isa")).append("`, ").append(mach.get("threads")).append(" threads, LLC ")
                .append(((Number) mach.get("llc_bytes")).longValue() >> 20).append(" MiB\n");
        sb.append("- JVM: ").append(mach.get("jvm")).append("; OS: ").append(mach.get("os")).append('\n');
        sb.append("- Memory read bandwidth (STREAM-like, all threads): **").append(doc.get("bandwidth_gbs")).append(" GB/s**\n");
        sb.append("- Sampling: ").append(doc.get("sampling")).append("\n- Timestamp: ").append(doc.get("timestamp")).append("\n\n");
        sb.append("`of bw` is weight GB/s divided by the bandwidth probe interleaved with the same rounds; `vs fp16` is the ratio of ")
                .append("medians to dense fp16 (fp32 activations) at the same shape and batch, with the 95% bootstrap interval of the ")
                .append("per-round paired ratios.\n\n");
        sb.append("| config | act | N x K | batch | median µs | GB/s | of bw | GFLOP/s | vs fp16 | 95% CI | n |\n");
        sb.append("|---|---|---|---:|---:|---:|---:|---:|---:|---|---:|\n");
        for (Map<String, Object> r : results) {
            List<?> ci = (List<?>) r.get("speedup_vs_fp16_ci95");
            sb.append(String.format(Locale.ROOT, "| %s | %s | %sx%s | %s | %.1f | %.2f | %.2f | %.1f | %.2f | %s–%s | %s |%n",
                    r.get("config"), r.get("activations"), r.get("n"), r.get("k"), r.get("batch"),
                    ((Number) r.get("median_ns")).doubleValue() / 1e3, ((Number) r.get("gbs")).doubleValue(),
                    ((Number) r.get("bandwidth_ratio")).doubleValue(), ((Number) r.get("gflops")).doubleValue(),
                    ((Number) r.get("speedup_vs_fp16")).doubleValue(), ci.get(0), ci.get(1), r.get("samples")));
        }
        return sb.toString();
    }

    static void writeAtomically(Path target, String content) throws IOException {
        Path abs = target.toAbsolutePath();
        Files.createDirectories(abs.getParent());
        Path tmp = Files.createTempFile(abs.getParent(), abs.getFileName().toString(), ".tmp");
        try {
            Files.writeString(tmp, content);
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
