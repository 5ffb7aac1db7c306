package io.quantgate.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.quantgate.kernels.nativeimpl.ActivationMode;

import java.util.Arrays;
import java.util.Locale;

/** Helpers shared by the commands. */
final class Commands {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Commands() {
    }

    static ActivationMode activations(String v) {
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "fp32" -> ActivationMode.FP32;
            case "int8" -> ActivationMode.INT8;
            default -> throw new IllegalArgumentException("--activations must be fp32 or int8, got '" + v + "'");
        };
    }

    /** Human-readable value for the key: value output. */
    static String format(Object v) {
        if (v instanceof Double d) {
            return String.format(Locale.ROOT, Math.abs(d) >= 1e-3 || d == 0 ? "%.6f" : "%.4e", d);
        }
        if (v instanceof double[] a) {
            return Arrays.stream(a).mapToObj(Commands::format).toList().toString();
        }
        return String.valueOf(v);
    }
}
