package io.quantgate.reports;

import io.quantgate.results.model.Interval;
import org.knowm.xchart.AnnotationText;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.CategorySeries;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.AxesChartStyler;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.ToDoubleFunction;

/**
 * Builds the report's six charts from a {@link ReportModel} as XChart objects (rendered to PNG by
 * {@link ReportGenerator}). A chart whose data is absent from the results is not built; its {@link ChartOutcome}
 * says why. Colors come from {@link Palette}: formats and backends look the same in every chart.
 */
public final class ReportCharts {
    static {
        // The charts are rendered off-screen: on a CI machine without a display, AWT must not look for one. This has
        // to happen before the first AWT class initializes; -Djava.awt.headless=true on the command line does the same.
        System.setProperty("java.awt.headless", "true");
    }

    public static final String PPL_VS_COMPRESSION = "ppl_vs_compression.png";
    public static final String THROUGHPUT_COMPARISON = "throughput_comparison.png";
    public static final String BACKEND_COMPARISON = "backend_comparison.png";
    public static final String SPEEDUP_COMPARISON = "speedup_comparison.png";
    public static final String SUMMARY_STATS = "summary_stats.png";
    public static final String QUANTIZATION_IMPACT = "quantization_impact.png";
    /** Every chart file a report may have. */
    static final java.util.List<String> FILES = java.util.List.of(PPL_VS_COMPRESSION, THROUGHPUT_COMPARISON,
            BACKEND_COMPARISON, SPEEDUP_COMPARISON, SUMMARY_STATS, QUANTIZATION_IMPACT);
    public static final int HEIGHT = 650;
    static final int MIN_WIDTH = 1000;
    static final int MAX_WIDTH = 2000;
    /** PPL delta reference lines: lossless, 1 % (near-lossless), 5 % (clearly degraded). */
    static final double[] PPL_REFERENCE_PERCENT = {0, 1, 5};
    private static final BasicStroke DASHED = new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
            new float[] {8f, 6f}, 0f);

    private ReportCharts() {
    }

    /** All six, in the order the report shows them. */
    public static List<ChartOutcome> all(ReportModel m) {
        return List.of(pplVsCompression(m), throughputComparison(m), backendComparison(m), speedupComparison(m),
                summaryStats(m), quantizationImpact(m));
    }

    // ---------------------------------------------------------------------------------------------------------------
    // ppl_vs_compression.png

    public static ChartOutcome pplVsCompression(ReportModel m) {
        String title = "PPL delta vs compression";
        // calibrated and rotated configs (+gptq, +imatrix, +had, mixed:auto) sit on their round-to-nearest id's
        // compression and would bury it in labels: the Calibration and mixed-precision tables pair them instead
        List<ConfigRow> all = m.rows().stream()
                .filter(r -> r.hasPplDelta() && Double.isFinite(r.compression()) && r.compression() > 0).toList();
        List<ConfigRow> withDelta = all.stream()
                .filter(r -> r.calibrationDataset() == null && !r.config().contains("+")).toList();
        long calibrated = all.size() - withDelta.size();
        // the same weights on another engine sit on the same spot (the engine-agreement tables say how close): plot the
        // reference engine's points, so that "fp32 on native" and "fp32 on java" are not printed over each other
        String refBackend = m.referenceBackend();
        boolean onlyReference = withDelta.stream().anyMatch(r -> r.backend().equals(refBackend))
                && withDelta.stream().anyMatch(r -> !r.backend().equals(refBackend));
        List<ConfigRow> pts = onlyReference ? withDelta.stream().filter(r -> r.backend().equals(refBackend)).toList()
                : withDelta;
        if (pts.isEmpty()) {
            return ChartOutcome.skipped(PPL_VS_COMPRESSION, title,
                    "no configuration has both a PPL delta and a compression ratio (they come from @Perplexity tests)");
        }
        boolean manyModels = pts.stream().map(ConfigRow::model).distinct().count() > 1;
        boolean manyBackends = pts.stream().map(ConfigRow::backend).distinct().count() > 1;
        // Point size: one metric for all points, or none (sizes from different metrics would compare apples and pears)
        ToDoubleFunction<ConfigRow> tps = null;
        String sizeNote;
        if (pts.stream().allMatch(r -> r.decode() != null)) {
            tps = r -> RowFigures.rate(r.decode()).estimate();
            sizeNote = "the halo's area is proportional to decode tokens/s";
        } else if (pts.stream().allMatch(r -> Double.isFinite(r.ppl().quantTokensPerSecond()))) {
            tps = r -> r.ppl().quantTokensPerSecond();
            sizeNote = "the halo's area is proportional to the tokens/s of the perplexity evaluation (no decode "
                    + "throughput was measured for every point)";
        } else {
            sizeNote = "points are not sized: not every point has tokens/s";
        }
        double maxTps = 0;
        if (tps != null) {
            for (ConfigRow r : pts) {
                maxTps = Math.max(maxTps, tps.applyAsDouble(r));
            }
        }
        double xMin = pts.stream().mapToDouble(ConfigRow::compression).min().orElseThrow();
        double xMax = pts.stream().mapToDouble(ConfigRow::compression).max().orElseThrow();
        double xPad = Math.max(0.25, 0.08 * (xMax - xMin));
        double yLo = 0;
        double yHi = PPL_REFERENCE_PERCENT[PPL_REFERENCE_PERCENT.length - 1];
        for (ConfigRow r : pts) {
            Interval d = r.ppl().deltaPercent();
            yLo = Math.min(yLo, d.hasBounds() ? d.low() : d.estimate());
            yHi = Math.max(yHi, d.hasBounds() ? d.high() : d.estimate());
        }
        double yPad = 0.08 * (yHi - yLo);

        XYChart chart = new XYChartBuilder().width(MIN_WIDTH).height(HEIGHT).title(title)
                .xAxisTitle("compression ratio (fp16 bytes / packed bytes of the linears)")
                .yAxisTitle("PPL delta % vs baseline").build();
        style(chart.getStyler());
        chart.getStyler().setMarkerSize(9);
        chart.getStyler().setXAxisMin(xMin - xPad).setXAxisMax(xMax + xPad);
        chart.getStyler().setYAxisMin(yLo - yPad).setYAxisMax(yHi + yPad);
        chart.getStyler().setXAxisDecimalPattern("0.0");

        double x0 = xMin - xPad;
        double x1 = xMax + xPad;
        for (double ref : PPL_REFERENCE_PERCENT) {
            XYSeries s = chart.addSeries("reference " + Fmt.fixed(ref, 0) + " %", new double[] {x0, x1},
                    new double[] {ref, ref});
            s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line).setMarker(SeriesMarkers.NONE);
            s.setLineStyle(DASHED).setLineColor(Palette.REFERENCE);
            s.setShowInLegend(false);
            // labels at staggered x positions: the 0 % and 1 % lines are often a few pixels apart
            double at = x1 - (ref == 1 ? 0.12 : 0.04) * (x1 - x0);
            chart.addAnnotation(new AnnotationText(Fmt.fixed(ref, 0) + " %", at, ref + yPad * (ref == 0 ? -0.3 : 0.25), false));
        }
        // halos first (drawn below), then interval bars, then one series per format for the legend and the dots
        Map<String, List<ConfigRow>> byFormat = new LinkedHashMap<>();
        pts.stream().sorted(Comparator.comparingInt((ConfigRow r) -> QuantOrder.rank(r.format()))
                        .thenComparing(ConfigRow::format).thenComparing(ConfigRow::config, m.configOrder()))
                .forEach(r -> byFormat.computeIfAbsent(r.format(), k -> new ArrayList<>()).add(r));
        if (tps != null && maxTps > 0) {
            for (ConfigRow r : pts) {
                double d = 10 + 40 * Math.sqrt(Math.max(0, tps.applyAsDouble(r)) / maxTps);
                XYSeries s = chart.addSeries("size " + pointLabel(r, manyModels, manyBackends),
                        new double[] {r.compression()}, new double[] {r.pplDeltaPercent()});
                s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter).setMarker(new SizedCircle(d));
                s.setMarkerColor(translucent(Palette.format(r.format()), 70));
                s.setShowInLegend(false);
            }
        }
        for (ConfigRow r : pts) {
            Interval d = r.ppl().deltaPercent();
            if (d.hasBounds()) {
                XYSeries s = chart.addSeries("CI " + pointLabel(r, manyModels, manyBackends),
                        new double[] {r.compression(), r.compression()}, new double[] {d.low(), d.high()});
                s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line).setMarker(SeriesMarkers.NONE);
                // solid: XChart would otherwise give each series the next of its dash patterns
                s.setLineStyle(new BasicStroke(2f)).setLineColor(Palette.format(r.format()));
                s.setShowInLegend(false);
            }
        }
        // label boxes in data units (about 7 px a character, 16 px a line on a ~850 x 500 px plot area)
        double xPerPx = (x1 - x0) / (MIN_WIDTH - 150.0);
        double yPerPx = (yHi + yPad - (yLo - yPad)) / (HEIGHT - 150.0);
        List<double[]> placed = new ArrayList<>();
        for (Map.Entry<String, List<ConfigRow>> f : byFormat.entrySet()) {
            double[] xs = f.getValue().stream().mapToDouble(ConfigRow::compression).toArray();
            double[] ys = f.getValue().stream().mapToDouble(ConfigRow::pplDeltaPercent).toArray();
            XYSeries s = chart.addSeries(f.getKey(), xs, ys);
            s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter).setMarker(SeriesMarkers.CIRCLE);
            s.setMarkerColor(Palette.format(f.getKey()));
            for (ConfigRow r : f.getValue()) {
                String text = shorten(pointLabel(r, manyModels, manyBackends && !onlyReference));
                double halfW = text.length() * 3.5 * xPerPx;
                double h = 16 * yPerPx;
                double y = labelY(placed, r.compression(), r.pplDeltaPercent(), halfW, h);
                placed.add(new double[] {r.compression(), y, halfW, h});
                chart.addAnnotation(new AnnotationText(text, r.compression(), y, false));
            }
        }
        return new ChartOutcome(PPL_VS_COMPRESSION, title, chart, null, "Each point is one configuration, colored "
                + "by format; " + sizeNote + "; vertical bars: confidence interval of the PPL delta; dashed lines at "
                + "0, 1 and 5 %." + (onlyReference ? " Points of the reference engine (" + refBackend + "); the same "
                + "configurations on other engines are in the tables." : "") + (calibrated == 0 ? "" : " " + calibrated
                + " calibrated or rotated configurations are not drawn: the Calibration and mixed-precision sections "
                + "compare them with round to nearest."));
    }

    /**
     * The height of a point's label: just above the point, else below it, else further above or below, the first
     * place whose box overlaps no label placed before.
     */
    static double labelY(List<double[]> placed, double x, double y, double halfW, double h) {
        double[] offsets = {1.2, -1.6, 2.4, -2.8, 3.6, -4.0, 4.8};
        for (double o : offsets) {
            double cy = y + o * h;
            boolean free = placed.stream().noneMatch(p -> Math.abs(p[0] - x) < p[2] + halfW
                    && Math.abs(p[1] - cy) < (p[3] + h) / 2);
            if (free) {
                return cy;
            }
        }
        return y + offsets[0] * h;
    }

    private static String pointLabel(ConfigRow r, boolean manyModels, boolean manyBackends) {
        return (manyModels ? r.model() + " · " : "") + r.label() + (manyBackends ? " on " + r.backend() : "");
    }

    // ---------------------------------------------------------------------------------------------------------------
    // throughput_comparison.png

    public static ChartOutcome throughputComparison(ReportModel m) {
        String backend = m.referenceBackend();
        String title = "Tokens/s by model and configuration" + (m.backends().size() > 1 ? " (" + backend + ")" : "");
        List<BackendCell> cells = new ArrayList<>();
        for (String model : m.models()) {
            List<BackendCell> mine = m.cells().stream()
                    .filter(c -> c.model().equals(model) && c.backend().equals(backend)).toList();
            boolean decode = mine.stream().anyMatch(c -> "decode".equals(c.level()));
            mine.stream().filter(c -> (decode ? "decode" : "prefill").equals(c.level())).forEach(cells::add);
        }
        if (cells.isEmpty()) {
            return ChartOutcome.skipped(THROUGHPUT_COMPARISON, title,
                    "no tokens/s in these results (they come from @Throughput tests at PREFILL or DECODE level)");
        }
        Map<String, String> modelLabel = shortLabels(cells.stream().map(BackendCell::model).toList());
        List<String> categories = cells.stream().map(c -> modelLabel.get(c.model()) + " · " + c.workload()).distinct().toList();
        List<String> configs = cells.stream().map(BackendCell::config).distinct().sorted(m.configOrder()).toList();
        Map<String, String> configLabel = shortLabels(configs);
        boolean log = wide(cells.stream().map(c -> c.rate().estimate()).toList());
        CategoryChart chart = barChart(title, "model · workload", "tokens/s (median" + (log ? ", log scale" : "") + ")",
                categories.size() * configs.size(), categories);
        for (String config : configs) {
            List<Double> ys = new ArrayList<>();
            List<Double> err = new ArrayList<>();
            for (String cat : categories) {
                BackendCell c = cells.stream().filter(x -> x.config().equals(config)
                        && (modelLabel.get(x.model()) + " · " + x.workload()).equals(cat)).findFirst().orElse(null);
                ys.add(c == null ? null : c.rate().estimate());
                err.add(c == null || log ? 0.0 : drawnHalfWidth(c.rate()));
            }
            series(chart, configLabel.get(config), categories, ys, err).setFillColor(configColor(m, configs, config));
        }
        fitYAxis(chart, log);
        return new ChartOutcome(THROUGHPUT_COMPARISON, title, chart, null, "Median tokens/s of each configuration "
                + "(decode when measured, else prefill) on " + backend + "; configurations of one format share its "
                + "color in shades; " + (log ? LOG_NOTE : ERROR_BAR_NOTE));
    }

    private static Color configColor(ReportModel m, List<String> configs, String config) {
        String format = m.formatOf(config);
        List<String> same = configs.stream().filter(c -> m.formatOf(c).equals(format)).toList();
        return Palette.config(format, same.indexOf(config), same.size());
    }

    // ---------------------------------------------------------------------------------------------------------------
    // backend charts

    /** Category labels of the backend charts: the configuration, with model and workload when they vary. */
    private record Categories(List<String> labels, Map<String, List<BackendCell>> cellsByLabel) {
        static Categories of(ReportModel m, List<BackendCell> cells) {
            boolean manyModels = cells.stream().map(BackendCell::model).distinct().count() > 1;
            boolean manyWorkloads = cells.stream().map(c -> c.model() + "\u0000" + c.workload()).distinct().count()
                    > (manyModels ? cells.stream().map(BackendCell::model).distinct().count() : 1);
            Comparator<BackendCell> order = Comparator.comparingInt((BackendCell c) -> m.models().indexOf(c.model()))
                    .thenComparing(BackendCell::workload).thenComparing(BackendCell::config, m.configOrder());
            Map<String, String> modelLabel = shortLabels(cells.stream().map(BackendCell::model).toList());
            Map<String, String> configLabel = shortLabels(cells.stream().map(BackendCell::config).toList());
            Map<String, List<BackendCell>> byLabel = new LinkedHashMap<>();
            cells.stream().sorted(order).forEach(c -> byLabel.computeIfAbsent(
                    (manyModels ? modelLabel.get(c.model()) + " · " : "") + (manyWorkloads ? c.workload() + " · " : "")
                            + configLabel.get(c.config()), k -> new ArrayList<>()).add(c));
            return new Categories(List.copyOf(byLabel.keySet()), byLabel);
        }

        BackendCell cell(String label, String backend) {
            return cellsByLabel.get(label).stream().filter(c -> c.backend().equals(backend)).findFirst().orElse(null);
        }
    }

    private static String workloadNote(List<BackendCell> cells) {
        Set<String> w = new LinkedHashSet<>();
        cells.forEach(c -> w.add(c.workload()));
        return String.join(", ", w);
    }

    public static ChartOutcome backendComparison(ReportModel m) {
        String title = "Tokens/s per backend and quantization";
        List<BackendCell> cells = m.chartCells();
        if (cells.isEmpty()) {
            return ChartOutcome.skipped(BACKEND_COMPARISON, title,
                    "no tokens/s in these results (they come from @Throughput tests at PREFILL or DECODE level)");
        }
        Categories cats = Categories.of(m, cells);
        List<String> backends = backendsIn(m, cells);
        boolean log = wide(cells.stream().map(c -> c.rate().estimate()).toList());
        CategoryChart chart = barChart(title + " (" + workloadNote(cells) + ")", "quantization",
                "tokens/s (median" + (log ? ", log scale" : "") + ")", cats.labels().size() * backends.size(),
                cats.labels());
        for (String b : backends) {
            List<Double> ys = new ArrayList<>();
            List<Double> err = new ArrayList<>();
            for (String label : cats.labels()) {
                BackendCell c = cats.cell(label, b);
                ys.add(c == null ? null : c.rate().estimate());
                err.add(c == null || log ? 0.0 : drawnHalfWidth(c.rate()));
            }
            series(chart, b, cats.labels(), ys, err).setFillColor(Palette.backend(b));
        }
        fitYAxis(chart, log);
        return new ChartOutcome(BACKEND_COMPARISON, title, chart, null, "Median tokens/s of each quantization on each "
                + "backend (" + workloadNote(cells) + "); " + (log ? LOG_NOTE : ERROR_BAR_NOTE));
    }

    public static ChartOutcome speedupComparison(ReportModel m) {
        String ref = m.referenceBackend();
        String title = "Speedup over " + ref;
        List<BackendCell> cells = m.chartCells();
        List<BackendCell> others = cells.stream()
                .filter(c -> !c.backend().equals(ref) && Double.isFinite(m.speedupOverReference(c))).toList();
        if (others.isEmpty()) {
            return ChartOutcome.skipped(SPEEDUP_COMPARISON, title, "needs tokens/s of the same quantization and "
                    + "workload on the reference backend (" + ref + ") and on another backend; backends with tokens/s "
                    + "here: " + (m.backends().isEmpty() ? "none" : String.join(", ", m.backends())));
        }
        Categories cats = Categories.of(m, others);
        List<String> backends = backendsIn(m, others);
        CategoryChart chart = barChart(title + " (" + workloadNote(others) + ")", "quantization",
                "tokens/s ÷ tokens/s on " + ref, cats.labels().size() * backends.size(), cats.labels());
        for (String b : backends) {
            List<Double> ys = new ArrayList<>();
            for (String label : cats.labels()) {
                BackendCell c = cats.cell(label, b);
                ys.add(c == null ? null : m.speedupOverReference(c));
            }
            chart.addSeries(b, cats.labels(), ys).setFillColor(Palette.backend(b));
        }
        List<Double> ones = cats.labels().stream().map(l -> 1.0).toList();
        CategorySeries line = chart.addSeries(ref + " = 1.0×", cats.labels(), ones);
        line.setChartCategorySeriesRenderStyle(CategorySeries.CategorySeriesRenderStyle.Line);
        line.setMarker(SeriesMarkers.NONE);
        line.setLineStyle(DASHED).setLineColor(Palette.REFERENCE);
        fitYAxis(chart, false);
        return new ChartOutcome(SPEEDUP_COMPARISON, title, chart, null, "Median tokens/s on each backend divided by "
                + "the median on " + ref + " for the same model, workload and quantization (measured in separate runs: "
                + "a ratio of medians, without an interval); dashed line at 1.0× = as fast as " + ref + ".");
    }

    public static ChartOutcome summaryStats(ReportModel m) {
        String title = "Tokens/s per backend: average, maximum, minimum";
        List<BackendCell> cells = m.chartCells();
        if (cells.isEmpty()) {
            return ChartOutcome.skipped(SUMMARY_STATS, title,
                    "no tokens/s in these results (they come from @Throughput tests at PREFILL or DECODE level)");
        }
        List<String> stats = List.of("average", "maximum", "minimum");
        List<String> backends = backendsIn(m, cells);
        // only what every backend measured: statistics over different sets would set one backend's slowest model
        // against another's fastest (a backend that ran only the small model "beat" one whose minimum was the 1B)
        java.util.function.Function<BackendCell, String> key = c -> c.model() + "\u0000" + c.workload() + "\u0000" + c.config();
        Set<String> common = new LinkedHashSet<>(cells.stream().map(key).toList());
        for (String b : backends) {
            common.retainAll(cells.stream().filter(c -> c.backend().equals(b)).map(key).collect(java.util.stream.Collectors.toSet()));
        }
        if (common.isEmpty()) {
            return ChartOutcome.skipped(SUMMARY_STATS, title, "no model · workload · quantization was measured on every "
                    + "backend (" + String.join(", ", backends) + "): their statistics would be over different sets");
        }
        List<BackendCell> shared = cells.stream().filter(c -> common.contains(key.apply(c))).toList();
        int left = (int) cells.stream().map(key).distinct().count() - common.size();
        CategoryChart chart = barChart(title + " (" + workloadNote(shared) + ")", "statistic over the quantizations",
                "tokens/s (median per quantization)", stats.size() * backends.size(), stats);
        for (String b : backends) {
            double[] v = shared.stream().filter(c -> c.backend().equals(b)).mapToDouble(c -> c.rate().estimate())
                    .toArray();
            chart.addSeries(b, stats, List.of(java.util.Arrays.stream(v).average().orElseThrow(),
                    java.util.Arrays.stream(v).max().orElseThrow(), java.util.Arrays.stream(v).min().orElseThrow()))
                    .setFillColor(Palette.backend(b));
        }
        fitYAxis(chart, false);
        return new ChartOutcome(SUMMARY_STATS, title, chart, null, "For each backend, the average, maximum and minimum "
                + "of its median tokens/s over the " + common.size() + " model · workload · quantization combinations "
                + "every backend measured (" + workloadNote(shared) + ")" + (left > 0 ? "; " + left + " measured on "
                + "only some backends " + (left == 1 ? "is" : "are") + " left out (the backend comparison has them)" : "") + ".");
    }

    public static ChartOutcome quantizationImpact(ReportModel m) {
        String title = "Tokens/s across quantizations, one line per backend";
        List<BackendCell> all = m.chartCells();
        if (all.isEmpty()) {
            return ChartOutcome.skipped(QUANTIZATION_IMPACT, title,
                    "no tokens/s in these results (they come from @Throughput tests at PREFILL or DECODE level)");
        }
        // A line joins quantizations of one model and workload: across models it would draw a trend that is not one.
        // The chart shows the model and workload with the most measurements (the first one on a tie).
        Map<String, List<BackendCell>> byWorkload = new LinkedHashMap<>();
        all.stream().sorted(Comparator.comparingInt((BackendCell c) -> m.models().indexOf(c.model())))
                .forEach(c -> byWorkload.computeIfAbsent(c.model() + " · " + c.workload(), k -> new ArrayList<>()).add(c));
        Map.Entry<String, List<BackendCell>> chosen = byWorkload.entrySet().stream()
                .max(Comparator.comparingInt((Map.Entry<String, List<BackendCell>> e) -> e.getValue().size())
                        .thenComparing(e -> -new ArrayList<>(byWorkload.keySet()).indexOf(e.getKey())))
                .orElseThrow();
        List<BackendCell> cells = chosen.getValue();
        Categories cats = Categories.of(m, cells);
        List<String> backends = backendsIn(m, cells);
        CategoryChart chart = barChart(title + " (" + shorten(chosen.getKey()) + ")", "quantization (widest to narrowest)",
                "tokens/s (median)", cats.labels().size(), cats.labels());
        chart.getStyler().setDefaultSeriesRenderStyle(CategorySeries.CategorySeriesRenderStyle.Line);
        chart.getStyler().setOverlapped(true); // lines meet at the category's center instead of side by side like bars
        chart.getStyler().setMarkerSize(8);
        for (String b : backends) {
            List<Double> ys = new ArrayList<>();
            List<Double> err = new ArrayList<>();
            for (String label : cats.labels()) {
                BackendCell c = cats.cell(label, b);
                ys.add(c == null ? null : c.rate().estimate());
                err.add(c == null ? 0.0 : drawnHalfWidth(c.rate()));
            }
            CategorySeries s = series(chart, b, cats.labels(), ys, err);
            s.setLineColor(Palette.backend(b)).setLineWidth(2.5f);
            s.setMarker(SeriesMarkers.CIRCLE);
            s.setMarkerColor(Palette.backend(b));
            s.setFillColor(Palette.backend(b));
        }
        String others = byWorkload.size() > 1 ? " (of " + byWorkload.size() + " model · workload pairs, the one with the "
                + "most measurements; the backend comparison table has the others)" : "";
        fitYAxis(chart, false);
        return new ChartOutcome(QUANTIZATION_IMPACT, title, chart, null, "Median tokens/s of each backend across the "
                + "quantizations of " + chosen.getKey() + others + ", widest format first; " + ERROR_BAR_NOTE);
    }

    /**
     * Adds a category series with error bars when it has a value in every category; XChart cannot compute the axis
     * range of a series with error bars and a missing value, so a series with gaps is drawn without them (the gap
     * itself is shown: no bar, a break in the line).
     */
    private static CategorySeries series(CategoryChart chart, String name, List<String> categories, List<Double> ys,
                                         List<Double> err) {
        boolean complete = ys.stream().allMatch(java.util.Objects::nonNull);
        boolean anyError = err.stream().anyMatch(e -> e != null && e > 0);
        return complete && anyError ? chart.addSeries(name, categories, ys, err) : chart.addSeries(name, categories, ys);
    }

    private static List<String> backendsIn(ReportModel m, List<BackendCell> cells) {
        Set<String> present = new LinkedHashSet<>();
        cells.forEach(c -> present.add(c.backend()));
        return m.backends().stream().filter(present::contains).toList();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // common

    static final String ERROR_BAR_NOTE = "error bars show the bootstrap interval of the median where it is about "
            + "symmetric (its two sides within 25 %); a lopsided interval gets no bar, because XChart draws only "
            + "symmetric ones and a bar would claim a side the interval does not have: the tables give every interval.";
    static final String LOG_NOTE = "log scale, because the medians span more than 20×: a model 1000× faster no longer "
            + "hides the others; no error bars on it (the tables give the intervals).";

    /** Whether bar heights span more than 20× (then a linear axis makes the small ones invisible). */
    static boolean wide(List<Double> values) {
        double lo = values.stream().filter(v -> v != null && v > 0).mapToDouble(Double::doubleValue).min().orElse(1);
        double hi = values.stream().filter(v -> v != null && v > 0).mapToDouble(Double::doubleValue).max().orElse(1);
        return hi / lo > 20;
    }

    /**
     * The y axis of a chart whose series are all added. Log: from the power of ten {@link #logAxisMin} gives to the
     * one at or above the highest bar. Linear: from 0 to a round number just above the highest bar or point and its
     * error bar — left to itself, XChart tops the axis at the highest value, so one bar gets two ticks, 0 and that
     * value printed to 13 decimals.
     */
    private static void fitYAxis(CategoryChart chart, boolean log) {
        double lo = Double.POSITIVE_INFINITY, hi = 0, top = 0;
        for (CategorySeries s : chart.getSeriesMap().values()) {
            List<Number> err = s.getExtraValues() == null ? List.of() : new ArrayList<>(s.getExtraValues());
            int i = 0;
            for (Number y : s.getYData()) {
                if (y != null && Double.isFinite(y.doubleValue())) {
                    Number e = i < err.size() ? err.get(i) : null;
                    top = Math.max(top, y.doubleValue() + (e == null ? 0 : e.doubleValue()));
                    if (y.doubleValue() > 0) {
                        lo = Math.min(lo, y.doubleValue());
                        hi = Math.max(hi, y.doubleValue());
                    }
                }
                i++;
            }
        }
        if (log) {
            chart.getStyler().setYAxisLogarithmic(true);
            chart.getStyler().setYAxisMin(logAxisMin(hi > 0 ? lo : 1));
            chart.getStyler().setYAxisMax(Math.pow(10, Math.ceil(Math.log10(hi > 0 ? hi : 1))));
        } else if (top > 0) {
            chart.getStyler().setYAxisMax(roundAbove(top));
        }
    }

    /** The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of ten that is at least 4 % above v (> 0). */
    static double roundAbove(double v) {
        double want = v * 1.04, p = Math.pow(10, Math.floor(Math.log10(want)));
        for (double m : new double[] {1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10}) {
            if (m * p >= want) {
                return m * p;
            }
        }
        return 10 * p;
    }

    /**
     * The bottom of a log axis: the power of ten at or below a third of the smallest bar, so that the smallest bar is
     * at least a half decade tall (at the power of ten just below it, a bar of 107 on an axis from 100 was a sliver).
     */
    static double logAxisMin(double smallest) {
        return Math.pow(10, Math.floor(Math.log10(smallest / 3)));
    }

    private static CategoryChart barChart(String title, String xTitle, String yTitle, int bars, List<String> categories) {
        int width = Math.clamp(320L + 34L * bars, MIN_WIDTH, MAX_WIDTH);
        CategoryChart chart = new CategoryChartBuilder().width(width).height(HEIGHT).title(title).xAxisTitle(xTitle)
                .yAxisTitle(yTitle).build();
        style(chart.getStyler());
        chart.getStyler().setOverlapped(false).setAvailableSpaceFill(0.8);
        chart.getStyler().setErrorBarsColor(Color.BLACK);
        chart.getStyler().setPlotGridVerticalLinesVisible(false);
        chart.getStyler().setYAxisMin(0.0);
        int longest = categories.stream().mapToInt(String::length).max().orElse(0);
        if (categories.size() > 4 || longest > 14) {
            chart.getStyler().setXAxisLabelRotation(categories.size() > 8 || longest > 24 ? 45 : 25);
        }
        return chart;
    }

    private static void style(AxesChartStyler s) {
        s.setChartBackgroundColor(Color.WHITE);
        s.setPlotBackgroundColor(Color.WHITE);
        s.setPlotBorderColor(new Color(0xcc, 0xcc, 0xcc));
        s.setPlotGridLinesColor(new Color(0xe6, 0xe6, 0xe6));
        s.setLegendPosition(Styler.LegendPosition.OutsideE);
        s.setLegendBorderColor(Color.WHITE);
        s.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 18));
        s.setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
        s.setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        s.setLegendFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        s.setAnnotationTextFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        s.setAnnotationTextFontColor(new Color(0x33, 0x33, 0x33));
        s.setAntiAlias(true);
        s.setLocale(java.util.Locale.ROOT);
        s.setChartPadding(12);
    }

    private static Color translucent(Color c, int alpha) {
        return new Color(c.getRed(), c.getGreen(), c.getBlue(), alpha);
    }

    /**
     * The larger distance from the estimate to an end of the interval: XChart draws symmetric error bars, and a
     * bar that covers the whole interval overstates the uncertainty on one side rather than hiding it on the other.
     * 0 without an estimate and both bounds.
     */
    /** The error bar to draw: the half-width when the interval is about symmetric, else none (0). */
    static double drawnHalfWidth(Interval i) {
        if (!i.hasEstimate() || !i.hasBounds()) {
            return 0;
        }
        double below = i.estimate() - i.low(), above = i.high() - i.estimate();
        return Math.abs(above - below) <= 0.25 * Math.max(above, below) ? Math.max(above, below) : 0;
    }

    /** Mixed configuration ids are long; the tables carry them whole, the axes a readable prefix. */
    static String shorten(String s) {
        return s.length() <= 32 ? s : s.substring(0, 31) + "…";
    }

    /**
     * Short labels for names that must stay distinct (series names, categories): the prefix from {@link #shorten},
     * or, where two names share it ({@code mixed:attn.*=fp4-g32,mlp.*=fp4-g128} and {@code ...fp4-g64}), their start
     * and end around an ellipsis, or the whole name when even that collides.
     */
    static Map<String, String> shortLabels(java.util.Collection<String> names) {
        List<String> distinct = names.stream().distinct().toList();
        Map<String, String> out = new LinkedHashMap<>();
        Map<String, Long> prefixCount = distinct.stream()
                .collect(java.util.stream.Collectors.groupingBy(ReportCharts::shorten, java.util.stream.Collectors.counting()));
        for (String n : distinct) {
            String s = shorten(n);
            out.put(n, prefixCount.get(s) == 1 ? s : n.substring(0, 14) + "…" + n.substring(n.length() - 17));
        }
        Map<String, Long> count = out.values().stream()
                .collect(java.util.stream.Collectors.groupingBy(v -> v, java.util.stream.Collectors.counting()));
        out.replaceAll((n, s) -> count.get(s) == 1 ? s : n);
        return out;
    }
}
