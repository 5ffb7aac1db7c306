package io.quantgate.runtime.gguf;

import io.quantgate.runtime.model.LlamaConfig.RopeScaling;

/**
 * Converts between llama3 RoPE scaling parameters and the per-pair divisors llama.cpp stores in
 * {@code rope_freqs.weight} (pair {@code i} rotates with frequency {@code theta^(−2i/headSize) / div[i]}).
 *
 * <p>GGUF files keep only the divisors, so reading them back recovers the parameters: the divisor is
 * {@code factor} for low frequencies, 1 for high ones, and in between {@code 1/div = (1−s)/factor + s} with
 * {@code s} linear in {@code original_context / wavelength}; a least-squares line through the in-between
 * pairs gives {@code low_freq_factor} and {@code high_freq_factor}. The result is accepted only when it
 * reproduces every divisor, so a file whose divisors follow another rule is refused rather than run wrong.
 */
final class Llama3RopeFit {
    /** Relative agreement required between stored divisors and the fitted parameters' frequencies. */
    private static final double TOLERANCE = 1e-5;

    private Llama3RopeFit() {
    }

    /** {@code freq / scaling.scale(freq)} per rotary pair, as fp32. */
    static float[] divisors(RopeScaling scaling, int headSize, float theta) {
        float[] d = new float[headSize / 2];
        for (int i = 0; i < d.length; i++) {
            double freq = Math.pow(theta, -2.0 * i / headSize);
            d[i] = (float) (freq / scaling.scale(freq));
        }
        return d;
    }

    static RopeScaling fit(float[] div, int headSize, float theta, int originalContext) {
        if (div.length != headSize / 2) {
            throw new IllegalArgumentException("holds " + div.length + " values; head size " + headSize + " needs "
                    + headSize / 2);
        }
        double factor = 0;
        for (int i = 0; i < div.length; i++) {
            if (!(div[i] > 0) || Float.isInfinite(div[i])) {
                throw new IllegalArgumentException("value " + div[i] + " at index " + i + " is not a positive divisor");
            }
            factor = Math.max(factor, div[i]);
        }
        boolean allOne = true, allFactor = true;
        for (float v : div) {
            allOne &= Math.abs(v - 1) <= TOLERANCE;
            allFactor &= Math.abs(v - factor) <= TOLERANCE * factor;
        }
        if (allOne) {
            return RopeScaling.NONE;
        }
        if (allFactor) {
            return new RopeScaling(RopeScaling.Type.LINEAR, (float) factor, 0f, 0f, 0);
        }
        // least squares s = a·x + b over the pairs strictly between the two plateaus
        double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
        for (int i = 0; i < div.length; i++) {
            if (Math.abs(div[i] - 1) > TOLERANCE && Math.abs(div[i] - factor) > TOLERANCE * factor) {
                double freq = Math.pow(theta, -2.0 * i / headSize);
                double x = originalContext * freq / (2 * Math.PI);
                double s = (1 / div[i] - 1 / factor) / (1 - 1 / factor);
                n++;
                sx += x;
                sy += s;
                sxx += x * x;
                sxy += x * s;
            }
        }
        // candidates: the fit rounded to 1e-3 (published factors are short decimals), the raw fit, and
        // Meta's Llama 3.1–3.3 values for files with too few pairs between the plateaus to fit a line
        java.util.List<float[]> candidates = new java.util.ArrayList<>();
        if (n >= 2 && n * sxx - sx * sx > 0) {
            double slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
            double low = -(sy - slope * sx) / n / slope;
            double high = low + 1 / slope;
            candidates.add(new float[] {(float) (Math.round(low * 1000) / 1000.0), (float) (Math.round(high * 1000) / 1000.0)});
            candidates.add(new float[] {(float) low, (float) high});
        }
        candidates.add(new float[] {1f, 4f});
        String closest = "";
        for (float[] c : candidates) {
            RopeScaling fitted;
            try {
                fitted = new RopeScaling(RopeScaling.Type.LLAMA3, (float) factor, c[0], c[1], originalContext);
            } catch (IllegalArgumentException e) {
                continue;
            }
            float[] again = divisors(fitted, headSize, theta);
            int bad = -1;
            for (int i = 0; i < div.length && bad < 0; i++) {
                if (Math.abs(again[i] - div[i]) > TOLERANCE * div[i]) {
                    bad = i;
                }
            }
            if (bad < 0) {
                return fitted;
            }
            if (closest.isEmpty()) {
                closest = " (pair " + bad + ": stored " + div[bad] + ", " + fitted + " gives " + again[bad] + ")";
            }
        }
        throw new IllegalArgumentException("holds per-pair RoPE divisors that no llama3 scaling reproduces" + closest
                + "; such files are not supported");
    }
}
