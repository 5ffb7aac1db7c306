package io.quantgate.kernel;

import io.quantgate.kernels.format.QuantizedMatrix;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.kernels.nativeimpl.NativeKernels;

import java.lang.foreign.MemorySegment;
import java.util.Locale;
import java.util.Optional;

/**
 * {@code native}: QuantGate's C kernels ({@link NativeKernels#gemm}), the reference every other kernel is compared
 * with. Runs every format; reads the SPEC packing in place (no repacked copy), so its prepared bytes are the packed
 * bytes.
 */
public final class NativeLinearKernel implements LinearKernel {
    public static final String NAME = "native";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        try {
            return "QuantGate native kernels (" + NativeKernels.isa().id() + ", " + NativeKernels.threads() + " threads)";
        } catch (RuntimeException | LinkageError e) {
            return "QuantGate native kernels (not loaded)";
        }
    }

    @Override
    public Optional<String> unavailableReason() {
        try {
            NativeKernels.ensureLoaded();
            return Optional.empty();
        } catch (RuntimeException | LinkageError e) {
            return Optional.of("the native kernel library failed to load: " + e.getMessage());
        }
    }

    /** fp32, int8 and bf16 (vdpbf16ps where the CPU has AVX512_BF16, fp32 arithmetic on rounded values elsewhere). */
    @Override
    public java.util.Set<ActivationMode> activationModes() {
        return java.util.EnumSet.allOf(ActivationMode.class);
    }

    @Override
    public PreparedLinear prepare(QuantizedMatrix weights, ActivationMode activations) {
        ActivationMode act = weights.format().isQuantized() ? activations : ActivationMode.FP32;
        String what = "native " + NativeKernels.isa().id() + " " + weights.config() + ", "
                + act.name().toLowerCase(Locale.ROOT) + " activations (QuantGate's packing, read in place)";
        return new PreparedLinear() {
            @Override
            public String describe() {
                return what;
            }

            @Override
            public long preparedBytes() {
                return weights.packedBytes();
            }

            @Override
            public void gemm(MemorySegment x, int m, long ldx, MemorySegment y, long ldy) {
                NativeKernels.gemm(weights, act, x, m, ldx, y, ldy);
            }

            @Override
            public void close() {
                // the weights belong to the caller
            }
        };
    }
}
