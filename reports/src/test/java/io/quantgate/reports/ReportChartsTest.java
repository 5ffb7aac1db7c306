package io.quantgate.reports;

import org.junit.jupiter.api.Test;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategorySeries;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.series.Series;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Each chart from fixture results: its series (inspected before rendering), then the PNG it renders to. */
class ReportChartsTest {
    private static final ReportModel QUALITY = Fixtures.model("quality.json");
    private static final ReportModel BACKENDS = Fixtures.model("backends.json");

    @Test
    void pplVsCompressionHasOneLegendSeriesPerFormatAndAHaloAndIntervalPerPoint() throws Exception {
        ChartOutcome o = ReportCharts.pplVsCompression(QUALITY);
        XYChart chart = (XYChart) o.chart();
        // 9 configurations with a PPL delta and a compression ratio: stories260K 6, model-b 3
        // formats: fp16, int8, int4, fp4, mixed, nf4 -> 6 legend series (one color each)
        assertThat(legend(chart)).containsExactlyInAnyOrder("fp16", "int8", "int4", "fp4", "mixed", "nf4");
        // hidden: 3 dashed reference lines (0, 1, 5 %), 9 halos (every point has the evaluation's tokens/s),
        // 8 interval bars (model-b's int8 was measured on one chunk: no interval)
        assertThat(chart.getSeriesMap()).hasSize(6 + 3 + 9 + 8);
        assertThat(chart.getSeriesMap().keySet().stream().filter(k -> k.startsWith("reference "))).hasSize(3);
        assertThat(chart.getSeriesMap().keySet().stream().filter(k -> k.startsWith("CI "))).hasSize(8);
        XYSeries fp4 = chart.getSeriesMap().get("fp4");
        assertThat(fp4.getXData()).containsExactly(3.53, 3.76);
        assertThat(fp4.getYData()).containsExactly(3.50, 5.20);
        assertThat(fp4.getMarkerColor()).isEqualTo(Palette.format("fp4"));
        // halo area proportional to tokens/s (two models: points are named with theirs): fp16 was scored at 30000
        // tokens/s, the rest at 20000
        double fp16 = halo(chart, "stories260K.bin · fp16");
        double int8 = halo(chart, "stories260K.bin · int8");
        assertThat(fp16).isEqualTo(50.0);
        assertThat(int8).isCloseTo(10 + 40 * Math.sqrt(20000.0 / 30000.0), within(1e-9));
        XYSeries ref5 = chart.getSeriesMap().get("reference 5 %");
        assertThat(ref5.getYData()).containsExactly(5.0, 5.0);
        assertRendersAsPng(o);
    }

    @Test
    void throughputComparisonHasOneSeriesPerConfigOfTheReferenceBackend() throws Exception {
        ChartOutcome o = ReportCharts.throughputComparison(BACKENDS);
        CategoryChart chart = (CategoryChart) o.chart();
        assertThat(chart.getSeriesMap().keySet()).containsExactly("fp16", "int8", "int4-g128");
        CategorySeries int4 = chart.getSeriesMap().get("int4-g128");
        assertThat(strings(int4.getXData())).containsExactly("synthetic:llama-1b · tg128");
        assertThat(doubles(int4.getYData())).containsExactly(30.0);
        // interval [28, 31] around 30 is lopsided (2 below, 1 above): no symmetric bar claims a side it does not have
        assertThat(int4.getExtraValues()).isNull();
        assertThat(int4.getFillColor()).isEqualTo(Palette.format("int4"));
        assertRendersAsPng(o);
    }

    @Test
    void backendComparisonHasOneSeriesPerBackendInThePaletteColors() throws Exception {
        ChartOutcome o = ReportCharts.backendComparison(BACKENDS);
        CategoryChart chart = (CategoryChart) o.chart();
        assertThat(chart.getSeriesMap().keySet()).containsExactly("native", "jlama", "llamacpp");
        CategorySeries llamacpp = chart.getSeriesMap().get("llamacpp");
        assertThat(strings(llamacpp.getXData())).containsExactly("fp16", "int8", "int4-g128");
        assertThat(doubles(llamacpp.getYData())).containsExactly(12.0, 24.0, 45.0);
        assertThat(llamacpp.getFillColor()).isEqualTo(Palette.backend("llamacpp"));
        // jlama has no int4-g128: a gap, and no error bars (XChart cannot range a series with both)
        CategorySeries jlama = chart.getSeriesMap().get("jlama");
        assertThat(doubles(jlama.getYData())).containsExactly(5.0, 9.0, null);
        assertThat(jlama.getExtraValues() == null ? null : doubles(jlama.getExtraValues())).isNull();
        assertRendersAsPng(o);
    }

