package io.quantgate.backend.onnxruntime;

import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.format.QuantizedMatrix;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The ONNX graphs run QuantGate's weights exactly: with fp32 compute (accuracy_level 1) every output agrees with an
 * fp64 product of QuantGate's own dequantized weights to fp32 rounding; a wrong nibble order, zero point or scale
 * would be off by whole quantization steps.
 */
class OnnxLinearTest {

    @BeforeAll
    static void onnxRuntimeLoads() {
        OnnxRuntimeBackend.load().ifPresent(r -> Assumptions.abort("skipped: " + r));
    }

    static double worstRelativeError(String config, int n, int k, int m, int accuracy) {
        try (Arena arena = Arena.ofConfined()) {
            QuantizedMatrix w = QuantizedMatrix.random(ConfigId.parse(config), n, k, 7, arena);
            SplittableRandom rnd = new SplittableRandom(3);
            float[] x = new float[m * k];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) rnd.nextDouble(-1, 1);
            }
            float[] deq = w.dequantize();
            try (OnnxLinear o = new OnnxLinear(w, accuracy, 1)) {
                float[] y = o.apply(x, m);
                double worst = 0;
                for (int i = 0; i < m; i++) {
                    for (int r = 0; r < n; r++) {
                        double ref = 0, mag = 0;
                        for (int c = 0; c < k; c++) {
                            double xv = config.equals("fp16") ? Float.float16ToFloat(Float.floatToFloat16(x[i * k + c])) : x[i * k + c];
                            ref += (double) deq[r * k + c] * xv;
                            mag += Math.abs((double) deq[r * k + c] * xv);
                        }
                        worst = Math.max(worst, Math.abs(y[i * n + r] - ref) / mag);
                    }
                }
                return worst;
            }
        }
    }

    @Test
    void everyMappedFormatIsExactWithFp32Compute() {
        for (String config : new String[] {"int4s-g32", "int4-g32", "int4-g64", "int4-g128", "int8-g32", "int8-g128", "fp32"}) {
            double e = worstRelativeError(config, 96, 256, 3, 1);
            System.out.printf("%s: worst |y - y64| / sum|w x| = %.2e%n", config, e);
            // fp32 accumulation over 256 terms: ~1e-7 relative to the sum of magnitudes; one wrong code would be ~1e-2
            assertThat(e).as(config).isLessThan(1e-5);
        }
    }

    @Test
    void int8ActivationsAndFp16AreCloseButNotExact() {
        // accuracy_level 4 quantizes A to int8 per block (as our native int8 path does): ~1e-3 of the magnitudes
        assertThat(worstRelativeError("int4s-g32", 64, 256, 2, 4)).isLessThan(2e-2);
        // fp16 MatMul rounds the output to fp16 as well
        assertThat(worstRelativeError("fp16", 64, 256, 2, 0)).isLessThan(2e-3);
    }

    @Test
    void asAModelBackendEveryPlanSaysItRunsAtKernelLevelOnly() {
        try (var w = io.quantgate.runtime.ModelFiles.open("synthetic:tiny")) {
            var plan = io.quantgate.backend.Backends.byName("onnxruntime").plan(w,
                    io.quantgate.kernels.format.QuantizationConfig.parse("int4s-g32"));
            assertThat(plan.runnable()).isFalse();
            assertThat(plan.describe()).startsWith("cannot run: whole models are not built as ONNX graphs")
                    .contains("MatMulNBits 4-bit block 32, codes ^ 0x88, zero point 8, from int4s-g32 (bit-exact)");
        }
    }

    /**
     * Through the kernel SPI (what {@code bench kernels --kernel onnxruntime} times): the off-heap gemm gives the very
     * outputs of the array path, and the provider is found by name.
     */
    @Test
    void theLinearKernelGivesTheSameOutputsAsTheGraph() {
        var kernel = io.quantgate.kernel.Kernels.byName("onnxruntime");
        assertThat(kernel).isInstanceOf(OnnxLinearKernel.class);
        assertThat(kernel.cannotRun(ConfigId.parse("nf4-g64"), io.quantgate.kernels.nativeimpl.ActivationMode.INT8, 64,
                256)).hasValueSatisfying(r -> assertThat(r).contains("code book"));
        for (String config : new String[] {"int4s-g32", "fp16", "fp32"}) {
            int n = 48, k = 256, m = 3;
            try (Arena arena = Arena.ofConfined()) {
                QuantizedMatrix w = QuantizedMatrix.random(ConfigId.parse(config), n, k, 9, arena);
                float[] x = new float[m * k];
                SplittableRandom rnd = new SplittableRandom(4);
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) rnd.nextDouble(-1, 1);
                }
                // rows with leading dimensions wider than K and N: the gaps must stay untouched
                long ldx = k + 5, ldy = n + 3;
                var xs = arena.allocate(4L * ldx * m, 64);
                var ys = arena.allocate(4L * ldy * m, 64);
                ys.fill((byte) 0x7f);
                for (int i = 0; i < m; i++) {
                    java.lang.foreign.MemorySegment.copy(x, i * k, xs, java.lang.foreign.ValueLayout.JAVA_FLOAT,
                            4L * i * ldx, k);
                }
                float[] viaArrays;
                try (OnnxLinear o = new OnnxLinear(w, 1, 1)) {
                    viaArrays = o.apply(x, m);
                }
                long expectedBytes = switch (config) {
                    case "int4s-g32" -> (long) n * k / 2 + (long) n * (k / 32) * 4; // codes + fp32 scales
                    case "fp16" -> 2L * n * k;
                    default -> 4L * n * k;
                };
                try (var p = io.quantgate.kernel.Linear.prepare(kernel, w,
                        io.quantgate.kernels.nativeimpl.ActivationMode.FP32)) {
                    assertThat(p.describe()).contains("ONNX Runtime");
                    assertThat(p.preparedBytes()).isEqualTo(expectedBytes);
                    p.gemm(xs, m, ldx, ys, ldy);
                }
                for (int i = 0; i < m; i++) {
                    for (int r = 0; r < n; r++) {
                        assertThat(ys.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i * ldy + r)).as(config)
                                .isEqualTo(viaArrays[i * n + r]);
                    }
                    for (long r = n; r < ldy; r++) {
                        assertThat(ys.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 4 * (i * ldy + r))).isEqualTo((byte) 0x7f);
                    }
                }
            }
        }
    }

    @Test
    void formatsWithoutALinearDequantizationCannotRun() {
        assertThat(OnnxLinear.cannotRun(ConfigId.parse("fp4-g32"), 256)).hasValueSatisfying(r -> assertThat(r)
                .contains("needs a code book"));
        assertThat(OnnxLinear.cannotRun(ConfigId.parse("int4-g64"), 96)).hasValueSatisfying(r -> assertThat(r)
                .contains("not a multiple of the group 64"));
        assertThat(OnnxLinear.cannotRun(ConfigId.parse("int4s-g32"), 256)).isEmpty();
    }

    /** Session config entries for studying ORT's fast path: parsed strictly, a malformed entry named. */
    @Test
    void sessionConfigEntriesAreKeyValuePairs() {
        assertThat(OnnxLinear.sessionConfig(" session.disable_prepacking = 1;session.force_spinning_stop=1;"))
                .containsExactly(java.util.Map.entry("session.disable_prepacking", "1"),
                        java.util.Map.entry("session.force_spinning_stop", "1"));
        assertThat(OnnxLinear.sessionConfig("")).isEmpty();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> OnnxLinear.sessionConfig("novalue"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'novalue' is not key=value");
    }
}
