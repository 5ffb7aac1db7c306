package io.quantgate.kernels.format;

/**
 * Nearest-level search shared by fp4 and nf4. The midpoints are computed in double and the value is
 * compared after widening, as docs/formats.md prescribes, so that a tie is an exact equality that the
 * native kernels can reproduce (fp32 midpoints would round and move ties by one ulp).
 */
final class Levels {
    private final double[] mid;

    Levels(float[] ascending) {
        mid = new double[ascending.length - 1];
        for (int i = 0; i < mid.length; i++) {
            mid[i] = ((double) ascending[i] + (double) ascending[i + 1]) / 2.0;
        }
    }

    /** Index of the nearest level; ties go to the even index; beyond either end clamps to that end. */
    int nearest(float v) {
        double d = v;
        for (int i = 0; i < mid.length; i++) {
            if (d < mid[i]) {
                return i;
            }
            if (d == mid[i]) {
                return (i & 1) == 0 ? i : i + 1;
            }
        }
        return mid.length;
    }
}
