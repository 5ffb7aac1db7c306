package io.quantgate.reports;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** The hand-written results files of src/test/resources/fixtures (see its README) and helpers around them. */
final class Fixtures {
    private Fixtures() {
    }

    static Path file(String name) {
        try {
            return Path.of(Fixtures.class.getResource("/fixtures/" + name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("missing test fixture " + name, e);
        }
    }

    static ResultsSet load(String... names) {
        return ResultsLoader.load(java.util.Arrays.stream(names).map(Fixtures::file).toList());
    }

    static ReportModel model(String... names) {
        return ReportModel.of(load(names), null);
    }

    static ReportOptions options(Path out) {
        return new ReportOptions(out, null, "./quantgate report generate fixtures --out " + out, true, Map.of());
    }

    static List<String> lines(String s) {
        return s.lines().toList();
    }
}
