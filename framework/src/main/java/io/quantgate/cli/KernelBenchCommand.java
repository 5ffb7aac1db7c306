package io.quantgate.cli;

import io.quantgate.harness.Harness;
import io.quantgate.harness.Sampling;
import io.quantgate.harness.Subject;
import io.quantgate.harness.ThroughputPlan;
import io.quantgate.harness.Workload;
import io.quantgate.kernel.Kernels;
import io.quantgate.kernel.LinearKernel;
import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.kernels.nativeimpl.Isa;
import io.quantgate.kernels.nativeimpl.NativeKernels;
import io.quantgate.results.Records;
import io.quantgate.results.model.AtomicFiles;
import io.quantgate.results.model.ResultRecord;
import io.quantgate.results.model.TestInfo;
import io.quantgate.results.model.ThroughputRow;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code quantgate bench kernels}: {@code y = x·Wᵀ} of every format × activation mode at real layer shapes, each shape ×
 * batch one interleaved group with the reference and the bandwidth probe (SPEC §4), every call streaming its weights
 * from DRAM. Rows: weight GB/s, GFLOP/s, fraction of the probe's bandwidth in the same rounds, and the paired speedup
 * over the reference with its interval. {@code --kernel} times another linear kernel (ONNX Runtime's, a user's) on the
 * very same weights.
 */
