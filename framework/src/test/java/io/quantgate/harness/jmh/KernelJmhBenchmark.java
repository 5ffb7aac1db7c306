package io.quantgate.harness.jmh;

import io.quantgate.harness.MachineInfo;
import io.quantgate.harness.MemorySizing;
import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.format.QuantizedMatrix;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.kernels.nativeimpl.NativeKernels;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * JMH cross-check of {@code ./quantgate bench kernels}: the time of one {@link NativeKernels#gemm}
 * call ({@code y[batch][N] = x[batch][K] · Wᵀ}) per config, activation mode, Llama-7B layer shape and
 * batch, measured by JMH's own harness in a fresh JVM.
 *
 * <p><b>Memory-bound on purpose.</b> {@link #setup()} allocates enough independent random copies of the
 * weights ({@link QuantizedMatrix#random}) that together they exceed 4x the last-level cache
 * ({@link MachineInfo#lastLevelCacheBytes()}), and every invocation uses the next copy in turn, so each
 * call streams its weights from DRAM as in real decoding instead of hitting a warm cache.
 *
 * <p><b>Dense formats with int8 activations.</b> JMH runs the full cross product of the {@code @Param}s
 * and cannot skip a combination, but the int8-activation path exists only for quantized formats. For
 * {@code config=fp16, activations=int8} the benchmark therefore runs the fp32-activation path: those
 * rows duplicate {@code fp16/fp32} and should be ignored (or excluded with
 * {@code -p activations=fp32} when benchmarking fp16 alone). The line printed at setup says which path
 * actually ran.
 *
 * <p>Run from the repository root after {@code test-compile}, e.g. one combination:
 * <pre>
 * java --enable-native-access=ALL-UNNAMED \
 *   -cp "kernels-native/target/classes:kernels-native/target/test-classes:$(cat kernels-native/target/classpath.txt)" \
 *   org.openjdk.jmh.Main KernelJmhBenchmark -p config=int4-g128 -p activations=int8 -p shape=4096x4096 -p batch=1
 * </pre>
 * Thread count and ISA tier follow {@code -Dquantgate.threads} / {@code -Dquantgate.isa} (pass them with
 * {@code -jvmArgsAppend}); the default is all cores and the best supported tier.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class KernelJmhBenchmark {

    @Param({"fp16", "int8", "int4-g128", "fp4-g128", "nf4-g128"})
    public String config;

    /** fp32 or int8; int8 on a dense config runs the fp32 path (see the class comment). */
    @Param({"fp32", "int8"})
    public String activations;

    /** N (outputs) x K (inputs). */
    @Param({"4096x4096", "4096x11008"})
    public String shape;

    @Param({"1", "16"})
    public int batch;

    private Arena arena;
    private QuantizedMatrix[] copies;
    private ActivationMode mode;
    private MemorySegment x;
    private MemorySegment y;
    private int next;

    @Setup(Level.Trial)
    public void setup() {
        ConfigId id = ConfigId.parse(config);
        String[] nk = shape.toLowerCase(Locale.ROOT).split("x");
        if (nk.length != 2) {
            throw new IllegalArgumentException("shape must be NxK, got '" + shape + "'");
        }
        int n = Integer.parseInt(nk[0]);
        int k = Integer.parseInt(nk[1]);
        if (batch < 1) {
            throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        }
        ActivationMode requested = ActivationMode.fromId(activations);
        mode = requested == ActivationMode.INT8 && !id.format().isQuantized() ? ActivationMode.FP32 : requested;

        arena = Arena.ofShared();
        long workingSet = MemorySizing.defaults().workingSetBytes(); // the harness's one sizing rule
        QuantizedMatrix first = QuantizedMatrix.random(id, n, k, 1000, arena);
        int count = (int) Math.max(2, (workingSet + first.packedBytes() - 1) / first.packedBytes());
        copies = new QuantizedMatrix[count];
        copies[0] = first;
        for (int i = 1; i < count; i++) {
            copies[i] = QuantizedMatrix.random(id, n, k, 1000 + i, arena);
        }
        x = arena.allocate((long) batch * k * Float.BYTES, 64);
        SplittableRandom rnd = new SplittableRandom(7 + batch);
        for (long i = 0; i < (long) batch * k; i++) {
            x.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (rnd.nextDouble() * 2 - 1));
        }
        y = arena.allocate((long) batch * n * Float.BYTES, 64);
        next = 0;
        System.out.printf(Locale.ROOT, "%n# %s %s %s batch %d: %s activations path, %d copies x %.1f MiB = %.0f MiB (LLC %d MiB), isa %s, %d threads%n",
                id, activations, shape, batch, mode.id(), count, first.packedBytes() / 1048576.0,
                count * (double) first.packedBytes() / 1048576.0, MachineInfo.lastLevelCacheBytes() >> 20, NativeKernels.isa().id(),
                NativeKernels.threads());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        copies = null;
        x = null;
        y = null;
        if (arena != null) {
            arena.close();
            arena = null;
        }
    }

    /** One GEMV/GEMM on the next weight copy; returns an output so the call has an observable result. */
    @Benchmark
    public float gemm() {
        QuantizedMatrix w = copies[next];
        next = next + 1 == copies.length ? 0 : next + 1;
        NativeKernels.gemm(w, mode, x, batch, y);
        return y.get(ValueLayout.JAVA_FLOAT, 0);
    }
}
