package io.quantgate.backend.javavector;

import io.quantgate.kernel.KernelChecker;
import io.quantgate.kernel.Kernels;
import io.quantgate.kernel.LinearKernel;
import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code java-vector} as a linear kernel: found by name, and within the bound of docs/kernels.md on hard shapes. */
class JavaVectorLinearKernelTest {

    @Test
    void theVectorApiKernelsPassTheCorrectnessGateOnEveryFormatTheyRun() {
        LinearKernel k = Kernels.byName("java-vector");
        assertThat(k).isInstanceOf(JavaVectorLinearKernel.class);
        assertThat(k.unavailableReason()).isEmpty();
        for (String id : new String[] {"fp32", "fp16", "int8-g32", "int4-g64", "int4s-g32", "int4-g128"}) {
            KernelChecker.Result r = KernelChecker.check(k, ConfigId.parse(id), ActivationMode.FP32, 12, 7, 64, 1.0);
            assertThat(r.passed()).as("%s: %s", id, r.firstFailure()).isTrue();
            assertThat(r.cases()).isEqualTo(12);
        }
    }

    @Test
    void formatsWithoutAVectorKernelAndInt8ActivationsAreRefusedWithTheReason() {
        LinearKernel k = Kernels.byName("java-vector");
        assertThat(k.cannotRun(ConfigId.parse("nf4-g64"), ActivationMode.FP32, 64, 64)).isPresent();
        assertThat(k.cannotRun(ConfigId.parse("int4-g64"), ActivationMode.INT8, 64, 64)).isPresent();
    }
}