    @Test
    void speedupComparisonHasTheOtherBackendsAndADashedLineAtOne() throws Exception {
        ChartOutcome o = ReportCharts.speedupComparison(BACKENDS);
        CategoryChart chart = (CategoryChart) o.chart();
        assertThat(chart.getSeriesMap().keySet()).containsExactly("jlama", "llamacpp", "native = 1.0×");
        List<Double> llamacpp = doubles(chart.getSeriesMap().get("llamacpp").getYData());
        // 12/10, 24/18, 45/30
        assertThat(llamacpp.get(0)).isCloseTo(1.2, within(1e-12));
        assertThat(llamacpp.get(1)).isCloseTo(24.0 / 18.0, within(1e-12));
        assertThat(llamacpp.get(2)).isCloseTo(1.5, within(1e-12));
        CategorySeries one = chart.getSeriesMap().get("native = 1.0×");
        assertThat(one.getChartCategorySeriesRenderStyle()).isEqualTo(CategorySeries.CategorySeriesRenderStyle.Line);
        assertThat(one.getLineStyle().getDashArray()).isNotNull();
        assertThat(doubles(one.getYData())).containsOnly(1.0);
        assertRendersAsPng(o);
    }

    @Test
    void summaryStatsAreAverageMaximumAndMinimumPerBackend() throws Exception {
        ChartOutcome o = ReportCharts.summaryStats(BACKENDS);
        CategoryChart chart = (CategoryChart) o.chart();
        assertThat(chart.getSeriesMap().keySet()).containsExactly("native", "jlama", "llamacpp");
        // over what every backend measured: fp16 and int8 (jlama has no int4-g128) — native tg128 10, 18 -> 14, 18, 10;
        // llamacpp 12, 24 -> 18, 24, 12; jlama 5, 9 -> 7, 9, 5
        assertThat(doubles(chart.getSeriesMap().get("native").getYData())).containsExactly(14.0, 18.0, 10.0);
        assertThat(doubles(chart.getSeriesMap().get("llamacpp").getYData())).containsExactly(18.0, 24.0, 12.0);
        assertThat(doubles(chart.getSeriesMap().get("jlama").getYData())).containsExactly(7.0, 9.0, 5.0);
        assertThat(o.caption()).contains("over the 2 model · workload · quantization combinations every backend measured",
                "1 measured on only some backends is left out");
        // the same backend has the same color as in the backend comparison
        assertThat(chart.getSeriesMap().get("jlama").getFillColor())
                .isEqualTo(((CategoryChart) ReportCharts.backendComparison(BACKENDS).chart()).getSeriesMap().get("jlama")
                        .getFillColor());
        assertRendersAsPng(o);
    }

    @Test
    void quantizationImpactIsOneLinePerBackend() throws Exception {
        ChartOutcome o = ReportCharts.quantizationImpact(BACKENDS);
        CategoryChart chart = (CategoryChart) o.chart();
        assertThat(chart.getSeriesMap().keySet()).containsExactly("native", "jlama", "llamacpp");
        assertThat(chart.getStyler().getDefaultSeriesRenderStyle()).isEqualTo(CategorySeries.CategorySeriesRenderStyle.Line);
        CategorySeries nat = chart.getSeriesMap().get("native");
        assertThat(strings(nat.getXData())).containsExactly("fp16", "int8", "int4-g128");
        assertThat(doubles(nat.getYData())).containsExactly(10.0, 18.0, 30.0);
        // intervals [9.5, 10.5], [17, 19]: bars of 0.5, 1; [28, 31] around 30 is lopsided: none
        assertThat(nat.getExtraValues() == null ? null : doubles(nat.getExtraValues())).containsExactly(0.5, 1.0, 0.0);
        assertThat(nat.getLineColor()).isEqualTo(Palette.backend("native"));
        assertRendersAsPng(o);
    }

