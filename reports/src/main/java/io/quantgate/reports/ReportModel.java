package io.quantgate.reports;

import io.quantgate.results.model.ThroughputRow;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * The report's view of a {@link ResultsSet}: one {@link ConfigRow} per model × configuration × backend, the
 * tokens/s cells of the backend comparison, and the choices the report makes from them (best configuration per
 * model, mixed-vs-uniform pairs, the reference backend). Every number comes from the records; this class only
 * selects, groups and divides.
 */
public final class ReportModel {
    /** Summary rule: "best" = lowest PPL delta among configurations that compress at least this much. */
    public static final double BEST_MIN_COMPRESSION = 2.0;
    public static final String DEFAULT_REFERENCE_BACKEND = "native";

    private final ResultsSet set;
    private final List<ConfigRow> rows;
    private final List<String> models;
    private final List<BackendCell> cells;
    private final List<String> backends;
    private final String reference;
    private final Map<String, String> formatOfConfig = new HashMap<>();
    private final Map<String, Integer> groupOfConfig = new HashMap<>();

    private ReportModel(ResultsSet set, String requestedReference) {
        this.set = set;
        List<BenchmarkRecord> records = set.records();
        for (BenchmarkRecord r : records) {
            String format = r.record().configFormat();
            formatOfConfig.putIfAbsent(r.config(), format != null ? format : QuantOrder.formatOf(r.config()));
            if (r.record().configGroup() != null) {
                groupOfConfig.putIfAbsent(r.config(), r.record().configGroup());
            }
        }
        // A record without figures (the measurement failed: wrong configuration, unavailable backend) makes no row;
        // the report lists it with its reason among the unsuccessful measurements.
        List<BenchmarkRecord> measured = records.stream()
                .filter(r -> r.perplexity() != null || r.throughput() != null).toList();
        Function<BenchmarkRecord, String> label = modelLabels(measured);
        this.models = measured.stream().map(label).distinct().toList();
        this.rows = buildRows(measured, label);
        this.cells = buildCells(measured, label);
        Set<String> bs = new LinkedHashSet<>();
        cells.stream().map(BackendCell::backend).sorted().forEach(bs::add);
        if (requestedReference != null && !requestedReference.isBlank()) {
            if (!bs.isEmpty() && !bs.contains(requestedReference)) {
                throw new IllegalArgumentException("reference backend '" + requestedReference
                        + "' has no tokens/s in these results (backends with tokens/s: " + String.join(", ", bs) + ")");
            }
            this.reference = requestedReference;
        } else {
            this.reference = bs.contains(DEFAULT_REFERENCE_BACKEND) || bs.isEmpty() ? DEFAULT_REFERENCE_BACKEND
                    : bs.iterator().next();
        }
        List<String> ordered = new ArrayList<>();
        if (bs.contains(reference)) {
            ordered.add(reference);
        }
        bs.stream().filter(b -> !b.equals(reference)).forEach(ordered::add);
        this.backends = List.copyOf(ordered);
    }

    /**
     * @param referenceBackend the backend speedups are taken against; null for {@code native} when present, else
     *                         the first backend by name
     * @throws IllegalArgumentException when the named reference backend has no tokens/s in the results
     */
    public static ReportModel of(ResultsSet set, String referenceBackend) {
        return new ReportModel(set, referenceBackend);
    }

    public ResultsSet results() {
        return set;
    }

    public List<ConfigRow> rows() {
        return rows;
    }

    /** Models in the order they first appear in the results. */
    public List<String> models() {
        return models;
    }

    public String referenceBackend() {
        return reference;
    }

    /** Backends that have tokens/s rows, the reference first, then by name. */
    public List<String> backends() {
        return backends;
    }

    public List<BackendCell> cells() {
        return cells;
    }

    public String formatOf(String config) {
        return formatOfConfig.getOrDefault(config, QuantOrder.formatOf(config));
    }

    public Integer groupOf(String config) {
        return groupOfConfig.get(config);
    }

    public Comparator<String> configOrder() {
        return QuantOrder.configs(this::formatOf, this::groupOf);
    }

