package io.quantgate.evaluation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class StatisticsTest {

    @Test
    void normalQuantileMatchesReferenceValues() {
        assertThat(Statistics.normalQuantile(0.975)).isCloseTo(1.959963984540054, within(1e-8));
        assertThat(Statistics.normalQuantile(0.5)).isCloseTo(0.0, within(1e-12));
        assertThat(Statistics.normalQuantile(0.001)).isCloseTo(-3.090232306167813, within(1e-8));
    }

    @Test
    void tQuantileMatchesTables() {
        assertThat(Statistics.tQuantile(0.975, 1)).isCloseTo(12.706204736174698, within(1e-8));
        assertThat(Statistics.tQuantile(0.975, 2)).isCloseTo(4.302652729749464, within(1e-9));
        assertThat(Statistics.tQuantile(0.975, 10)).isCloseTo(2.228138851986274, within(1e-9));
        assertThat(Statistics.tQuantile(0.995, 30)).isCloseTo(2.749995653567995, within(1e-9));
        assertThat(Statistics.tQuantile(0.025, 10)).isCloseTo(-2.228138851986274, within(1e-9));
        assertThat(Statistics.tQuantile(0.975, 1e9)).isCloseTo(1.959963984540054, within(1e-8));
        assertThat(Statistics.tCdf(2.228138851986274, 10)).isCloseTo(0.975, within(1e-12));
    }

    @Test
    void clusteredMeanWithEqualCountsIsTheTIntervalOfChunkMeans() {
        double[] means = {0.1, 0.3, -0.2, 0.4, 0.05};
        double[] sums = new double[5];
        int[] counts = new int[5];
        for (int i = 0; i < 5; i++) {
            counts[i] = 7;
            sums[i] = means[i] * 7;
        }
        ConfidenceInterval ci = Statistics.clusteredMean(sums, counts, 0.95);
        double m = Statistics.mean(means);
        double half = Statistics.tQuantile(0.975, 4) * Statistics.sd(means) / Math.sqrt(5);
        assertThat(ci.estimate()).isCloseTo(m, within(1e-15));
        assertThat(ci.low()).isCloseTo(m - half, within(1e-14));
        assertThat(ci.high()).isCloseTo(m + half, within(1e-14));
        assertThat(ci.stdErr()).isCloseTo(Statistics.stdErr(means), within(1e-15));
    }
}