    @Test
    void chartsWithoutDataAreNotDrawnAndSayWhy() {
        for (ChartOutcome o : List.of(ReportCharts.throughputComparison(QUALITY), ReportCharts.backendComparison(QUALITY),
                ReportCharts.summaryStats(QUALITY), ReportCharts.quantizationImpact(QUALITY))) {
            assertThat(o.drawn()).isFalse();
            assertThat(o.reason()).contains("no tokens/s in these results");
        }
        assertThat(ReportCharts.speedupComparison(QUALITY).reason()).contains("needs tokens/s", "backends with tokens/s here: none");
        assertThat(ReportCharts.pplVsCompression(BACKENDS).reason()).contains("no configuration has both a PPL delta");
        // one backend only: no speedup
        ChartOutcome single = ReportCharts.speedupComparison(Fixtures.model("suite-kernel.json"));
        assertThat(single.drawn()).isFalse();
    }

    @Test
    void aLongListOfCategoriesWidensTheChartAndTurnsItsLabels() {
        CategoryChart many = (CategoryChart) ReportCharts.backendComparison(Fixtures.model("backends.json")).chart();
        assertThat(many.getWidth()).isBetween(ReportCharts.MIN_WIDTH, ReportCharts.MAX_WIDTH);
        assertThat(ReportCharts.shorten("mixed:attn.*=fp4-g32,mlp.*=fp4-g128,lm_head=int8")).hasSize(32).endsWith("…");
    }

    @Test
    void longIdsThatShareAPrefixKeepDistinctLabels() {
        String g128 = "mixed:attn.*=fp4-g32,mlp.*=fp4-g128";
        String g64 = "mixed:attn.*=fp4-g32,mlp.*=fp4-g64";
        assertThat(ReportCharts.shorten(g128)).isEqualTo(ReportCharts.shorten(g64));
        var labels = ReportCharts.shortLabels(List.of(g128, g64, "int8", g128));
        assertThat(labels).containsEntry("int8", "int8")
                .containsEntry(g128, "mixed:attn.*=f…32,mlp.*=fp4-g128")
                .containsEntry(g64, "mixed:attn.*=f…g32,mlp.*=fp4-g64");
    }

    // ---------------------------------------------------------------------------------------------------------------

    private static List<String> legend(XYChart chart) {
        return chart.getSeriesMap().values().stream().filter(Series::isShowInLegend).map(Series::getName).toList();
    }

    private static double halo(XYChart chart, String config) {
        return ((SizedCircle) chart.getSeriesMap().get("size " + config).getMarker()).diameter();
    }

    private static List<String> strings(java.util.Collection<?> c) {
        return c.stream().map(String::valueOf).toList();
    }

    private static List<Double> doubles(java.util.Collection<? extends Number> c) {
        return c.stream().map(n -> n == null ? null : n.doubleValue()).toList();
    }

    /** The PNG decodes, has the chart's size, and is a picture: many colors, and pixels far from uniform. */
    private static void assertRendersAsPng(ChartOutcome o) throws Exception {
        byte[] png = ReportGenerator.png(o);
        assertThat(png).startsWith(0x89, 'P', 'N', 'G');
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
        assertThat(img).isNotNull();
        assertThat(img.getWidth()).isEqualTo(o.chart().getWidth());
        assertThat(img.getHeight()).isEqualTo(o.chart().getHeight()).isEqualTo(ReportCharts.HEIGHT);
        Set<Integer> colors = new HashSet<>();
        double sum = 0;
        double sumSq = 0;
        long n = 0;
        for (int y = 0; y < img.getHeight(); y += 2) {
            for (int x = 0; x < img.getWidth(); x += 2) {
                int rgb = img.getRGB(x, y);
                colors.add(rgb);
                Color c = new Color(rgb);
                double lum = 0.299 * c.getRed() + 0.587 * c.getGreen() + 0.114 * c.getBlue();
                sum += lum;
                sumSq += lum * lum;
                n++;
            }
        }
        double sd = Math.sqrt(sumSq / n - (sum / n) * (sum / n));
        assertThat(colors.size()).as("distinct colors in " + o.file()).isGreaterThan(20);
        assertThat(sd).as("luminance sd of " + o.file()).isGreaterThan(10);
    }