    /** The rows of a model, lowest PPL delta first; rows without one after, in quantization order. */
    public List<ConfigRow> rowsOf(String model) {
        Comparator<ConfigRow> byDelta = Comparator.comparing(ConfigRow::hasPplDelta).reversed()
                .thenComparingDouble(r -> r.hasPplDelta() ? r.pplDeltaPercent() : 0)
                .thenComparing(ConfigRow::config, configOrder())
                .thenComparingInt(r -> backends.contains(r.backend()) ? backends.indexOf(r.backend()) : backends.size())
                .thenComparing(ConfigRow::backend);
        return rows.stream().filter(r -> r.model().equals(model)).sorted(byDelta).toList();
    }

    /**
     * The best configuration of a model: the lowest PPL delta among the configurations with a compression ratio of
     * at least {@link #BEST_MIN_COMPRESSION}; empty when none qualifies.
     */
    public Optional<ConfigRow> best(String model) {
        return rowsOf(model).stream()
                .filter(ConfigRow::hasPplDelta)
                .filter(r -> Double.isFinite(r.compression()) && r.compression() >= BEST_MIN_COMPRESSION)
                .findFirst();
    }

    /**
     * Mixed configurations with a PPL delta, each next to the uniform configurations of the same model and backend
     * nearest to it in bits per weight (fewer, equal or more, within 25 %; at most four, nearest first) that were evaluated on the
     * same chunks against the same baseline, with the paired intervals of their differences.
     */
    public List<MixedComparison> mixedComparisons() {
        List<MixedComparison> out = new ArrayList<>();
        for (ConfigRow mixed : rows) {
            if (!"mixed".equals(mixed.format()) || !mixed.hasPplDelta() || !Double.isFinite(mixed.compression())) {
                continue;
            }
            double level = Double.isFinite(mixed.ppl().deltaPercent().level()) ? mixed.ppl().deltaPercent().level()
                    : 0.95;
            rows.stream()
                    .filter(r -> r.model().equals(mixed.model()) && r.backend().equals(mixed.backend()))
                    .filter(r -> !"mixed".equals(r.format()) && r.hasPplDelta() && Double.isFinite(r.compression()))
                    .filter(r -> r.calibrationDataset() == null || r.calibrationDataset().equals(mixed.calibrationDataset()))
                    // near in size only: a config of twice the bits is no competitor either way
                    .filter(r -> Math.abs(Math.log(r.compression() / mixed.compression())) <= Math.log(1.25))
                    .sorted(Comparator.comparingDouble(r -> Math.abs(Math.log(r.compression() / mixed.compression()))))
                    .map(u -> u.evaluatedLike(mixed).orElse(null)).filter(java.util.Objects::nonNull)
                    .map(u -> MixedComparison.paired(mixed, u, level)).filter(java.util.Objects::nonNull).limit(4)
                    .forEach(out::add);
        }
        return out;
    }

    /** The configuration ids a mixed config's rules assign ({@code mixed:attn.*=fp4-g32,mlp.*=fp4-g128}). */
    static Set<String> idsUsedBy(String mixedConfig) {
        Set<String> ids = new LinkedHashSet<>();
        String body = mixedConfig.startsWith("mixed:") ? mixedConfig.substring("mixed:".length()) : mixedConfig;
        for (String rule : body.split(",")) {
            int eq = rule.lastIndexOf('=');
            if (eq >= 0) {
                ids.add(stripUniform(rule.substring(eq + 1).strip()));
            }
        }
        return ids;
    }

    private static String stripUniform(String config) {
        return config.startsWith("uniform:") ? config.substring("uniform:".length()) : config;
    }

    /** Rows with a calibration dataset. */
    public List<ConfigRow> calibratedRows() {
        return rows.stream().filter(r -> r.calibrationDataset() != null).toList();
    }

