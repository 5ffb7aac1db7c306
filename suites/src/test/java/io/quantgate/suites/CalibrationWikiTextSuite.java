package io.quantgate.suites;

import io.quantgate.junit.Perplexity;
import io.quantgate.junit.QuantAssertions;
import io.quantgate.junit.QuantBench;
import io.quantgate.junit.QuantConfig;
import io.quantgate.junit.QuantResult;
import io.quantgate.junit.QuantTest;
import org.junit.jupiter.api.Tag;

/**
 * {@link CalibrationSuite}'s calibrated configs fitted on the WikiText-2 validation split instead of groups_merged.txt:
 * the same domain as the test text, a different split (never the test split). The report's Calibration section
 * shows both fits next to round to nearest.
 */
@Tag("suite")
@QuantBench(model = "llama2c-stories260K/stories260K.bin", dataset = "wikitext-2", baseline = "fp32",
        calibration = "wikitext-2-tokens/valid.txt")
class CalibrationWikiTextSuite {

    @QuantTest
    @QuantConfig({"int4-g64+imatrix", "int4-g64+gptq+act", "fp4-g64+gptq+act"})
    @Perplexity(ctx = 512, chunks = 200)
    void methods(QuantResult r) {
        QuantAssertions.assertThat(r).hasCompressionRatioAtLeast(3.5);
    }
}
