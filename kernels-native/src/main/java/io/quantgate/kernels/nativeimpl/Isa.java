package io.quantgate.kernels.nativeimpl;

import java.util.Arrays;
import java.util.Locale;

/** The instruction-set tiers the native library is built for; the best supported one is the default. */
public enum Isa {
    SCALAR, AVX2, AVX512;

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