@Command(name = "kernels", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Kernel throughput vs memory bandwidth and a reference (docs/benchmarks.md).")
final class KernelBenchCommand implements Callable<Integer> {
    static final String DEFAULT_FORMATS = "fp32,fp16,bf16,int8,int4-g128,int4s-g128,fp4-g128,nf4-g128";
    static final String DEFAULT_SHAPES = "4096x4096,11008x4096,4096x11008,14336x4096,4096x14336";

    @Spec
    CommandSpec spec;

    @Option(names = {"--formats", "--configs"}, paramLabel = "IDS", converter = Converters.ConfigList.class,
            defaultValue = DEFAULT_FORMATS, description = "uniform config ids, comma separated (default: ${DEFAULT-VALUE})")
    Converters.Configs formats;

    @Option(names = "--activations", paramLabel = "LIST", split = ",", converter = Converters.Activations.class,
            defaultValue = "fp32,int8", description = "fp32,int8,bf16 (int8 and bf16 apply to quantized formats only; "
                    + "default fp32,int8)")
    List<ActivationMode> activations;

    @Option(names = "--shapes", paramLabel = "NxK,...", split = ",", converter = Converters.ShapeConverter.class,
            defaultValue = DEFAULT_SHAPES, description = "weight shapes N(out)xK(in) (default: Llama-7B and Llama-3-8B "
            + "layers ${DEFAULT-VALUE})")
    List<Converters.Shape> shapes;

    @Option(names = {"--batch", "--m"}, paramLabel = "M,...", split = ",", defaultValue = "1,16,512",
            description = "activation rows M (default ${DEFAULT-VALUE})")
    List<Integer> batches;

    @Option(names = "--kernel", paramLabel = "NAME", defaultValue = "native",
            description = "the linear kernel timed (default ${DEFAULT-VALUE}; others: ONNX Runtime's 'onnxruntime' with "
                    + "its artifact, a user's kernel)")
    String kernel;

    @Option(names = "--reference", paramLabel = "ID|same", defaultValue = "fp16",
            description = "what each case is compared with in the same rounds: a config id, or 'same' for the same "
                    + "config on --reference-kernel (default ${DEFAULT-VALUE})")
    String reference;

    @Option(names = "--reference-kernel", paramLabel = "NAME", defaultValue = "native",
            description = "the kernel the reference runs on (default ${DEFAULT-VALUE})")
    String referenceKernel;

    @Option(names = "--isa", paramLabel = "ID", converter = Converters.IsaTier.class,
            description = "native tier: scalar, avx2, avx512, avx512bf16 (x86-64); scalar, neon, neon_dotprod (aarch64); "
                    + "default: the best this CPU has")
    Isa isa;

    @Option(names = "--pause-ms", paramLabel = "MS", defaultValue = "0",
            description = "untimed pause before every timed call, for kernels whose threads keep spinning after a call "
                    + "(ONNX Runtime); default ${DEFAULT-VALUE}")
    int pauseMillis;

    @Option(names = "--markdown", paramLabel = "FILE", description = "also write the table as Markdown (atomically)")
    Path markdown;

    @Mixin
    BenchOptions.SamplingOptions sampling;

    @Mixin
    BenchOptions.MemoryOptions memory;

    @Mixin
    BenchOptions.ThreadOptions threads;

    @Mixin
    BenchOptions.OutputOptions output;

    /** What kernel records ran on: seeded random weights of each shape, no model file. */
    static final io.quantgate.results.model.Inputs RANDOM_WEIGHTS = new io.quantgate.results.model.Inputs(
            "random weights (bench kernels)", null, null, null, null, null, null, null);

    /** One measured case: a config with an activation mode on a kernel, against its reference. */
    private record Case(Subject subject, Subject reference) {
    }

    @Override
    public Integer call() {
        Instant started = Instant.now();
        if (isa != null) {
            NativeKernels.setIsa(isa);
        }
        threads.apply();
        Sampling plan = sampling.sampling(15, 100, 20).withPauseMillis(pauseMillis);
        PrintWriter log = BenchOutput.log(spec, output);
        LinearKernel k = Kernels.byName(kernel);
        Kernels.byName(referenceKernel);
        k.unavailableReason().ifPresent(why -> {
            throw new IllegalArgumentException("kernel '" + kernel + "' is not available here: " + why);
        });
        boolean same = reference.strip().equals("same");
        ConfigId refId = same ? null : new Converters.Id().convert(reference);
        List<Case> cases = new ArrayList<>();
        for (QuantizationConfig c : formats.list()) {
            if (!(c instanceof QuantizationConfig.Uniform u)) {
                throw new IllegalArgumentException("--formats: '" + c.label() + "' is a per-layer policy; kernels run "
                        + "one weight format at a time");
            }
            for (ActivationMode a : activations) {
                if (a != ActivationMode.FP32 && !u.id().format().isQuantized()) {
                    continue;
                }
                Subject s = Subject.kernel(kernel, u.id(), a);
                Subject r = Subject.kernel(referenceKernel, same ? u.id() : refId, same ? a : ActivationMode.FP32);
                if (cases.stream().noneMatch(x -> x.subject().equals(s))) {
                    cases.add(new Case(s, r));
                }
            }
        }
        log.printf(Locale.ROOT, "%s vs %s; %s; %d threads%n", k.description(), same ? "the same config on "
                + referenceKernel : refId + " on " + referenceKernel, io.quantgate.harness.MachineInfo.cpuModel(),
                NativeKernels.threads());
        Map<Subject, List<ThroughputRow>> rows = new LinkedHashMap<>();
        Map<Subject, String> notRun = new LinkedHashMap<>();
        try (Harness harness = new Harness(memory.sizing(), log::println)) {
            for (Converters.Shape shape : shapes) {
                for (int m : batches) {
                    Workload.Kernel w = new Workload.Kernel(shape.n(), shape.k(), m);
                    List<Subject> subjects = new ArrayList<>();
                    List<ThroughputPlan.Comparison> pairs = new ArrayList<>();
                    List<Subject> measured = new ArrayList<>();
                    for (Case c : cases) {
                        Optional<String> no = k.cannotRun(c.subject().configId(), c.subject().effectiveActivations(),
                                w.n(), w.k());
                        if (no.isPresent()) {
                            notRun.putIfAbsent(c.subject(), "cannot run at " + shape.n() + "x" + shape.k() + ": "
                                    + no.get());
                            continue;
                        }
                        int ref = subjects.indexOf(c.reference());
                        if (ref < 0) {
                            subjects.add(c.reference());
                            ref = subjects.size() - 1;
                        }
                        // the reference case is the reference itself: timed once, its speedup exactly 1
                        int at = c.subject().equals(c.reference()) ? ref : subjects.size();
                        if (at == subjects.size()) {
                            subjects.add(c.subject());
                        }
                        pairs.add(new ThroughputPlan.Comparison(at, ref));
                        measured.add(c.subject());
                    }
                    if (measured.isEmpty()) {
                        continue;
                    }
                    var result = harness.throughput(new ThroughputPlan(w, subjects, pairs, plan), null,
                            Harness.RemeasurePolicy.NEVER);
                    for (int i = 0; i < measured.size(); i++) {
                        ThroughputRow row = result.rows().get(i);
                        rows.computeIfAbsent(measured.get(i), x -> new ArrayList<>()).add(row);
                        log.println("  " + row.summary());
                    }
                }
            }
        }
        List<ResultRecord> records = new ArrayList<>();
        String command = spec.qualifiedName(" ");
        for (Case c : cases) {
            Subject s = c.subject();
            List<ThroughputRow> rs = rows.get(s);
            String refLabel = c.reference().configLabel();
            if (rs == null) {
                records.add(BenchOutput.notRun(Records.error(TestInfo.command(command, s.describe()), s.configLabel(),
                        null, kernel, new IllegalArgumentException(notRun.getOrDefault(s, "not measured")))));
                continue;
            }
            records.add(BenchOutput.done(Records.record(TestInfo.command(command, s.describe()), s.config(), null,
                    kernel, kernel, k.description(), s.effectiveActivations().id(), RANDOM_WEIGHTS, Double.NaN, null,
                    null,
                    Records.throughput("kernel", s.configLabel(), refLabel, s.effectiveActivations().id(), plan, 0, rs),
                    List.of(), null, started, Instant.now())));
        }
        String table = table(records);
        if (markdown != null) {
            AtomicFiles.writeString(markdown, "# QuantGate kernel benchmark\n\n" + "Generated by `"
                    + BenchOutput.commandLine(spec) + "`; every figure was measured in this run on "
                    + io.quantgate.harness.MachineInfo.cpuModel() + ".\n\n" + table);
        }
        BenchOutput.finish(spec, output, started, records, table);
        return 0;
    }

    /** One Markdown row per case × shape × batch. */
    static String table(List<ResultRecord> records) {
        StringBuilder s = new StringBuilder();
        s.append("| config | act | kernel | N x K | batch | median µs | GB/s | of bw | GFLOP/s | vs reference | 95% CI "
                + "| n |\n|---|---|---|---|---:|---:|---:|---:|---:|---:|---|---:|\n");
        for (ResultRecord r : records) {
            if (r.throughput() == null) {
                s.append(String.format(Locale.ROOT, "| %s | %s | %s | – | – | – | – | – | – | – | %s | – |%n",
                        r.config(), "–", r.backend(), r.error()));
                continue;
            }
            for (ThroughputRow row : r.throughput().rows()) {
                s.append(String.format(Locale.ROOT, "| %s | %s | %s | %dx%d | %d | %.1f | %.2f | %.2f | %.1f | %.2f "
                                + "(vs %s) | %.2f–%.2f | %d |%n", r.config(), r.activations(), r.backend(), row.n(),
                        row.k(), row.batch(), 1e6 * io.quantgate.results.model.SampleStats.median(row.samples().seconds()),
                        row.medianRate(), row.fractionOfBandwidth().median(), row.gflops(), row.medianSpeedup(),
                        r.throughput().reference(), row.speedupCi().low(), row.speedupCi().high(), row.rate().n()));
            }
        }
        return s.toString();
    }
}
