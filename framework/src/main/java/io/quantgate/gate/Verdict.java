package io.quantgate.gate;

import java.util.Collection;

/** Outcome of a gate (SPEC §5). */
public enum Verdict {
    /** The whole confidence interval is on the allowed side of the threshold. */
    PASS,
    /** The whole confidence interval is on the wrong side of the threshold. */
    FAIL,
    /** The interval straddles the threshold (or could not be computed): the data cannot tell. */
    INCONCLUSIVE;

    /**
     * Several gates together: FAIL if any fails (a definite failure does not wait for the others),
     * else INCONCLUSIVE if any is, else PASS. An empty collection is PASS.
     */
    public static Verdict combine(Collection<GateResult> gates) {
        boolean inconclusive = false;
        for (GateResult g : gates) {
            if (g.verdict() == FAIL) {
                return FAIL;
            }
            inconclusive |= g.verdict() == INCONCLUSIVE;
        }
        return inconclusive ? INCONCLUSIVE : PASS;
    }
}
