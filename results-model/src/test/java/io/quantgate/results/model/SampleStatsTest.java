package io.quantgate.results.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link SampleStats} against values computed by hand: type-7 (R / NumPy default) quantiles, the
 * sample standard deviation (n-1), the one-pass 2-sigma outlier rule and the seeded bootstrap.
 */
class SampleStatsTest {
    private static final double EPS = 1e-12;

    @Test
    void oddLengthSummaryByHand() {
        // sorted 1..5: mean 3, sd = sqrt((4+1+0+1+4)/4) = sqrt(2.5); p5 at pos 0.05*4 = 0.2 -> 1.2; p95 at 3.8 -> 4.8
        SampleStats s = SampleStats.of(new double[] {5, 1, 4, 2, 3});
        assertThat(s.n()).isEqualTo(5);
        assertThat(s.dropped()).isZero();
        assertThat(s.median()).isEqualTo(3.0);
        assertThat(s.mean()).isEqualTo(3.0);
        assertThat(s.sd()).isCloseTo(Math.sqrt(2.5), within(EPS));
        assertThat(s.min()).isEqualTo(1.0);
        assertThat(s.max()).isEqualTo(5.0);
        assertThat(s.p5()).isCloseTo(1.2, within(EPS));
        assertThat(s.p95()).isCloseTo(4.8, within(EPS));
    }

    @Test
    void evenLengthSummaryByHand() {
        // sorted 1,2,3,4: median at pos 1.5 -> 2.5; p5 at 0.15 -> 1.15; p95 at 2.85 -> 3.85;
        // sd = sqrt((2.25+0.25+0.25+2.25)/3) = sqrt(5/3)
        SampleStats s = SampleStats.of(new double[] {4, 1, 3, 2});
        assertThat(s.n()).isEqualTo(4);
        assertThat(s.median()).isEqualTo(2.5);
        assertThat(s.mean()).isEqualTo(2.5);
        assertThat(s.sd()).isCloseTo(Math.sqrt(5.0 / 3.0), within(EPS));
        assertThat(s.min()).isEqualTo(1.0);
        assertThat(s.max()).isEqualTo(4.0);
        assertThat(s.p5()).isCloseTo(1.15, within(EPS));
        assertThat(s.p95()).isCloseTo(3.85, within(EPS));
    }

    @Test
    void inputArrayIsNotModified() {
        double[] in = {3, 1, 2};
        SampleStats.of(in);
        SampleStats.median(in);
        assertThat(in).containsExactly(3, 1, 2);
    }

    @Test
    void aClearOutlierIsDroppedAtTwoSigma() {
        // nine 10s and one 100: mean 19, sd = sqrt((9*81 + 81^2)/9) = sqrt(810) = 28.46;
        // |100-19| = 81 > 2*28.46 = 56.9 -> dropped; |10-19| = 9 kept
        double[] v = {10, 10, 10, 10, 100, 10, 10, 10, 10, 10};
        assertThat(SampleStats.dropOutliers(v, 2.0)).hasSize(9).containsOnly(10.0);
        SampleStats s = SampleStats.of(v);
        assertThat(s.n()).isEqualTo(9);
        assertThat(s.dropped()).isEqualTo(1);
        assertThat(s.median()).isEqualTo(10.0);
        assertThat(s.mean()).isEqualTo(10.0);
        assertThat(s.sd()).isZero();
        assertThat(s.max()).isEqualTo(10.0);
        assertThat(s.p95()).isEqualTo(10.0);
        // with sigma 3 the same point stays (81 < 3*28.46 = 85.4)
        SampleStats loose = SampleStats.of(v, 3.0);
        assertThat(loose.n()).isEqualTo(10);
        assertThat(loose.dropped()).isZero();
        assertThat(loose.max()).isEqualTo(100.0);
    }

    @Test
    void outliersOnBothSidesAtSigmaOne() {
        // 1..5: mean 3, sd 1.581; |1-3| = |5-3| = 2 > 1.581 -> both dropped, 2,3,4 kept
        SampleStats s = SampleStats.of(new double[] {1, 2, 3, 4, 5}, 1.0);
        assertThat(s.n()).isEqualTo(3);
        assertThat(s.dropped()).isEqualTo(2);
        assertThat(s.min()).isEqualTo(2.0);
        assertThat(s.max()).isEqualTo(4.0);
        assertThat(s.median()).isEqualTo(3.0);
        assertThat(s.sd()).isCloseTo(1.0, within(EPS));
    }

    @Test
    void outliersAreDroppedOnceNotIteratively() {
        // after dropping 1000 the rest {1,1,1,1,1,1,1,1,1,5} would itself have an outlier (5), but the rule runs once
        double[] v = {1, 1, 1, 1, 1, 1, 1, 1, 1, 5, 1000};
        SampleStats s = SampleStats.of(v);
        assertThat(s.dropped()).isEqualTo(1);
        assertThat(s.n()).isEqualTo(10);
        assertThat(s.max()).isEqualTo(5.0);
    }

    @Test
    void constantSamplesKeepAll() {
        double[] v = new double[50];
        Arrays.fill(v, 7.25);
        SampleStats s = SampleStats.of(v);
        assertThat(s.n()).isEqualTo(50);
        assertThat(s.dropped()).isZero();
        assertThat(s.sd()).isZero();
        assertThat(s.median()).isEqualTo(7.25);
        assertThat(s.p5()).isEqualTo(7.25);
        assertThat(s.p95()).isEqualTo(7.25);
    }

