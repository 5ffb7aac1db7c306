package io.quantgate.kernels.format;

import java.util.Objects;

/**
 * How a tensor's codes are chosen, on top of its {@link ConfigId} (which fixes what the codes mean): written as
 * {@code +} suffixes of an id, e.g. {@code int4-g64+gptq}, {@code fp4-g128+had+gptq}, {@code int4s-g32+imatrix}.
 * Every recipe produces the id's ordinary packed codes, so every kernel and export runs them unchanged; only
 * {@code +had} changes the model (its activations are rotated online).
 *
 * @param method   how codes and scales are chosen
 * @param hadamard whether the weights (and, online, the activations) are rotated by a randomized block Hadamard
 *                 transform along K before quantization
 * @param actOrder for GPTQ: quantize columns in order of decreasing Hessian diagonal, with group scales fixed from
 *                 the original weights first ("static groups", so the stored layout is unchanged)
 */
public record Recipe(Method method, boolean hadamard, boolean actOrder) {

    /** Round-to-nearest with the SPEC's scales: what a bare id means. */
    public static final Recipe RTN = new Recipe(Method.RTN, false, false);

    /** How codes and scales are chosen. */
    public enum Method {
        /** SPEC §1 round to nearest, scale from the group's absmax (or min/max). */
        RTN("rtn"),
        /** Per group the scale (and zero) that minimize the error weighted by each column's mean squared activation. */
        IMATRIX("imatrix"),
        /** GPTQ: column by column with error feedback through the inverse Hessian of the calibration activations. */
        GPTQ("gptq");

        private final String id;

        Method(String id) {
            this.id = id;
        }

        public String id() {
            return id;
        }

        /** Whether this method needs calibration activations. */
        public boolean calibrated() {
            return this != RTN;
        }
    }

    public Recipe {
        Objects.requireNonNull(method, "method");
        if (actOrder && method != Method.GPTQ) {
            throw new IllegalArgumentException("'+act' (activation order) applies to '+gptq' only");
        }
    }

    /** Whether anything here needs calibration activations (the Hessian or the importance of columns). */
    public boolean needsCalibration() {
        return method.calibrated();
    }

    /** The suffix as users write it: {@code ""}, {@code "+gptq"}, {@code "+had+gptq+act"}, ... */
    public String suffix() {
        return (hadamard ? "+had" : "") + (method == Method.RTN ? "" : "+" + method.id()) + (actOrder ? "+act" : "");
    }

    /**
     * Parses the {@code +}-separated modifiers after an id (without the id), e.g. {@code "had+gptq"}; each at
     * most once, {@code gptq} and {@code imatrix} exclusive.
     *
     * @param whole the whole id, quoted in errors
     */
    static Recipe parseSuffixes(String whole, String[] parts, ConfigId id) {
        Method method = Method.RTN;
        boolean had = false;
        boolean act = false;
        for (int i = 1; i < parts.length; i++) {
            String p = parts[i].strip();
            switch (p) {
                case "gptq", "imatrix" -> {
                    if (method != Method.RTN) {
                        throw new IllegalArgumentException("bad config id '" + whole + "': '+" + p
                                + "' after '+" + method.id() + "' (one calibration method per id: gptq or imatrix)");
                    }
                    method = p.equals("gptq") ? Method.GPTQ : Method.IMATRIX;
                }
                case "had" -> {
                    if (had) {
                        throw new IllegalArgumentException("bad config id '" + whole + "': '+had' given twice");
                    }
                    had = true;
                }
                case "act" -> {
                    if (act) {
                        throw new IllegalArgumentException("bad config id '" + whole + "': '+act' given twice");
                    }
                    act = true;
                }
                default -> throw new IllegalArgumentException("bad config id '" + whole + "': unknown modifier '+"
                        + p + "' (valid: +gptq, +imatrix, +had, +act)");
            }
        }
        if (act && method != Method.GPTQ) {
            throw new IllegalArgumentException("bad config id '" + whole + "': '+act' (activation order) needs '+gptq'");
        }
        if (method != Method.RTN && !id.format().isQuantized()) {
            throw new IllegalArgumentException("bad config id '" + whole + "': '+" + method.id() + "' chooses codes and "
                    + "scales, but dense format '" + id.format().id() + "' has none");
        }
        return new Recipe(method, had, act);
    }
}