    /** The example: [428, 612] around 458.5 is lopsided and gets no bar (it was drawn from 305 to 612). */
    @Test
    void errorBarsOnlyWhereTheIntervalIsAboutSymmetric() {
        var lopsided = new io.quantgate.results.model.Interval(458.5, 428, 612, 0.95);
        org.assertj.core.api.Assertions.assertThat(ReportCharts.drawnHalfWidth(lopsided)).isZero();
        var even = new io.quantgate.results.model.Interval(100, 90, 111, 0.95);
        org.assertj.core.api.Assertions.assertThat(ReportCharts.drawnHalfWidth(even)).isEqualTo(11.0, org.assertj.core.data.Offset.offset(1e-9));
        org.assertj.core.api.Assertions.assertThat(ReportCharts.drawnHalfWidth(io.quantgate.results.model.Interval.NONE)).isZero();
    }

    @Test
    void aLogAxisWhenBarsSpanMoreThanTwentyTimes() {
        org.assertj.core.api.Assertions.assertThat(ReportCharts.wide(java.util.List.of(18.0, 14000.0))).isTrue();
        org.assertj.core.api.Assertions.assertThat(ReportCharts.wide(java.util.List.of(18.0, 60.0))).isFalse();
        // the smallest bar at least half a decade tall: 107 tok/s on an axis from 10, not from 100
        org.assertj.core.api.Assertions.assertThat(ReportCharts.logAxisMin(107.0)).isEqualTo(10.0, org.assertj.core.data.Offset.offset(1e-9));
        org.assertj.core.api.Assertions.assertThat(ReportCharts.logAxisMin(400.0)).isEqualTo(100.0, org.assertj.core.data.Offset.offset(1e-9));
        org.assertj.core.api.Assertions.assertThat(ReportCharts.logAxisMin(18.0)).isEqualTo(1.0, org.assertj.core.data.Offset.offset(1e-9));
    }

    /** A linear axis tops out at a round number above the highest bar, not at the bar itself (one bar: two ticks). */
    @Test
    void aLinearAxisEndsAtARoundNumberAboveTheHighestBar() {
        assertThat(ReportCharts.roundAbove(3222.2775379866243)).isEqualTo(4000.0, within(1e-9));
        assertThat(ReportCharts.roundAbove(30.0)).isEqualTo(40.0, within(1e-9));
        assertThat(ReportCharts.roundAbove(97.0)).isEqualTo(120.0, within(1e-9));
        assertThat(ReportCharts.roundAbove(1.0)).isEqualTo(1.2, within(1e-9));
        assertThat(ReportCharts.roundAbove(0.45)).isEqualTo(0.5, within(1e-9));
        for (ChartOutcome o : List.of(ReportCharts.throughputComparison(BACKENDS), ReportCharts.backendComparison(BACKENDS),
                ReportCharts.speedupComparison(BACKENDS), ReportCharts.summaryStats(BACKENDS),
                ReportCharts.quantizationImpact(BACKENDS))) {
            CategoryChart chart = (CategoryChart) o.chart();
            if (chart.getStyler().isYAxisLogarithmic()) {
                continue;
            }
            double top = 0; // the highest bar or point with its error bar
            for (CategorySeries sr : chart.getSeriesMap().values()) {
                List<Number> ys = List.copyOf(sr.getYData().stream().map(y -> y == null ? (Number) 0.0 : y).toList());
                for (int i = 0; i < ys.size(); i++) {
                    double e = sr.getExtraValues() == null ? 0 : List.copyOf(sr.getExtraValues()).get(i).doubleValue();
                    top = Math.max(top, ys.get(i).doubleValue() + e);
                }
            }
            double max = chart.getStyler().getYAxisMax(), mantissa = max / Math.pow(10, Math.floor(Math.log10(max)));
            assertThat(max).as(o.file()).isBetween(1.04 * top, 1.04 * 1.34 * top);
            assertThat(List.of(1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0)).as(o.file())
                    .anySatisfy(r -> assertThat(mantissa).isCloseTo(r, within(1e-9)));
        }
    }

    /** Two points at the same spot get labels that do not overlap: the second goes below. */
    @Test
    void labelsOfNearbyPointsDoNotOverlap() {
        java.util.List<double[]> placed = new java.util.ArrayList<>();
        double y1 = ReportCharts.labelY(placed, 1.9, 0.0, 0.1, 1.0);
        placed.add(new double[] {1.9, y1, 0.1, 1.0});
        double y2 = ReportCharts.labelY(placed, 1.95, 0.0, 0.1, 1.0);
        org.assertj.core.api.Assertions.assertThat(y1).isEqualTo(1.2);
        org.assertj.core.api.Assertions.assertThat(Math.abs(y2 - y1)).isGreaterThanOrEqualTo(1.0);
    }
}
