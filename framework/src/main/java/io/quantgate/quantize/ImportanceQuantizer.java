package io.quantgate.quantize;

import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.format.Fp16;
import io.quantgate.kernels.format.GroupCodec;
import io.quantgate.kernels.format.QuantizedMatrix;
import io.quantgate.kernels.format.WeightFormat;

import java.lang.foreign.Arena;
import java.util.Optional;
import java.util.stream.IntStream;

/**
 * Importance-weighted round to nearest, llama.cpp's imatrix idea: each input column has an importance (its mean
 * squared activation over the calibration text), and each group gets the scale (and int4 zero point) that minimize
 * {@code Σ importance·(w − dequant(code))²} instead of the scale its absmax gives. The search tries the round-to-nearest
 * scale itself, a grid of shrunk and stretched scales, and for each the least-squares scale of the codes it gave, all
 * after fp16 rounding (the stored value is the one that counts); the round-to-nearest candidate is among them, so the
 * weighted error is never worse than round to nearest. Codes are then ordinary round to nearest under that scale.
 */
public final class ImportanceQuantizer {
    /** Multipliers of the round-to-nearest scale tried for symmetric formats. */
    private static final double[] STRETCH = grid(0.60, 1.10, 0.02);
    /** Fractions of the minimum and maximum kept for int4 (asymmetric). */
    private static final double[] SHRINK = grid(0.60, 1.00, 0.05);

    private ImportanceQuantizer() {
    }

    private static double[] grid(double from, double to, double step) {
        int n = (int) Math.round((to - from) / step) + 1;
        double[] g = new double[n];
        for (int i = 0; i < n; i++) {
            g[i] = from + i * step;
        }
        return g;
    }

    /**
     * @param importance per input column, ≥ 0 (all zero behaves like plain squared error)
     */
    public static QuantizedMatrix quantize(ConfigId id, int n, int k, float[] w, double[] importance, Arena arena,
                                           String tensorName) {
        WeightFormat f = id.format();
        if (f.isDense()) {
            throw new IllegalArgumentException("tensor '" + tensorName + "': imatrix needs a quantized format, not " + id);
        }
        if ((long) n * k != w.length || importance.length != k) {
            throw new IllegalArgumentException("tensor '" + tensorName + "': " + w.length + " weights and "
                    + importance.length + " importances for shape " + n + "x" + k);
        }
        int g = id.effectiveGroup(k);
        int groups = (k + g - 1) / g;
        int[] codes = new int[n * k];
        short[] scaleBits = new short[n * groups];
        byte[] zeros = f == WeightFormat.INT4 ? new byte[n * groups] : null;
        Optional<String> error = IntStream.range(0, n).parallel().mapToObj(r -> {
            for (int gi = 0; gi < groups; gi++) {
                String e = group(f, w, r * k, gi * g, Math.min(k, gi * g + g), importance, codes, scaleBits, zeros,
                        r * groups + gi, tensorName, r);
                if (e != null) {
                    return e;
                }
            }
            return null;
        }).filter(java.util.Objects::nonNull).findFirst();
        if (error.isPresent()) {
            throw new IllegalArgumentException(error.get());
        }
        return QuantizedMatrix.pack(id, n, k, codes, scaleBits, zeros, arena);
    }

    private static String group(WeightFormat f, float[] w, int base, int from, int to, double[] imp, int[] codes,
                                short[] scaleBits, byte[] zeros, int slot, String name, int row) {
        float absmax = 0f;
        float min = 0f;
        float max = 0f;
        double impSum = 0;
        for (int c = from; c < to; c++) {
            float v = w[base + c];
            absmax = Math.max(absmax, Math.abs(v));
            min = Math.min(min, v);
            max = Math.max(max, v);
            impSum += imp[c];
        }
        boolean uniform = !(impSum > 0);
        float raw = GroupCodec.rawScale(f, absmax, min, max);
        if (!Fp16.fits(raw)) {
            return "tensor '" + name + "': scale " + raw + " of row " + row + ", columns " + from + ".." + (to - 1)
                    + " overflows fp16 (|v| > 65504)";
        }
        Candidate best = evaluate(f, w, base, from, to, imp, uniform, Fp16.toBits(raw), min);
        if (f == WeightFormat.INT4) {
            for (double a : SHRINK) {
                for (double b : SHRINK) {
                    float lo = (float) (min * a);
                    float hi = (float) (max * b);
                    best = better(best, evaluate(f, w, base, from, to, imp, uniform,
                            Fp16.toBits(GroupCodec.rawScale(f, 0f, lo, hi)), lo));
                }
            }
        } else {
            for (double m : STRETCH) {
                Candidate c = evaluate(f, w, base, from, to, imp, uniform, Fp16.toBits((float) (raw * m)), min);
                best = better(best, c);
                // the least-squares scale for the codes this candidate chose, then re-rounded under it
                best = better(best, evaluate(f, w, base, from, to, imp, uniform, leastSquares(f, w, base, from, to,
                        imp, uniform, c.codes, c.scale), min));
            }
        }
        System.arraycopy(best.codes, 0, codes, base + from, to - from);
        scaleBits[slot] = best.bits;
        if (zeros != null) {
            zeros[slot] = (byte) best.zero;
        }
        return null;
    }

    private record Candidate(short bits, float scale, int zero, int[] codes, double error) {
    }

    private static Candidate better(Candidate a, Candidate b) {
        return b != null && b.error < a.error ? b : a;
    }

    /** Codes under the fp16 scale {@code bits} (int4: zero point from {@code min}) and their weighted error. */
    private static Candidate evaluate(WeightFormat f, float[] w, int base, int from, int to, double[] imp,
                                      boolean uniform, short bits, float min) {
        float s = Fp16.toFloat(bits);
        if (!(s >= 0) || !Float.isFinite(s)) {
            return null;
        }
        int z = f == WeightFormat.INT4 ? GroupCodec.zeroPoint(s, min) : 0;
        int[] codes = new int[to - from];
        double err = 0;
        for (int c = from; c < to; c++) {
            int code = GroupCodec.encode(f, w[base + c], s, z);
            codes[c - from] = code;
            double d = w[base + c] - GroupCodec.decode(f, code, s, z);
            err += (uniform ? 1 : imp[c]) * d * d;
        }
        return new Candidate(bits, s, z, codes, err);
    }

    /** {@code argmin_s Σ imp·(w − s·level(code))²} for fixed codes, as fp16 bits. */
    private static short leastSquares(WeightFormat f, float[] w, int base, int from, int to, double[] imp,
                                      boolean uniform, int[] codes, float s) {
        if (s == 0f) {
            return Fp16.toBits(0f);
        }
        double num = 0;
        double den = 0;
        for (int c = from; c < to; c++) {
            double level = GroupCodec.decode(f, codes[c - from], 1f, 0);
            double a = uniform ? 1 : imp[c];
            num += a * w[base + c] * level;
            den += a * level * level;
        }
        float ls = den > 0 ? (float) (num / den) : s;
        return Fp16.fits(ls) && ls > 0 ? Fp16.toBits(ls) : Fp16.toBits(s);
    }
}
