package io.quantgate.kernels.format;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A named config of SPEC §2: which {@link ConfigId} each linear tensor of a model gets.
 *
 * <p>Parsing is strict on purpose: a config that does not parse must stop the run before any model is
 * loaded, with a message naming the rule that failed, rather than silently falling back to a default.
 */
public sealed interface QuantizationConfig
        permits QuantizationConfig.Uniform, QuantizationConfig.Mixed, QuantizationConfig.MixedAuto {

    /** The budget {@code mixed:auto} uses when none is given: halfway between 4-bit and 5-bit ids. */
    double DEFAULT_AUTO_BITS = 4.5;

    /**
     * The id for a tensor, or empty when the tensor keeps its default (unmatched by every rule).
     *
     * @throws UnsupportedOperationException for {@code mixed:auto}, whose choice depends on a measurement
     */
    Optional<ConfigId> idFor(String tensorName);

    /**
     * The config as users write it: a uniform config as its bare id ({@code fp4-g128}), the others as their
     * canonical text ({@code mixed:attn.*=fp4-g64,mlp.*=fp4-g128}). {@code parse(label())} gives an equal config.
     */
    default String label() {
        return this instanceof Uniform u ? u.id().toString() : toString();
    }

    /**
     * Parses {@code uniform:<id>}, {@code <id>}, {@code mixed:<pattern>=<id>,...},
     * {@code mixed:auto} and {@code mixed:auto[<bits>]}.
     */
    static QuantizationConfig parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("empty quantization config (expected <id>, uniform:<id>, "
                    + "mixed:<pattern>=<id>,... or mixed:auto[<bits>])");
        }
        String s = text.strip();
        int colon = s.indexOf(':');
        if (colon < 0) {
            return new Uniform(ConfigId.parse(s));
        }
        String kind = s.substring(0, colon);
        String body = s.substring(colon + 1).strip();
        return switch (kind) {
            case "uniform" -> {
                try {
                    yield new Uniform(ConfigId.parse(body));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("bad config '" + s + "': " + e.getMessage(), e);
                }
            }
            case "mixed" -> body.equals("auto") || body.startsWith("auto[") ? parseAuto(s, body) : parseMixed(s, body);
            default -> throw new IllegalArgumentException("unknown config kind '" + kind + "' in '" + s
                    + "' (valid: uniform:<id>, mixed:<pattern>=<id>,..., mixed:auto[<bits>], or a plain id)");
        };
    }

    private static QuantizationConfig parseAuto(String whole, String body) {
        if (body.equals("auto")) {
            return new MixedAuto(DEFAULT_AUTO_BITS);
        }
        if (!body.startsWith("auto[") || !body.endsWith("]")) {
            throw new IllegalArgumentException("bad config '" + whole + "': '" + body
                    + "' is not auto or auto[<bits per weight>]");
        }
        String bits = body.substring(5, body.length() - 1).strip();
        double b;
        try {
            b = Double.parseDouble(bits);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad config '" + whole + "': budget '" + bits
                    + "' is not a number of bits per weight", e);
        }
        try {
            return new MixedAuto(b);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("bad config '" + whole + "': " + e.getMessage(), e);
        }
    }

    private static QuantizationConfig parseMixed(String whole, String body) {
        if (body.isEmpty()) {
            throw new IllegalArgumentException("bad config '" + whole + "': no rules after 'mixed:'");
        }
        List<Rule> rules = new ArrayList<>();
        for (String raw : body.split(",", -1)) {
            String rule = raw.strip();
            if (rule.isEmpty()) {
                throw new IllegalArgumentException("bad config '" + whole + "': empty rule (stray comma)");
            }
            int eq = rule.indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException("bad rule '" + rule + "' in config '" + whole
                        + "': expected <pattern>=<id>");
            }
            String pattern = rule.substring(0, eq).strip();
            String id = rule.substring(eq + 1).strip();
            if (pattern.isEmpty()) {
                throw new IllegalArgumentException("bad rule '" + rule + "' in config '" + whole
                        + "': empty pattern");
            }
            try {
                rules.add(new Rule(pattern, ConfigId.parse(id)));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("bad rule '" + rule + "' in config '" + whole + "': "
                        + e.getMessage(), e);
            }
        }
        return new Mixed(rules);
    }

    /** The same id for every linear tensor ({@code uniform:<id>} or a plain id). */
    record Uniform(ConfigId id) implements QuantizationConfig {
        public Uniform {
            Objects.requireNonNull(id, "id");
        }

        @Override
        public Optional<ConfigId> idFor(String tensorName) {
            return Optional.of(id);
        }

        @Override
        public String toString() {
            return "uniform:" + id;
        }
    }

    /** Ordered glob rules; the first match wins so that specific rules can precede catch-alls. */
    record Mixed(List<Rule> rules) implements QuantizationConfig {
        public Mixed {
            rules = List.copyOf(rules);
            if (rules.isEmpty()) {
                throw new IllegalArgumentException("a mixed config needs at least one rule");
            }
        }

        @Override
        public Optional<ConfigId> idFor(String tensorName) {
            for (Rule r : rules) {
                if (r.matches(tensorName)) {
                    return Optional.of(r.id());
                }
            }
            return Optional.empty();
        }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder("mixed:");
            for (int i = 0; i < rules.size(); i++) {
                sb.append(i == 0 ? "" : ",").append(rules.get(i));
            }
            return sb.toString();
        }
    }

    /**
     * One {@code pattern=id} rule. The pattern is a glob ({@code *} any run of characters, {@code ?}
     * exactly one) over the whole tensor name; every other character, including {@code .}, is literal,
     * because tensor names are dotted paths and regex semantics would surprise users.
     */
    record Rule(String pattern, ConfigId id) {
        public Rule {
            Objects.requireNonNull(pattern, "pattern");
            Objects.requireNonNull(id, "id");
            if (pattern.isEmpty()) {
                throw new IllegalArgumentException("empty pattern in rule '=" + id + "'");
            }
        }

        /**
         * Whether the pattern matches the whole name or, for a per-layer name {@code layers.<l>.<rest>},
         * just {@code <rest>}: {@code attn.*} then covers every layer and {@code layers.0.*} one layer.
         */
        public boolean matches(String name) {
            return glob(pattern, name) || glob(pattern, withinLayer(name));
        }

        /** {@code "attn.q"} for {@code "layers.3.attn.q"}; the name itself when it is not a per-layer name. */
        public static String withinLayer(String name) {
            if (name.startsWith("layers.")) {
                int dot = name.indexOf('.', 7);
                if (dot > 7 && name.substring(7, dot).chars().allMatch(Character::isDigit)) {
                    return name.substring(dot + 1);
                }
            }
            return name;
        }

        @Override
        public String toString() {
            return pattern + "=" + id;
        }

        /** Iterative glob match with single-star backtracking: linear-ish and no recursion depth. */
        static boolean glob(String p, String s) {
            int pi = 0;
            int si = 0;
            int star = -1;
            int mark = 0;
            while (si < s.length()) {
                if (pi < p.length() && (p.charAt(pi) == '?' || p.charAt(pi) == s.charAt(si))) {
                    pi++;
                    si++;
                } else if (pi < p.length() && p.charAt(pi) == '*') {
                    star = pi++;
                    mark = si;
                } else if (star >= 0) {
                    pi = star + 1;
                    si = ++mark;
                } else {
                    return false;
                }
            }
            while (pi < p.length() && p.charAt(pi) == '*') {
                pi++;
            }
            return pi == p.length();
        }
    }

    /**
     * {@code mixed:auto[<bits>]}: per-tensor ids are chosen later from a sensitivity measurement under
     * an average bits-per-weight budget, so no tensor's id is known at parse time.
     */
    record MixedAuto(double bitsPerWeight) implements QuantizationConfig {
        public MixedAuto {
            if (!(bitsPerWeight > 0) || !(bitsPerWeight <= 32) || Double.isNaN(bitsPerWeight)) {
                throw new IllegalArgumentException("budget " + bitsPerWeight
                        + " bits per weight is outside (0, 32]");
            }
        }

        @Override
        public Optional<ConfigId> idFor(String tensorName) {
            throw new UnsupportedOperationException("needs a sensitivity measurement");
        }

        @Override
        public String toString() {
            return "mixed:auto[" + bitsPerWeight + "]";
        }
    }
}