    /**
     * Calibrated (and rotated) uniform configurations ({@code int4-g64+gptq}, {@code fp4-g64+had+gptq},
     * {@code fp4-g64+had}, ...) next to the round-to-nearest configuration of the same id, model and backend evaluated on the same chunks, with paired intervals.
     */
    public List<CalibrationComparison> calibrationComparisons() {
        List<CalibrationComparison> out = new ArrayList<>();
        for (ConfigRow c : rows) {
            // calibrated configs, and uncalibrated recipes such as +had (a rotation, no calibration text)
            if (!c.hasPplDelta() || "mixed".equals(c.format())) {
                continue;
            }
            String base = CalibrationComparison.roundToNearestOf(c.config());
            if (base == null) {
                continue;
            }
            rows.stream().filter(r -> r.model().equals(c.model()) && r.backend().equals(c.backend())
                            && r.config().equals(base) && r.calibrationDataset() == null && r.hasPplDelta())
                    .map(r -> r.evaluatedLike(c).orElse(null)).filter(java.util.Objects::nonNull)
                    .findFirst()
                    .map(r -> CalibrationComparison.paired(c, r))
                    .filter(java.util.Objects::nonNull)
                    .ifPresent(out::add);
        }
        out.sort(Comparator.comparing((CalibrationComparison x) -> x.calibrated().model())
                .thenComparing(x -> x.roundToNearest().config()).thenComparing(x -> x.calibrated().config())
                .thenComparing(x -> x.calibrated().calibrationDataset()));
        return out;
    }

    /** Records whose measurement did not complete or whose test did not succeed (gate failed, aborted). */
    public List<BenchmarkRecord> unsuccessful() {
        return set.records().stream()
                .filter(r -> r.record().error() != null
                        || (r.record().status() != null && !"SUCCESSFUL".equals(r.record().status())))
                .toList();
    }

    /**
     * The cells the backend charts show: decode workloads (what a user of a chat model waits for), or prefill ones
     * when the results have no decode rows.
     */
    public List<BackendCell> chartCells() {
        boolean anyDecode = cells.stream().anyMatch(c -> "decode".equals(c.level()));
        String level = anyDecode ? "decode" : "prefill";
        return cells.stream().filter(c -> level.equals(c.level())).toList();
    }

    /** The reference backend's cell for the same model, workload and configuration, if measured. */
    public Optional<BackendCell> referenceOf(BackendCell cell) {
        return cells.stream().filter(c -> c.backend().equals(reference) && c.model().equals(cell.model())
                && c.workload().equals(cell.workload()) && c.config().equals(cell.config())).findFirst();
    }

    /**
     * tokens/s of {@code cell} ÷ tokens/s of the reference backend on the same model, workload and configuration
     * (ratio of the two medians); NaN when the reference did not measure it.
     */
    public double speedupOverReference(BackendCell cell) {
        return referenceOf(cell).filter(r -> r.rate().hasEstimate() && r.rate().estimate() > 0)
                .map(r -> cell.rate().estimate() / r.rate().estimate()).orElse(Double.NaN);
    }

    /**
     * Model labels: the model's name, with the first 8 hex digits of its hash added when two different files share
     * a name (two {@code model.bin} from different directories must not be merged).
     */
    private static Function<BenchmarkRecord, String> modelLabels(List<BenchmarkRecord> records) {
        Map<String, Set<String>> hashesByName = new HashMap<>();
        for (BenchmarkRecord r : records) {
            hashesByName.computeIfAbsent(r.modelName(), k -> new LinkedHashSet<>())
                    .add(r.modelSha256() == null ? "" : r.modelSha256());
        }
        return r -> {
            Set<String> hashes = hashesByName.get(r.modelName());
            String sha = r.modelSha256();
            if (hashes.size() > 1 && sha != null && sha.length() >= 8) {
                return r.modelName() + " (" + sha.substring(0, 8) + ")";
            }
            return r.modelName();
        };
    }

