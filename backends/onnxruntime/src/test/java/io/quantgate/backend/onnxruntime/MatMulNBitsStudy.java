package io.quantgate.backend.onnxruntime;

import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.format.QuantizedMatrix;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.kernels.nativeimpl.NativeKernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

/**
 * Why is MatMulNBits slow here (docs/backends.md, "Kernels vs ONNX Runtime")? One 4096 × 4096 matrix, M = 1, ORT alone
 * (no other kernel between its calls), median of back-to-back calls after a warmup, in variants that separate ORT's
 * fast path (prepacked MLAS n-bit GEMM) from its fallback (dequantize B, then SGEMM), thread spinning and a pause
 * before each call; and QuantGate's kernel on the same matrix the same way. Not a test: run with
 * {@code java -cp <test classpath> io.quantgate.backend.onnxruntime.MatMulNBitsStudy}. ORT logs at INFO, so its
 * "Falling back to using unpacked compute mode" line shows when it happens.
 */
public final class MatMulNBitsStudy {
    private MatMulNBitsStudy() {
    }

    record Variant(String label, String config, int level, int threads, Map<String, String> session, int pauseMs) {
    }

    public static void main(String[] args) throws Exception {
        System.setProperty("quantgate.onnx.log", "info");
        System.setProperty("quantgate.onnx.perSessionThreads", "true"); // the variants set their own threads
        int n = 4096, k = 4096, calls = args.length > 0 ? Integer.parseInt(args[0]) : 200;
        Variant[] variants = {
            new Variant("int4s-g32 level 4 (int8 compute), 2 threads", "int4s-g32", 4, 2, Map.of(), 0),
            new Variant("  same, prepacking disabled (forces the fallback)", "int4s-g32", 4, 2,
                    Map.of("session.disable_prepacking", "1"), 0),
            new Variant("  same, spinning off", "int4s-g32", 4, 2, Map.of("session.intra_op.allow_spinning", "0"), 0),
            new Variant("  same, 1 thread", "int4s-g32", 4, 1, Map.of(), 0),
            new Variant("  same, 200 ms pause before each call", "int4s-g32", 4, 2, Map.of(), 200),
            new Variant("int4s-g32 level 1 (fp32 compute)", "int4s-g32", 1, 2, Map.of(), 0),
            new Variant("int4-g128 level 4 (zero points)", "int4-g128", 4, 2, Map.of(), 0),
            new Variant("int8-g32 level 4", "int8-g32", 4, 2, Map.of(), 0),
            new Variant("int8-g32 level 1 (no 8-bit fp32 kernel)", "int8-g32", 1, 2, Map.of(), 0),
        };
        System.out.printf(Locale.ROOT, "MatMulNBits vs QuantGate, %d x %d, M = 1, median of %d calls (hot: the matrix "
                + "fits the LLC)%n%n| variant | µs/call | weight GB/s |%n|---|---:|---:|%n", n, k, calls);
        try (Arena arena = Arena.ofShared()) {
            for (Variant v : variants) {
                QuantizedMatrix w = QuantizedMatrix.random(ConfigId.parse(v.config()), n, k, 42, arena);
                try (OnnxLinear ort = new OnnxLinear(w, v.level(), v.threads(), v.session())) {
                    ort.fillInput(1, 7);
                    int reps = v.pauseMs() > 0 ? Math.min(calls, 20) : calls;
                    double[] us = new double[reps];
                    for (int i = 0; i < 20; i++) {
                        ort.run(1);
                    }
                    for (int i = 0; i < reps; i++) {
                        if (v.pauseMs() > 0) {
                            Thread.sleep(v.pauseMs());
                        }
                        long t0 = System.nanoTime();
                        ort.run(1);
                        us[i] = (System.nanoTime() - t0) / 1e3;
                    }
                    print(v.label(), us, ort.weightBytes());
                }
            }
            for (String config : new String[] {"int4s-g32", "int4-g128", "int8-g32"}) {
                QuantizedMatrix w = QuantizedMatrix.random(ConfigId.parse(config), n, k, 42, arena);
                NativeKernels.setThreads(2);
                MemorySegment x = arena.allocate(ValueLayout.JAVA_FLOAT, k);
                MemorySegment y = arena.allocate(ValueLayout.JAVA_FLOAT, n);
                for (int i = 0; i < k; i++) {
                    x.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) Math.sin(i));
                }
                double[] us = new double[calls];
                for (int i = 0; i < 20; i++) {
                    NativeKernels.gemm(w, ActivationMode.INT8, x, 1, y);
                }
                for (int i = 0; i < calls; i++) {
                    long t0 = System.nanoTime();
                    NativeKernels.gemm(w, ActivationMode.INT8, x, 1, y);
                    us[i] = (System.nanoTime() - t0) / 1e3;
                }
                print("QuantGate native " + config + ", int8 activations, 2 threads", us, w.packedBytes());
            }
        }
    }

    private static void print(String label, double[] us, long bytes) {
        double[] s = us.clone();
        Arrays.sort(s);
        double med = s[s.length / 2];
        System.out.printf(Locale.ROOT, "| %s | %.0f | %.1f |%n", label, med, bytes / (med * 1e3));
    }
}
