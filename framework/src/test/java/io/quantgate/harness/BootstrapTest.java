package io.quantgate.harness;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class BootstrapTest {

    @Test
    void theMedianIntervalOfConstantSamplesIsThatConstant() {
        assertThat(Bootstrap.medianCi(new double[] {2, 2, 2, 2}, 0.95)).containsExactly(2, 2);
        assertThat(Bootstrap.medianCi(new double[] {7}, 0.95)).containsExactly(7, 7);
        assertThat(Bootstrap.medianCi(new double[0], 0.95)[0]).isNaN();
    }

    @Test
    void theRatioOfMediansOfAScaledSampleIsThatScale() {
        SplittableRandom r = new SplittableRandom(1);
        double[] a = new double[200];
        double[] b = new double[200];
        for (int i = 0; i < a.length; i++) {
            a[i] = 10 + r.nextGaussian();
            b[i] = 2 * a[i]; // the same distribution, twice as large
        }
        double[] ci = Bootstrap.ratioOfMediansCi(a, b, 0.95);
        assertThat(ci[0]).isLessThanOrEqualTo(0.5 + 1e-12);
        assertThat(ci[1]).isGreaterThanOrEqualTo(0.5 - 1e-12);
        assertThat(ci[1] - ci[0]).as("200 samples with sd 10%: a narrow interval").isLessThan(0.05);
    }

    @Test
    void mannWhitneyMatchesTheHandWorkedNormalApproximation() {
        // a = {1,2,3}, b = {4,5,6}: U = 0, mean 4.5, sd sqrt(3·3·7/12) = 2.2913;
        // z = (4.5 − 0.5) / 2.2913 = 1.7457, p = 2·(1 − Φ(1.7457)) = 0.08086
        assertThat(Bootstrap.mannWhitneyP(new double[] {1, 2, 3}, new double[] {4, 5, 6})).isCloseTo(0.08086, within(2e-4));
        assertThat(Bootstrap.mannWhitneyP(new double[] {1, 2, 3}, new double[] {1, 2, 3})).isCloseTo(1.0, within(1e-6));
        assertThat(Bootstrap.mannWhitneyP(new double[] {1}, new double[] {2, 3})).isNaN();
    }
}
