package io.quantgate.kernels.nativeimpl;

/**
 * How activations enter a kernel: as fp32; quantized to int8 per block of 32 inside the call (docs/formats.md, "The
 * int8-activation path"), which only quantized weight formats offer; or rounded to bf16 (nearest even) together with
 * the dequantized weights, products summed in fp32 — what a bf16 dot-product unit ({@code vdpbf16ps}) computes, run on
 * it where the CPU has AVX512_BF16 and on fp32 arithmetic over the rounded values elsewhere.
 */
public enum ActivationMode {
    FP32("fp32"), INT8("int8"), BF16("bf16");

    private final String id;

    ActivationMode(String id) {
        this.id = id;
    }

    public String id() {
        return id;
    }

    int nativeCode() {
        return ordinal();
    }

    public static ActivationMode fromId(String id) {
        for (ActivationMode a : values()) {
            if (a.id.equalsIgnoreCase(id.trim())) {
                return a;
            }
        }
        throw new IllegalArgumentException("unknown activation mode '" + id + "' (valid: fp32, int8, bf16)");
    }
}
