package io.quantgate.kernel;

import io.quantgate.kernels.format.QuantizedMatrix;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.kernels.nativeimpl.Isa;
import io.quantgate.kernels.nativeimpl.NativeKernels;
import io.quantgate.kernels.nativeimpl.WeightArena;

import java.lang.foreign.Arena;
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

    /**
     * Int8 activations also get the weights prepacked as 16-row panels ({@link NativeKernels#packPanels}), which
     * batched calls ({@code m > 4}) read instead of transposing the weights each time (bit-identical results) and
     * decode reads as one forward stream (faster from DRAM than the row-major codes). The panels' memory sits next to
     * the codes (their size again); the codes still serve fp32 and bf16 activations and the other tiers.
     */
    @Override
    public PreparedLinear prepare(QuantizedMatrix weights, ActivationMode activations) {
        ActivationMode act = weights.format().isQuantized() ? activations : ActivationMode.FP32;
        // only the AVX-512 tiers read either kind of panels (the others run on the row-major codes): no memory spent
        // elsewhere, nor when another tier is selected on an AVX-512 machine
        Isa isa = NativeKernels.isa();
        boolean avx512 = isa == Isa.AVX512 || isa == Isa.AVX512BF16;
        boolean packed = avx512 && act == ActivationMode.INT8;
        // fp32 activations with small K (stories-class models): the weights dequantized and transposed once for the
        // small-K GEMM, which would otherwise do it on every call (perplexity runs thousands)
        boolean smallK = avx512 && act == ActivationMode.FP32 && NativeKernels.smallKBytes(weights) > 0;
        Arena arena = packed || smallK ? WeightArena.ofShared() : null; // huge pages, as the codes
        NativeKernels.PackedPanels panels;
        NativeKernels.SmallKPanels nt;
        try {
            panels = packed ? NativeKernels.packPanels(weights, arena) : null;
            nt = smallK ? NativeKernels.packSmallK(weights, arena) : null;
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
        String what = "native " + isa.id() + " " + weights.config() + ", "
                + act.name().toLowerCase(Locale.ROOT) + " activations (QuantGate's packing, read in place"
                + (packed ? "; 16-row panels prepacked for decode and batched calls" : "")
                + (nt != null ? "; small-K fp32 panels prepacked for batched calls" : "") + ")";
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
                if (nt != null && m > 4) {
                    NativeKernels.gemmSmallK(weights, x, m, ldx, y, ldy, nt);
                } else {
                    NativeKernels.gemm(weights, act, x, m, ldx, y, ldy, panels);
                }
            }

            @Override
            public void close() {
                // the weights belong to the caller; the panels are ours
                if (arena != null && arena.scope().isAlive()) {
                    arena.close();
                }
            }
        };
    }
}
