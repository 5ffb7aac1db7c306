package io.quantgate.reports;

import io.quantgate.results.model.ThroughputRow;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class RowFiguresTest {

    private static ThroughputRow row(String label, String level) {
        return new ThroughputRow(label, level, "int4s-g32 on native", null, null, null, null, 128, "tokens/s", 4.4e8, 1,
                5, false, 0.95, null, null, null, null, null, null, null, Double.NaN, Double.NaN, null);
    }

    @Test
    void aDecodeAtDepthIsNotTheDecodeFigure() {
        // the report's decode column and charts are tg from an empty cache; tg128@d1536 reads a cache as large again
        // as its depth (bench model --depth) and would mix two figures in one column
        assertThat(RowFigures.isDecode(row("tg128", "decode"))).isTrue();
        assertThat(RowFigures.isDecode(row("tg128@d1536", "decode"))).isFalse();
        assertThat(RowFigures.isDecode(row("pp512", "prefill"))).isFalse();
        assertThat(RowFigures.isPrefill(row("pp512", "prefill"))).isTrue();
    }
}