    private List<ConfigRow> buildRows(List<BenchmarkRecord> records, Function<BenchmarkRecord, String> label) {
        Map<List<String>, List<BenchmarkRecord>> groups = new LinkedHashMap<>();
        for (BenchmarkRecord r : records) {
            // one row per calibration text too: int4-g64+gptq fitted on two texts is two configurations
            groups.computeIfAbsent(List.of(label.apply(r), r.config(), r.backend(),
                    String.valueOf(r.calibrationDataset())), k -> new ArrayList<>()).add(r);
        }
        List<ConfigRow> out = new ArrayList<>();
        for (Map.Entry<List<String>, List<BenchmarkRecord>> g : groups.entrySet()) {
            List<BenchmarkRecord> rs = g.getValue();
            BenchmarkRecord pplRecord = null;
            for (BenchmarkRecord r : rs) {
                if (r.perplexity() != null && r.perplexity().deltaPercent().hasEstimate()
                        && (pplRecord == null || r.perplexity().scored() >= pplRecord.perplexity().scored())) {
                    pplRecord = r;
                }
            }
            double compression = Double.NaN;
            Long wbpt = null;
            for (BenchmarkRecord r : rs) {
                if (Double.isNaN(compression) && Double.isFinite(r.record().compressionRatio())) {
                    compression = r.record().compressionRatio();
                }
                if (wbpt == null) {
                    wbpt = r.record().weightBytesPerToken();
                }
            }
            if (pplRecord != null && Double.isFinite(pplRecord.record().compressionRatio())) {
                compression = pplRecord.record().compressionRatio();
            }
            ThroughputRow decode = null;
            ThroughputRow prefill = null;
            Map<String, ThroughputRow> kernel = new LinkedHashMap<>(); // in the order they were measured
            for (BenchmarkRecord r : rs) {
                if (r.throughput() == null) {
                    continue;
                }
                for (ThroughputRow row : r.throughput().rows()) {
                    if (!RowFigures.rate(row).hasEstimate()) {
                        continue;
                    }
                    if (RowFigures.isDecode(row) && RowFigures.isTokensPerSecond(row)) {
                        decode = moreRounds(decode, row);
                    } else if (RowFigures.isPrefill(row) && RowFigures.isTokensPerSecond(row)) {
                        prefill = moreRounds(prefill, row);
                    } else if (RowFigures.isKernel(row) && row.label() != null) {
                        kernel.put(row.label(), moreRounds(kernel.get(row.label()), row));
                    }
                }
            }
            BenchmarkRecord first = rs.getFirst();
            String calibration = pplRecord != null && pplRecord.calibrationDataset() != null
                    ? pplRecord.calibrationDataset()
                    : rs.stream().map(BenchmarkRecord::calibrationDataset).filter(c -> c != null).findFirst().orElse(null);
            out.add(new ConfigRow(g.getKey().get(0), first.config(), formatOf(first.config()), groupOf(first.config()),
                    first.backend(), compression, wbpt, pplRecord == null ? null : pplRecord.perplexity(), pplRecord,
                    decode, prefill, java.util.Collections.unmodifiableMap(kernel), calibration, List.copyOf(rs)));
        }
        return List.copyOf(out);
    }

    /** The row with more rounds (more samples behind its interval); the later one on a tie. */
    private static ThroughputRow moreRounds(ThroughputRow current, ThroughputRow candidate) {
        return current == null || candidate.rounds() >= current.rounds() ? candidate : current;
    }

    private List<BackendCell> buildCells(List<BenchmarkRecord> records, Function<BenchmarkRecord, String> label) {
        Map<List<String>, BackendCell> byKey = new LinkedHashMap<>();
        for (BenchmarkRecord r : records) {
            if (r.throughput() == null) {
                continue;
            }
            for (ThroughputRow row : r.throughput().rows()) {
                if (!RowFigures.isTokensPerSecond(row) || !RowFigures.rate(row).hasEstimate() || row.label() == null) {
                    continue;
                }
                List<String> key = List.of(label.apply(r), row.label(), r.config(), r.backend());
                BackendCell current = byKey.get(key);
                if (current == null || row.rounds() >= current.rounds()) {
                    byKey.put(key, new BackendCell(key.get(0), row.label(), row.level(), r.config(),
                            formatOf(r.config()), groupOf(r.config()), r.backend(), RowFigures.rate(row),
                            row.rounds(), r.record().ran()));
                }
            }
        }
        return List.copyOf(byKey.values());
    }
}
