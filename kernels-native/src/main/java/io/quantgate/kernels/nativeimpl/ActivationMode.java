package io.quantgate.kernels.nativeimpl;

/**
 * How activations enter a kernel: as fp32, or quantized to int8 per block of 32 inside the call
 * (docs/formats.md, "The int8-activation path"), which only quantized weight formats offer.
 */
public enum ActivationMode {
    FP32("fp32"), INT8("int8");

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
        throw new IllegalArgumentException("unknown activation mode '" + id + "' (valid: fp32, int8)");
    }
}
