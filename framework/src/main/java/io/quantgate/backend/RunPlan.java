package io.quantgate.backend;

import java.util.Objects;

/**
 * What a backend would run for one config id on one model, or why it cannot.
 *
 * @param backend   the backend's name
 * @param config    the QuantGate config id asked for
 * @param runs      for a runnable plan, exactly which weights in which format, e.g.
 *                  {@code "llama.cpp Q4_0 GGUF from int4s-g32 (bit-exact: QuantGate's codes and fp16 scales)"};
 *                  null when it cannot run
 * @param cannotRun why the config cannot run on this backend (null when it can)
 * @param noLogits  why this backend gives no logits (so no perplexity); null when it gives them
 */
public record RunPlan(String backend, String config, String runs, String cannotRun, String noLogits) {

    public RunPlan {
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(config, "config");
        if ((runs == null) == (cannotRun == null)) {
            throw new IllegalArgumentException("a plan either runs something or says why it cannot, not both/neither");
        }
    }

    public static RunPlan runs(String backend, String config, String runs, String noLogits) {
        return new RunPlan(backend, config, runs, null, noLogits);
    }

    public static RunPlan cannotRun(String backend, String config, String reason) {
        return new RunPlan(backend, config, null, reason, null);
    }

    public boolean runnable() {
        return runs != null;
    }

    public boolean givesLogits() {
        return runnable() && noLogits == null;
    }

    /** The cell of a comparison row: what ran, or {@code "cannot run: <why>"}. */
    public String describe() {
        return runnable() ? runs : "cannot run: " + cannotRun;
    }

    /** Throws the reason when the plan cannot run (what {@link Backend#open} does first). */
    public RunPlan requireRunnable() {
        if (!runnable()) {
            throw new IllegalArgumentException("backend '" + backend + "' cannot run " + config + ": " + cannotRun);
        }
        return this;
    }
}
