package io.quantgate.results.model;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** llama-perplexity's KLD statistics, worked out by hand on 1001 evenly spaced values. */
class KldDistributionTest {

    @Test
    void percentilesInterpolateAndDeltaPIsInPercentagePoints() {
        double[] kld = new double[1001];
        double[] dp = new double[1001];
        for (int i = 0; i < kld.length; i++) {
            kld[1000 - i] = i / 1000.0; // any order: sorted inside
            dp[i] = i % 2 == 0 ? 0.01 : -0.01; // ±1 percentage point
        }
        KldDistribution d = KldDistribution.of(kld, dp);
        assertThat(d.max()).isEqualTo(1.0);
        assertThat(d.min()).isEqualTo(0.0);
        assertThat(d.median()).isCloseTo(0.5, within(1e-12));
        assertThat(d.p99_9()).isCloseTo(0.999, within(1e-12));
        assertThat(d.p99()).isCloseTo(0.99, within(1e-12));
        assertThat(d.p95()).isCloseTo(0.95, within(1e-12));
        assertThat(d.p90()).isCloseTo(0.90, within(1e-12));
        assertThat(d.p10()).isCloseTo(0.10, within(1e-12));
        assertThat(d.p5()).isCloseTo(0.05, within(1e-12));
        assertThat(d.p1()).isCloseTo(0.01, within(1e-12));
        assertThat(d.p0_1()).isCloseTo(0.001, within(1e-12));
        assertThat(d.rmsDeltaP()).isCloseTo(1.0, within(1e-12));
        assertThat(d.meanDeltaP()).isCloseTo(100 * 0.01 / 1001, within(1e-12)); // one more +0.01 than −0.01
        assertThat(d.present()).isTrue();
        assertThat(KldDistribution.NONE.present()).isFalse();
    }

    @Test
    void needsOneDeltaPPerToken() {
        assertThatThrownBy(() -> KldDistribution.of(new double[2], new double[1]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("one Δp per KLD");
    }
}
