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
     * How the tensor's codes are chosen ({@link Recipe#RTN} unless its id carries {@code +gptq}, {@code +imatrix},
     * {@code +had}); meaningful only where {@link #idFor} gives an id.
     */
    default Recipe recipeFor(String tensorName) {
        return Recipe.RTN;
    }

    /**
     * Whether running this config needs calibration activations: a calibrated recipe ({@code +gptq},
     * {@code +imatrix}) anywhere, or {@code mixed:auto} (whose choice is measured on calibration text).
     */
    default boolean needsCalibration() {
        return false;
    }

    /** Whether any tensor is rotated ({@code +had}): only an engine that rotates activations online can run it. */
    default boolean rotates() {
        return false;
    }

    /**
     * The config as users write it: a uniform config as its bare id ({@code fp4-g128}), the others as their
     * canonical text ({@code mixed:attn.*=fp4-g64,mlp.*=fp4-g128}). {@code parse(label())} gives an equal config.
     */
    default String label() {
        return this instanceof Uniform u ? u.id() + u.recipe().suffix() : toString();
    }

    /**
     * Parses {@code uniform:<id>}, {@code <id>}, {@code mixed:<pattern>=<id>,...},
     * {@code mixed:auto}, {@code mixed:auto[<bits>]} and {@code mixed:auto[<bits>,<format>,...]}; every id may carry
     * {@link Recipe} suffixes ({@code int4-g64+gptq}).
     */
    static QuantizationConfig parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("empty quantization config (expected <id>, uniform:<id>, "
                    + "mixed:<pattern>=<id>,... or mixed:auto[<bits>])");
        }
        String s = text.strip();
        int colon = s.indexOf(':');
        if (colon < 0) {
            Choice c = Choice.parse(s);
            return new Uniform(c.id(), c.recipe());
        }
        String kind = s.substring(0, colon);
        String body = s.substring(colon + 1).strip();
        return switch (kind) {
            case "uniform" -> {
                try {
                    Choice c = Choice.parse(body);
                    yield new Uniform(c.id(), c.recipe());
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
                    + "' is not auto, auto[<bits per weight>] or auto[<bits per weight>,<format>,...]");
        }
        String[] parts = body.substring(5, body.length() - 1).split(",", -1);
        String bits = parts[0].strip();
        double b = Double.NaN;
        ConfigId budgetId = null;
        try {
            b = Double.parseDouble(bits);
        } catch (NumberFormatException e) {
            try {
                budgetId = ConfigId.parse(bits);
            } catch (IllegalArgumentException notId) {
                throw new IllegalArgumentException("bad config '" + whole + "': budget '" + bits
                        + "' is neither a number of bits per weight nor a config id whose size to match ("
                        + notId.getMessage() + ")", e);
            }
        }
        List<WeightFormat> formats = new ArrayList<>();
        MixedAuto.Objective objective = MixedAuto.Objective.KLD;
        for (int i = 1; i < parts.length; i++) {
            String f = parts[i].strip();
            if (f.equals("kld") || f.equals("ppl")) {
                if (i != parts.length - 1) {
                    throw new IllegalArgumentException("bad config '" + whole + "': the objective '" + f
                            + "' goes last, after the candidate formats");
                }
                objective = f.equals("kld") ? MixedAuto.Objective.KLD : MixedAuto.Objective.PPL;
                continue;
            }
            WeightFormat wf = null;
            for (WeightFormat v : WeightFormat.values()) {
                if (v.id().equals(f)) {
                    wf = v;
                }
            }
            if (wf == null || !wf.isQuantized()) {
                throw new IllegalArgumentException("bad config '" + whole + "': candidate format '" + f
                        + "' is not one of int8, int4, int4s, fp4, nf4 (or the objective kld or ppl, last)");
            }
            if (formats.contains(wf)) {
                throw new IllegalArgumentException("bad config '" + whole + "': candidate format '" + f
                        + "' given twice");
            }
            formats.add(wf);
        }
        try {
            List<WeightFormat> cands = formats.isEmpty() ? MixedAuto.DEFAULT_FORMATS : formats;
            return new MixedAuto(budgetId != null ? Double.NaN : b, budgetId, cands, objective);
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
                Choice c = Choice.parse(id);
                rules.add(new Rule(pattern, c.id(), c.recipe()));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("bad rule '" + rule + "' in config '" + whole + "': "
                        + e.getMessage(), e);
            }
        }
        return new Mixed(rules);
    }

    /** An id with its recipe, as written in a config: {@code int4-g64}, {@code fp4-g128+had+gptq}. */
    record Choice(ConfigId id, Recipe recipe) {
        public Choice {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(recipe, "recipe");
        }

        /** Parses {@code <format>[-g<group>][+modifier...]}. */
        public static Choice parse(String text) {
            if (text == null || text.isBlank()) {
                return new Choice(ConfigId.parse(text), Recipe.RTN); // ConfigId's "empty config id" message
            }
            String whole = text.strip();
            String[] parts = whole.split("\\+", -1);
            ConfigId id = ConfigId.parse(parts[0]);
            return new Choice(id, Recipe.parseSuffixes(whole, parts, id));
        }

        @Override
        public String toString() {
            return id + recipe.suffix();
        }
    }

    /** The same id for every linear tensor ({@code uniform:<id>} or a plain id). */
    record Uniform(ConfigId id, Recipe recipe) implements QuantizationConfig {
        public Uniform {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(recipe, "recipe");
        }

        /** Round to nearest. */
        public Uniform(ConfigId id) {
            this(id, Recipe.RTN);
        }

        @Override
        public Optional<ConfigId> idFor(String tensorName) {
            return Optional.of(id);
        }

        @Override
        public Recipe recipeFor(String tensorName) {
            return recipe;
        }

        @Override
        public boolean needsCalibration() {
            return recipe.needsCalibration();
        }

        @Override
        public boolean rotates() {
            return recipe.hadamard();
        }

        @Override
        public String toString() {
            return "uniform:" + id + recipe.suffix();
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
            return rule(tensorName).map(Rule::id);
        }

        @Override
        public Recipe recipeFor(String tensorName) {
            return rule(tensorName).map(Rule::recipe).orElse(Recipe.RTN);
        }

        /** The first rule matching the tensor. */
        public Optional<Rule> rule(String tensorName) {
            for (Rule r : rules) {
                if (r.matches(tensorName)) {
                    return Optional.of(r);
                }
            }
            return Optional.empty();
        }

        @Override
        public boolean needsCalibration() {
            return rules.stream().anyMatch(r -> r.recipe().needsCalibration());
        }

        @Override
        public boolean rotates() {
            return rules.stream().anyMatch(r -> r.recipe().hadamard());
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
    record Rule(String pattern, ConfigId id, Recipe recipe) {
        /** Round to nearest. */
        public Rule(String pattern, ConfigId id) {
            this(pattern, id, Recipe.RTN);
        }

        public Rule {
            Objects.requireNonNull(pattern, "pattern");
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(recipe, "recipe");
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
            return pattern + "=" + id + recipe.suffix();
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
     * {@code mixed:auto[<bits>]}: per-tensor ids are chosen later from a sensitivity measurement under an average
     * bits-per-weight budget, so no tensor's id is known at parse time. The budget is a number of bits per weight or an
     * id whose size on the model is to be matched ({@code mixed:auto[fp4-g128]}: as many bits as fp4-g128 takes there,
     * short groups included). The candidates are every group size of the listed formats
     * ({@code mixed:auto[4.25,fp4,int8]}; all quantized formats when none is listed). The objective, last, says what a
     * tensor's sensitivity is: {@code kld} (default), the mean KL divergence from the unquantized model, or
     * {@code ppl}, the change of the calibration text's mean log-likelihood ({@code mixed:auto[fp4-g128,ppl]}).
     *
     * @param bitsPerWeight the budget in bits per weight, or NaN when {@code budgetId} gives it
     * @param budgetId      the id whose size on the model is the budget, or null
     */
    record MixedAuto(double bitsPerWeight, ConfigId budgetId, List<WeightFormat> formats, Objective objective)
            implements QuantizationConfig {
        /** What a tensor's sensitivity to a candidate id is measured as. */
        public enum Objective {
            /** Mean KL divergence of the next-token distribution from the unquantized model's: fidelity. */
            KLD,
            /** Change of the mean negative log-likelihood of the calibration text: perplexity, log scale. */
            PPL
        }

        /** The candidate formats when none are listed. */
        public static final List<WeightFormat> DEFAULT_FORMATS = List.of(WeightFormat.FP4, WeightFormat.NF4,
                WeightFormat.INT4S, WeightFormat.INT4, WeightFormat.INT8);

        public MixedAuto {
            if (budgetId == null && (!(bitsPerWeight > 0) || !(bitsPerWeight <= 32))) {
                throw new IllegalArgumentException("budget " + bitsPerWeight
                        + " bits per weight is outside (0, 32]");
            }
            java.util.Objects.requireNonNull(objective, "objective");
            if (budgetId != null && !Double.isNaN(bitsPerWeight)) {
                throw new IllegalArgumentException("a budget is bits per weight or an id, not both");
            }
            formats = List.copyOf(formats);
            if (formats.isEmpty() || formats.stream().anyMatch(f -> !f.isQuantized())) {
                throw new IllegalArgumentException("candidate formats " + formats
                        + " must be one or more of int8, int4, int4s, fp4, nf4");
            }
        }

        public MixedAuto(double bitsPerWeight) {
            this(bitsPerWeight, null, DEFAULT_FORMATS, Objective.KLD);
        }

        public MixedAuto(double bitsPerWeight, List<WeightFormat> formats) {
            this(bitsPerWeight, null, formats, Objective.KLD);
        }

        public MixedAuto(ConfigId budgetId, List<WeightFormat> formats) {
            this(Double.NaN, java.util.Objects.requireNonNull(budgetId, "budgetId"), formats, Objective.KLD);
        }

        @Override
        public Optional<ConfigId> idFor(String tensorName) {
            throw new UnsupportedOperationException("needs a sensitivity measurement");
        }

        @Override
        public boolean needsCalibration() {
            return true;
        }

        /** The budget as written: {@code 4.25} or {@code fp4-g128}. */
        public String budget() {
            return budgetId != null ? budgetId.toString() : Double.toString(bitsPerWeight);
        }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder("mixed:auto[").append(budget());
            if (!formats.equals(DEFAULT_FORMATS)) {
                for (WeightFormat f : formats) {
                    sb.append(',').append(f.id());
                }
            }
            if (objective == Objective.PPL) {
                sb.append(",ppl");
            }
            return sb.append(']').toString();
        }
    }
}
