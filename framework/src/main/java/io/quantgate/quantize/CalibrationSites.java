package io.quantgate.quantize;

/**
 * The input a linear layer reads, named once for the layers that share it: q, k and v read
 * {@code layers.<l>.attn.qkv}, gate and up {@code layers.<l>.mlp.gate_up}; o, down and the classifier have their own.
 * Calibration statistics are kept per site (one Gram matrix serves every linear that reads it).
 */
public final class CalibrationSites {
    private CalibrationSites() {
    }

    /** The site of a linear tensor (or of a fused name, which is its own site). */
    public static String of(String tensor) {
        String within = io.quantgate.kernels.format.QuantizationConfig.Rule.withinLayer(tensor);
        String prefix = tensor.substring(0, tensor.length() - within.length());
        return switch (within) {
            case "attn.q", "attn.k", "attn.v", "attn.qkv" -> prefix + "attn.qkv";
            case "mlp.gate", "mlp.up", "mlp.gate_up" -> prefix + "mlp.gate_up";
            default -> tensor;
        };
    }
}
