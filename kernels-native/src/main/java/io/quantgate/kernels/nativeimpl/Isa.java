package io.quantgate.kernels.nativeimpl;

import java.util.Arrays;
import java.util.Locale;

/**
 * The instruction-set tiers of the native library (the ordinal is the C library's {@code QG_ISA_*}); the best one the
 * CPU supports is the default. x86-64 builds have scalar, AVX2, AVX-512 and AVX-512 with AVX512_BF16 (the avx512 kernels
 * plus {@code vdpbf16ps} for bf16-activation GEMMs); aarch64 builds scalar, NEON and NEON with the dot-product
 * extension ({@code neon_dotprod}: NEON plus an {@code sdot} kernel for int8 activations, where the CPU has FEAT_DotProd).
 */
public enum Isa {
    SCALAR, AVX2, AVX512, NEON, AVX512BF16, NEON_DOTPROD;

    /** The name used by {@code -Dquantgate.isa=} and in benchmark output. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Isa fromId(String id) {
        for (Isa isa : values()) {
            if (isa.id().equals(id.trim().toLowerCase(Locale.ROOT))) {
                return isa;
            }
        }
        throw new IllegalArgumentException("unknown ISA '" + id + "' (valid: "
                + String.join(", ", Arrays.stream(values()).map(Isa::id).toList()) + ")");
    }
}