    @Test
    void tooFewSamplesOrNonPositiveSigmaDropNothing() {
        assertThat(SampleStats.of(new double[] {1, 1000}).n()).isEqualTo(2);
        // with n = 5 a single point can be at most (n-1)/sqrt(n) = 1.79 sd from the mean: never beyond 2 sigma
        SampleStats five = SampleStats.of(new double[] {1, 2, 3, 4, 1e9});
        assertThat(five.n()).isEqualTo(5);
        assertThat(five.dropped()).isZero();
        double[] v = {10, 10, 10, 10, 100, 10, 10, 10, 10, 10};
        assertThat(SampleStats.of(v, 0).n()).isEqualTo(10);
        assertThat(SampleStats.dropOutliers(v, -1)).containsExactly(v);
    }

    @Test
    void singleSample() {
        SampleStats s = SampleStats.of(new double[] {42});
        assertThat(s.n()).isEqualTo(1);
        assertThat(s.dropped()).isZero();
        assertThat(s.sd()).isZero();
        assertThat(s.median()).isEqualTo(42.0);
        assertThat(s.mean()).isEqualTo(42.0);
        assertThat(s.min()).isEqualTo(42.0);
        assertThat(s.max()).isEqualTo(42.0);
        assertThat(s.p5()).isEqualTo(42.0);
        assertThat(s.p95()).isEqualTo(42.0);
    }

    @Test
    void quantileEdgeCases() {
        double[] one = {3.5};
        assertThat(SampleStats.quantile(one, 0)).isEqualTo(3.5);
        assertThat(SampleStats.quantile(one, 0.5)).isEqualTo(3.5);
        assertThat(SampleStats.quantile(one, 1)).isEqualTo(3.5);
        double[] two = {0, 10};
        assertThat(SampleStats.quantile(two, 0)).isEqualTo(0.0);
        assertThat(SampleStats.quantile(two, 0.25)).isEqualTo(2.5);
        assertThat(SampleStats.quantile(two, 0.5)).isEqualTo(5.0);
        assertThat(SampleStats.quantile(two, 1)).isEqualTo(10.0);
        double[] s = {1, 2, 4, 8, 16};
        assertThat(SampleStats.quantile(s, 0)).isEqualTo(1.0);
        assertThat(SampleStats.quantile(s, 1)).isEqualTo(16.0);      // hi index clamps at the last element
        assertThat(SampleStats.quantile(s, 0.75)).isEqualTo(8.0);    // pos 3 exactly: no interpolation
        assertThat(SampleStats.quantile(s, 0.625)).isEqualTo(6.0);   // pos 2.5: halfway between 4 and 8
        // median of an unsorted array sorts a copy; ties and negative values
        assertThat(SampleStats.median(new double[] {9, -1, 3, 3})).isEqualTo(3.0);
        assertThat(SampleStats.median(new double[] {-4, -2})).isEqualTo(-3.0);
    }

    @Test
    void emptyInputIsRejected() {
        assertThatThrownBy(() -> SampleStats.of(new double[0]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no samples");
        assertThatThrownBy(() -> SampleStats.of(new double[0], 3.0)).isInstanceOf(IllegalArgumentException.class);
    }

    private static double[] noisy(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = 100 + 10 * (rnd.nextDouble() + rnd.nextDouble() + rnd.nextDouble() - 1.5);
        }
        return v;
    }

    @Test
    void bootstrapCiContainsTheMedianAndIsDeterministic() {
        double[] v = noisy(41, 1);
        double med = SampleStats.median(v);
        double[] ci = SampleStats.bootstrapMedianCi(v, 0.95, 1000, 17);
        assertThat(ci).hasSize(2);
        assertThat(ci[0]).isLessThanOrEqualTo(med);
        assertThat(ci[1]).isGreaterThanOrEqualTo(med);
        assertThat(ci[0]).isLessThan(ci[1]);
        // the bounds are medians of resamples, so they lie within the data's range
        assertThat(ci[0]).isGreaterThanOrEqualTo(Arrays.stream(v).min().orElseThrow());
        assertThat(ci[1]).isLessThanOrEqualTo(Arrays.stream(v).max().orElseThrow());
        assertThat(SampleStats.bootstrapMedianCi(v, 0.95, 1000, 17)).containsExactly(ci);
        assertThat(SampleStats.bootstrapMedianCi(v.clone(), 0.95, 1000, 17)).containsExactly(ci);
        // a narrower level gives a nested, narrower interval
        double[] ci50 = SampleStats.bootstrapMedianCi(v, 0.5, 1000, 17);
        assertThat(ci50[0]).isGreaterThanOrEqualTo(ci[0]);
        assertThat(ci50[1]).isLessThanOrEqualTo(ci[1]);
        assertThat(ci50[1] - ci50[0]).isLessThan(ci[1] - ci[0]);
    }

    @Test
    void bootstrapCiNarrowsWithMoreSamples() {
        double[] few = noisy(20, 2);
        double[] many = noisy(2000, 3);
        double[] a = SampleStats.bootstrapMedianCi(few, 0.95, 1000, 17);
        double[] b = SampleStats.bootstrapMedianCi(many, 0.95, 1000, 17);
        assertThat(b[0]).isLessThanOrEqualTo(SampleStats.median(many));
        assertThat(b[1]).isGreaterThanOrEqualTo(SampleStats.median(many));
        // width shrinks like 1/sqrt(n): 100x the samples should be ~10x narrower; ask for 3x
        assertThat(b[1] - b[0]).isLessThan((a[1] - a[0]) / 3);
        assertThat(b[1] - b[0]).isGreaterThan(0.0);
    }

    @Test
    void bootstrapOfConstantValuesIsAPoint() {
        double[] v = new double[30];
        Arrays.fill(v, 2.5);
        assertThat(SampleStats.bootstrapMedianCi(v, 0.95, 200, 1)).containsExactly(2.5, 2.5);
    }
}
