package io.quantgate.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.quantgate.kernel.external.ExternalKernel;
import io.quantgate.kernel.external.KernelException;
import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.format.QuantizedMatrix;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.kernels.reference.ReferenceKernels;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@code external-kernel:<command>}: a kernel in another process (here the C reference kernel of the tests) speaking
 * the line protocol over memory-mapped files; every way it can fail is a clear error, never a hang.
 */
class ExternalKernelTest {

    private static LinearKernel kernel(String mode) {
        return Kernels.byName(ReferenceKernelProcess.spec(mode));
    }

    @Test
    void aCorrectKernelInAnotherProcessMatchesTheOracleOnEveryFormat() {
        LinearKernel k = kernel("correct");
        assertThat(k).isInstanceOf(ExternalKernel.class);
        assertThat(k.unavailableReason()).isEmpty();
        assertThat(k.description()).contains("reference-kernel-correct");
        assertThat(k.activationModes()).containsExactly(ActivationMode.FP32);
        for (String id : List.of("fp32", "fp16", "bf16", "int8-g32", "int4-g64", "int4s-g32", "fp4-g128", "nf4-g64")) {
            KernelChecker.Result r = KernelChecker.check(k, ConfigId.parse(id), ActivationMode.FP32, 6, 7, 16, 1.0);
            assertThat(r.passed()).as("%s: %s", id, r.firstFailure()).isTrue();
            assertThat(r.outputs()).isPositive();
        }
        // int8 activations are not among what it says it runs
        assertThat(k.cannotRun(ConfigId.parse("int4-g128"), ActivationMode.INT8, 8, 8)).hasValueSatisfying(
                why -> assertThat(why).contains("takes [fp32] activations"));
    }

    @Test
    void leadingDimensionsAndPreparedBytesCrossTheProtocol() {
        try (Arena arena = Arena.ofConfined()) {
            QuantizedMatrix w = QuantizedMatrix.random(ConfigId.parse("int4-g32"), 33, 70, 3, arena);
            int m = 3;
            long ldx = 80, ldy = 40;
            float[] x = new float[m * 70];
            SplittableRandom rnd = new SplittableRandom(1);
            MemorySegment xs = arena.allocate(4L * m * ldx, 64);
            for (int i = 0; i < m; i++) {
                for (int c = 0; c < 70; c++) {
                    x[i * 70 + c] = (float) rnd.nextDouble(-1, 1);
                    xs.setAtIndex(ValueLayout.JAVA_FLOAT, i * ldx + c, x[i * 70 + c]);
                }
            }
            MemorySegment ys = arena.allocate(4L * m * ldy, 64);
            ys.fill((byte) 0x7f); // anything outside the rows must stay as it was
            try (Linear l = Linear.prepare(kernel("correct"), w, ActivationMode.FP32)) {
                assertThat(l.preparedBytes()).isEqualTo(w.packedBytes());
                l.gemm(xs, m, ldx, ys, ldy);
            }
            double[] ref = ReferenceKernels.matmulExact(w, x, m);
            for (int i = 0; i < m; i++) {
                for (int r = 0; r < 33; r++) {
                    assertThat((double) ys.getAtIndex(ValueLayout.JAVA_FLOAT, i * ldy + r))
                            .isCloseTo(ref[i * 33 + r], org.assertj.core.data.Offset.offset(1e-4));
                }
                assertThat(ys.get(ValueLayout.JAVA_BYTE, 4L * (i * ldy + 33))).isEqualTo((byte) 0x7f);
            }
        }
    }

    @Test
    void aWrongNibbleOrderIsCaughtNamingShapeElementAndBound() {
        KernelChecker.Result r = KernelChecker.check(kernel("swap-nibbles"), ConfigId.parse("int4-g64"),
                ActivationMode.FP32, 4, 7, 8, 1.0);
        assertThat(r.passed()).isFalse();
        assertThat(r.firstFailure()).startsWith("int4-g64 ").contains(" M=").contains("element [")
                .contains("expected ").contains(", got ").contains("> bound ");
        // dense formats have no nibbles: the same process is right there
        assertThat(KernelChecker.check(kernel("swap-nibbles"), ConfigId.parse("fp16"), ActivationMode.FP32, 3, 7, 8,
                1.0).passed()).isTrue();
    }

    private static void gemmOnce(String mode, Duration timeout) {
        LinearKernel k = new ExternalKernel(List.of(ReferenceKernelProcess.binary().toString(), mode), timeout);
        try (Arena arena = Arena.ofConfined();
             Linear l = Linear.prepare(k, QuantizedMatrix.random(ConfigId.parse("int8"), 8, 16, 1, arena),
                     ActivationMode.FP32)) {
            l.gemm(arena.allocate(4L * 16, 64), 1, arena.allocate(4L * 8, 64));
        }
    }

    @Test
    void aCrashWhilePreparingIsAClearErrorWithTheExitCodeAndStderr() {
        assertThatThrownBy(() -> gemmOnce("crash-on-prepare", Duration.ofSeconds(30)))
                .isInstanceOf(KernelException.class)
                .hasMessageContaining("exited while answering 'prepare' with exit code 3")
                .hasMessageContaining("simulated crash while preparing");
    }

    @Test
    void anErrorReplyCarriesTheKernelsMessage() {
        assertThatThrownBy(() -> gemmOnce("error-on-gemm", Duration.ofSeconds(30)))
                .isInstanceOf(KernelException.class)
                .hasMessageContaining("failed 'gemm': simulated failure: no device memory");
    }

    @Test
    void aMalformedReplyIsAClearErrorAndTheProcessIsKilled() {
        assertThatThrownBy(() -> gemmOnce("malformed", Duration.ofSeconds(30)))
                .isInstanceOf(KernelException.class)
                .hasMessageContaining("answered 'gemm' with a line that is neither 'ok ...' nor 'error ...': "
                        + "'this is not a reply'");
    }

    @Test
    void aKernelThatDoesNotAnswerTimesOutAndIsKilled() {
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> gemmOnce("hang-on-gemm", Duration.ofSeconds(1)))
                    .isInstanceOf(KernelException.class)
                    .hasMessageContaining("did not answer 'gemm' within 1.0 s; it was killed");
            assertThat((System.nanoTime() - t0) / 1e9).isLessThan(20);
        });
    }

    @Test
    void aKernelWithoutACommandOrThatCannotStartSaysWhy() {
        assertThat(Kernels.byName("external-kernel").unavailableReason()).hasValueSatisfying(
                why -> assertThat(why).contains("no command"));
        assertThat(Kernels.byName("external-kernel:/nonexistent/kernel").unavailableReason()).hasValueSatisfying(
                why -> assertThat(why).contains("cannot start external kernel '/nonexistent/kernel'"));
        assertThatThrownBy(() -> Kernels.byName("tinygemm")).hasMessageContaining("no linear kernel named 'tinygemm'")
                .hasMessageContaining("native");
    }
}
