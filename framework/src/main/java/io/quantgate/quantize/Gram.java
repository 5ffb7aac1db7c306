package io.quantgate.quantize;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.stream.IntStream;

/**
 * {@code XᵀX} of every input row a linear layer saw during calibration, accumulated in double: GPTQ's Hessian is
 * {@code 2·XᵀX/n}, llama.cpp's importance matrix its diagonal over n. Only the upper triangle is accumulated (the
 * matrix is symmetric); {@link #hessian()} mirrors it.
 */
public final class Gram {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private final int k;
    private final double[] xtx;
    private long rows;

    public Gram(int k) {
        if (k < 1 || (long) k * k > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("a Gram matrix of " + k + " inputs does not fit one array");
        }
        this.k = k;
        this.xtx = new double[k * k];
    }

    /** Bytes a Gram matrix of {@code k} inputs holds (for memory checks before a calibration starts). */
    public static long bytes(int k) {
        return 8L * k * k;
    }

    public int k() {
        return k;
    }

    /** Input rows accumulated so far. */
    public long rows() {
        return rows;
    }

    /** Adds {@code t} rows of {@code k} floats, {@code stride} floats apart, from a segment. */
    public void add(MemorySegment x, int t, long stride) {
        double[][] rowsD = new double[t][k];
        for (int i = 0; i < t; i++) {
            for (int c = 0; c < k; c++) {
                rowsD[i][c] = x.getAtIndex(F, i * stride + c);
            }
        }
        add(rowsD);
    }

    /** Adds rows given as arrays of length k. */
    public void add(double[][] x) {
        for (double[] r : x) {
            if (r.length != k) {
                throw new IllegalArgumentException("row of " + r.length + " values for a Gram of " + k);
            }
        }
        // rows of the result are independent: parallel over them (the calibration pass is otherwise serial)
        IntStream.range(0, k).parallel().forEach(a -> {
            int base = a * k;
            for (double[] r : x) {
                double va = r[a];
                if (va != 0) {
                    for (int b = a; b < k; b++) {
                        xtx[base + b] += va * r[b];
                    }
                }
            }
        });
        rows += x.length;
    }

    /** {@code XᵀX / n}, full (mirrored) {@code [k][k]}, a fresh copy. */
    public double[] hessian() {
        if (rows == 0) {
            throw new IllegalStateException("no calibration rows were seen");
        }
        double[] h = new double[k * k];
        for (int a = 0; a < k; a++) {
            for (int b = a; b < k; b++) {
                double v = xtx[a * k + b] / rows;
                h[a * k + b] = v;
                h[b * k + a] = v;
            }
        }
        return h;
    }

    /** Mean squared activation per input column: llama.cpp's importance matrix. */
    public double[] importance() {
        if (rows == 0) {
            throw new IllegalStateException("no calibration rows were seen");
        }
        double[] d = new double[k];
        for (int a = 0; a < k; a++) {
            d[a] = xtx[a * k + a] / rows;
        }
        return d;
    }
}
