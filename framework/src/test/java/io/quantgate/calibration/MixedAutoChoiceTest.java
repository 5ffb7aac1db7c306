package io.quantgate.calibration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quantgate.kernels.format.QuantizationConfig;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The knapsack of mixed:auto, on made-up sensitivity tables where the best choice can be enumerated. */
class MixedAutoChoiceTest {
    private static final QuantizationConfig.MixedAuto AUTO = new QuantizationConfig.MixedAuto(4.0);

    private static long total(int[] c, long[][] bits) {
        long s = 0;
        for (int t = 0; t < c.length; t++) {
            s += bits[t][c[t]];
        }
        return s;
    }

    private static double cost(int[] c, double[][] kld) {
        double s = 0;
        for (int t = 0; t < c.length; t++) {
            s += kld[t][c[t]];
        }
        return s;
    }

    /** The exact optimum by enumeration (tables are small). */
    private static double best(double[][] kld, long[][] bits, double budget, int t, long used, double acc) {
        if (t == kld.length) {
            return used <= budget ? acc : Double.POSITIVE_INFINITY;
        }
        double b = Double.POSITIVE_INFINITY;
        for (int c = 0; c < kld[t].length; c++) {
            b = Math.min(b, best(kld, bits, budget, t + 1, used + bits[t][c], acc + kld[t][c]));
        }
        return b;
    }

    @Test
    void respectsTheBudgetAndIsNearTheOptimum() {
        Random rnd = new Random(1);
        double worstGap = 0;
        for (int trial = 0; trial < 200; trial++) {
            int tensors = 2 + rnd.nextInt(5);
            int cands = 2 + rnd.nextInt(4);
            double[][] kld = new double[tensors][cands];
            long[][] bits = new long[tensors][cands];
            long min = 0;
            long max = 0;
            for (int t = 0; t < tensors; t++) {
                long size = 100 + rnd.nextInt(1000);
                for (int c = 0; c < cands; c++) {
                    bits[t][c] = size * (4 + c) + rnd.nextInt(50);
                    // more bits usually, not always, means less error
                    kld[t][c] = Math.exp(-c * (0.5 + rnd.nextDouble())) * (0.1 + rnd.nextDouble());
                }
                min += java.util.Arrays.stream(bits[t]).min().orElseThrow();
                max += java.util.Arrays.stream(bits[t]).max().orElseThrow();
            }
            double budget = min + rnd.nextDouble() * (max - min);
            int[] c = MixedAutoResolver.choose(kld, bits, budget, 4.0, AUTO);
            assertThat((double) total(c, bits)).as("trial %d", trial).isLessThanOrEqualTo(budget);
            double opt = best(kld, bits, budget, 0, 0, 0);
            worstGap = Math.max(worstGap, cost(c, kld) / opt - 1);
        }
        // exact up to the budget's rounding to 1/65536
        assertThat(worstGap).isLessThan(1e-3);
    }

    @Test
    void ampleBudgetTakesTheLeastSensitiveAndTightBudgetTheSmallest() {
        double[][] kld = {{0.5, 0.2, 0.1}, {0.3, 0.25, 0.01}};
        long[][] bits = {{400, 450, 800}, {400, 450, 800}};
        assertThat(MixedAutoResolver.choose(kld, bits, 1e9, 4, AUTO)).containsExactly(2, 2);
        assertThat(MixedAutoResolver.choose(kld, bits, 800, 4, AUTO)).containsExactly(0, 0);
        // room for one upgrade to 800: it goes where it saves most (tensor 1: 0.29 vs tensor 0: 0.4 → tensor 0)
        assertThat(MixedAutoResolver.choose(kld, bits, 1200, 4, AUTO)).containsExactly(2, 0);
        assertThatThrownBy(() -> MixedAutoResolver.choose(kld, bits, 799, 3.99, AUTO))
                .hasMessageContaining("the smallest candidates already take 3.9950 bits per weight on this model, "
                        + "above the budget of 3.9900");
    }
}
