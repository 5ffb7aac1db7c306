package io.quantgate.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The kernel correctness check: the native kernels pass it everywhere, a wrong kernel is caught and described. */
class KernelCheckerTest {

    @Test
    void theNativeKernelsPassOnEveryFormatAndActivationMode() {
        for (String id : List.of("fp32", "fp16", "bf16", "int8", "int8-g32", "int4-g32", "int4-g128", "int4s-g64",
                "fp4-g32", "fp4-g128", "nf4-g64")) {
            for (ActivationMode a : ActivationMode.values()) {
                KernelChecker.Result r = KernelChecker.check(new NativeLinearKernel(), ConfigId.parse(id), a, 12, 3,
                        64, 1.0);
                assertThat(r.passed()).as("%s %s: %s", id, a, r.firstFailure()).isTrue();
                assertThat(r.cases()).isEqualTo(12);
                assertThat(r.worstRatio()).as("%s %s", id, a).isLessThanOrEqualTo(1.0);
            }
        }
    }

    @Test
    void aPlainJavaKernelPassesAndAWrongNibbleOrderFailsNamingTheElement() {
        assertThat(KernelChecker.check(new PlainJavaKernel(), ConfigId.parse("fp4-g32"), ActivationMode.FP32, 8, 5,
                16, 1.0).passed()).isTrue();
        KernelChecker.Result bad = KernelChecker.check(new PlainJavaKernel.WrongNibbles(), ConfigId.parse("int4s-g32"),
                ActivationMode.FP32, 8, 5, 16, 1.0);
        assertThat(bad.passed()).isFalse();
        assertThat(bad.violations()).isPositive();
        assertThat(bad.worstRatio()).isGreaterThan(1.0);
        assertThat(bad.firstFailure()).matches("int4s-g32 \\d+x\\d+ M=\\d+ \\(fp32 activations.*\\), element \\[\\d+\\]"
                + "\\[\\d+\\]: expected .*, got .*, \\|error\\| .* > bound .*");
    }

    @Test
    void theShapesAreTheHardOnes() {
        // odd N, K not a multiple of the group, an all-zero group and extreme scales among them; M up to maxBatch
        var cases = new java.util.ArrayList<String>();
        LinearKernel spy = new LinearKernel() {
            private final LinearKernel inner = new NativeLinearKernel();

            @Override
            public String name() {
                return "spy";
            }

            @Override
            public String description() {
                return "the native kernel, noting shapes";
            }

            @Override
            public PreparedLinear prepare(io.quantgate.kernels.format.QuantizedMatrix w, ActivationMode a) {
                cases.add(w.rows() + "x" + w.cols());
                return inner.prepare(w, a);
            }
        };
        KernelChecker.check(spy, ConfigId.parse("int4-g64"), ActivationMode.INT8, 9, 11, 64, 1.0);
        assertThat(cases).hasSize(9).allSatisfy(s -> assertThat(Integer.parseInt(s.split("x")[0]) % 2).isOne());
        assertThat(cases.stream().filter(s -> Integer.parseInt(s.split("x")[1]) % 64 != 0)).hasSizeGreaterThan(4);
        assertThatThrownBy(() -> KernelChecker.check(spy, ConfigId.parse("fp16"), ActivationMode.FP32, 0, 1, 1, 1))
                .hasMessageContaining("cases and maxBatch must be >= 1");
    }
}
