package io.quantgate.harness;

import java.util.Locale;

/**
 * What one timed call does. At kernel level {@code y = x·Wᵀ} with W of {@code n × k} and {@code batch} activation
 * rows; at model level llama-bench's tests: {@link Prefill} (pp: a prompt in one batch from an empty cache, the last
 * position's logits) and {@link Decode} (tg: single-token steps from an empty cache, or after a prompt).
 */
public sealed interface Workload {

    /** {@code 4096x11008 M=1}, {@code pp512}, {@code tg128}. */
    String label();

    /** {@code kernel}, {@code prefill} or {@code decode}, as results.json names the level. */
    String level();

    /** Unit of the rate: {@code GB/s} (weight bytes per second) at kernel level, {@code tokens/s} otherwise. */
    String unit();

    record Kernel(int n, int k, int batch) implements Workload {
        public Kernel {
            if (n < 1 || k < 1 || batch < 1) {
                throw new IllegalArgumentException("a kernel shape needs N, K and M >= 1, got N=" + n + " K=" + k
                        + " M=" + batch);
            }
        }

        @Override
        public String label() {
            return n + "x" + k + " M=" + batch;
        }

        @Override
        public String level() {
            return "kernel";
        }

        @Override
        public String unit() {
            return "GB/s";
        }
    }

    record Prefill(int tokens) implements Workload {
        public Prefill {
            if (tokens < 1) {
                throw new IllegalArgumentException("a prefill needs at least one token, got " + tokens);
            }
        }

        @Override
        public String label() {
            return "pp" + tokens;
        }

        @Override
        public String level() {
            return "prefill";
        }

        @Override
        public String unit() {
            return "tokens/s";
        }
    }

    /**
     * {@code tokens} single-token steps after a prompt of {@code depth} tokens (untimed; llama-bench's {@code -d}): at
     * depth 0 from an empty cache ({@code tg128}), otherwise at positions {@code depth ..} ({@code tg128@d2048}), where
     * each step's attention reads the whole cache before it.
     */
    record Decode(int tokens, int depth) implements Workload {
        public Decode {
            if (tokens < 1) {
                throw new IllegalArgumentException("a decode run needs at least one step, got " + tokens);
            }
            if (depth < 0) {
                throw new IllegalArgumentException("a decode run's depth (prompt before it) must be >= 0, got " + depth);
            }
        }

        /** From an empty cache. */
        public Decode(int tokens) {
            this(tokens, 0);
        }

        @Override
        public String label() {
            return depth == 0 ? "tg" + tokens : "tg" + tokens + "@d" + depth;
        }

        @Override
        public String level() {
            return "decode";
        }

        @Override
        public String unit() {
            return "tokens/s";
        }
    }

    /** Whether this is a whole-model workload (needs an engine) rather than one linear (needs a kernel). */
    default boolean modelLevel() {
        return !(this instanceof Kernel);
    }

    /** Model-level token count (0 at kernel level). */
    default int tokens() {
        return switch (this) {
            case Prefill p -> p.tokens();
            case Decode d -> d.tokens();
            case Kernel ignored -> 0;
        };
    }

    /** Parses {@code NxK} as a kernel shape {@code {n, k}}, naming the bad text when it is not one. */
    static int[] parseShape(String s) {
        String[] p = s.strip().toLowerCase(Locale.ROOT).split("x");
        if (p.length != 2) {
            throw new IllegalArgumentException("bad shape '" + s + "': expected NxK, e.g. 4096x11008");
        }
        try {
            int n = Integer.parseInt(p[0].strip());
            int k = Integer.parseInt(p[1].strip());
            if (n < 1 || k < 1) {
                throw new IllegalArgumentException("bad shape '" + s + "': N and K must be positive");
            }
            return new int[] {n, k};
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad shape '" + s + "': expected NxK with integers, e.g. 4096x11008", e);
        }
    }
}
