package io.quantgate.backend.onnxruntime;

import io.quantgate.backend.PairedRatio;
import io.quantgate.evaluation.ConfidenceInterval;
import io.quantgate.kernels.bench.MachineInfo;
import io.quantgate.results.model.SampleStats;
import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.format.QuantizedMatrix;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.kernels.nativeimpl.NativeKernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * {@code ./quantgate bench onnx-kernels}: our native GEMV/GEMM against ONNX Runtime's MatMulNBits / MatMul on the
 * same shapes and the very same weights (each matrix is one QuantizedMatrix; ORT gets its codes, {@link OnnxLinear}),
 * interleaved: every round times each (shape, config, M) on both engines back to back, the order alternating by
 * round, and the ORT/native ratio is paired over rounds. Several copies of each matrix are rotated so the working
 * set is at least 4× the last-level cache (weights come from memory, as in decode).
 * Activations: {@code int8} (native int8 path; ORT accuracy_level 4, int8 A) or {@code fp32} (accuracy_level 1).
 */
public final class OnnxKernelBench {
    private OnnxKernelBench() {
    }

    record Cell(String shape, String config, int m, String ort, SampleStats nativeGbs, SampleStats ortGbs,
                ConfidenceInterval ortVsNative, double bytes) {
    }

    public static void main(String[] args) {
        String shapes = "2048x2048,5632x2048,2048x5632";
        String configs = "fp32,fp16,int8-g32,int4s-g32,int4-g128";
        String ms = "1,64";
        int reps = 5, warmup = 1, threads = 0;
        String act = "int8";
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String v = i + 1 < args.length ? args[i + 1] : null;
            switch (a) {
                case "--shapes" -> { shapes = v; i++; }
                case "--configs" -> { configs = v; i++; }
                case "--m" -> { ms = v; i++; }
                case "--reps" -> { reps = Integer.parseInt(v); i++; }
                case "--warmup" -> { warmup = Integer.parseInt(v); i++; }
                case "--threads" -> { threads = Integer.parseInt(v); i++; }
                case "--activations" -> { act = v; i++; }
                default -> {
                    System.err.println("usage: bench onnx-kernels [--shapes NxK,...] [--configs id,...] [--m 1,64] "
                            + "[--reps 5] [--warmup 1] [--threads N] [--activations int8|fp32]");
                    System.exit(2);
                }
            }
        }
        OnnxRuntimeBackend.load().ifPresent(r -> {
            System.err.println(r);
            System.exit(2);
        });
        ActivationMode mode = ActivationMode.fromId(act);
        int accuracy = mode == ActivationMode.INT8 ? 4 : 1;
        if (threads > 0) {
            NativeKernels.setThreads(threads);
        }
        int ortThreads = threads > 0 ? threads : NativeKernels.threads();
        long llc = MachineInfo.lastLevelCacheBytes();
        List<Cell> cells = new ArrayList<>();
        System.out.printf(Locale.ROOT, "native %s threads %d vs ONNX Runtime 1.29.0 intra-op threads %d; activations %s "
                + "(ORT accuracy_level %d); LLC %d MB; %s%n", NativeKernels.isa().id(), NativeKernels.threads(), ortThreads,
                act, accuracy, llc >> 20, MachineInfo.cpuModel());
        for (String shape : shapes.split(",")) {
            String[] nk = shape.strip().split("x");
            int n = Integer.parseInt(nk[0]), k = Integer.parseInt(nk[1]);
            for (String config : configs.split(",")) {
                ConfigId id = ConfigId.parse(config.strip());
                Optional<String> no = OnnxLinear.cannotRun(id, k);
                if (no.isPresent()) {
                    cells.add(new Cell(shape, config, 0, "cannot run: " + no.get(), null, null, null, 0));
                    continue;
                }
                try (Arena arena = Arena.ofShared()) {
                    long bytes = QuantizedMatrix.allocate(id, n, k, arena).packedBytes();
                    int copies = (int) Math.min(32, Math.max(2, (4 * llc + bytes - 1) / bytes));
                    QuantizedMatrix[] w = new QuantizedMatrix[copies];
                    OnnxLinear[] ort = new OnnxLinear[copies];
                    try {
                        for (int c = 0; c < copies; c++) {
                            w[c] = QuantizedMatrix.random(id, n, k, 11 + c, arena);
                            ort[c] = new OnnxLinear(w[c], accuracy, ortThreads);
                        }
                        for (String mText : ms.split(",")) {
                            int m = Integer.parseInt(mText.strip());
                            cells.add(measure(shape, config, w, ort, m, mode, bytes, warmup, reps, arena));
                            Cell c = cells.getLast();
                            System.out.printf(Locale.ROOT, "%s %s M=%d: native %.1f GB/s, ORT %.1f GB/s, ORT/native %.2f%n",
                                    shape, config, m, c.nativeGbs().median(), c.ortGbs().median(), c.ortVsNative().estimate());
                        }
                    } finally {
                        for (OnnxLinear o : ort) {
                            if (o != null) {
                                o.close();
                            }
                        }
                    }
                }
            }
        }
        System.out.printf(Locale.ROOT, "%n| N×K | config | M | native GB/s | ORT GB/s | ORT / native (95%% CI) | native GFLOP/s | ORT GFLOP/s | what ORT ran |%n");
        System.out.println("|---|---|---:|---:|---:|---:|---:|---:|---|");
        for (Cell c : cells) {
            if (c.nativeGbs() == null) {
                System.out.printf(Locale.ROOT, "| %s | %s | – | – | – | – | – | – | %s |%n", c.shape(), c.config(), c.ort());
                continue;
            }
            String[] nk = c.shape().split("x");
            double flopPerByte = 2.0 * c.m() * Long.parseLong(nk[0]) * Long.parseLong(nk[1]) / c.bytes();
            System.out.printf(Locale.ROOT, "| %s | %s | %d | %.1f ± %.1f | %.1f ± %.1f | %.2f× [%.2f, %.2f] | %.1f | %.1f | %s |%n",
                    c.shape(), c.config(), c.m(), c.nativeGbs().median(), c.nativeGbs().sd(), c.ortGbs().median(),
                    c.ortGbs().sd(), c.ortVsNative().estimate(), c.ortVsNative().low(), c.ortVsNative().high(),
                    c.nativeGbs().median() * flopPerByte, c.ortGbs().median() * flopPerByte, c.ort());
        }
    }

    /**
     * Both engines' worker threads spin for a while after a call before they sleep (ours 1-3 ms, ONNX Runtime's
     * intra-op pool longer). On a 2-core machine an engine timed right after the other would share the cores with
     * those spinning threads, so every timed block starts after a pause that lets them go to sleep.
     */
    private static void settle() {
        try {
            Thread.sleep(SETTLE_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static final long SETTLE_MS = 200;

    private static Cell measure(String shape, String config, QuantizedMatrix[] w, OnnxLinear[] ort, int m,
                                ActivationMode mode, long bytes, int warmup, int reps, Arena arena) {
        int n = w[0].rows(), k = w[0].cols();
        if (!w[0].format().isQuantized()) {
            mode = ActivationMode.FP32; // dense weights always take fp32 activations (as ORT's MatMul)
        }
        MemorySegment x = arena.allocate(4L * m * k, 64);
        MemorySegment y = arena.allocate(4L * m * n, 64);
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(5);
        for (long i = 0; i < (long) m * k; i++) {
            x.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rnd.nextDouble(-1, 1));
        }
        for (OnnxLinear o : ort) {
            o.fillInput(m, 5);
        }
        // calls per sample: enough for ~30 ms at 20 GB/s, at least one pass over every copy
        int calls = (int) Math.max(w.length, Math.min(4000, 0.03 * 20e9 / bytes));
        double[] nat = new double[reps];
        double[] onnx = new double[reps];
        for (int round = 0; round < warmup + reps; round++) {
            for (int j = 0; j < 2; j++) {
                boolean nativeTurn = (j + round) % 2 == 0; // alternate which engine goes first
                settle();
                long t0 = System.nanoTime();
                for (int c = 0; c < calls; c++) {
                    if (nativeTurn) {
                        NativeKernels.gemm(w[c % w.length], mode, x, m, y);
                    } else {
                        ort[c % ort.length].run(m);
                    }
                }
                double gbs = (double) bytes * calls / (System.nanoTime() - t0);
                if (round >= warmup) {
                    (nativeTurn ? nat : onnx)[round - warmup] = gbs;
                }
            }
        }
        return new Cell(shape, config, m, ort[0].describe(), SampleStats.of(nat), SampleStats.of(onnx),
                PairedRatio.of(onnx, nat, 0.95), bytes);
    }
}
