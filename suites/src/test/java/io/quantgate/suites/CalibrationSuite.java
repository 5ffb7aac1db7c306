package io.quantgate.suites;

import io.quantgate.junit.Perplexity;
import io.quantgate.junit.QuantAssertions;
import io.quantgate.junit.QuantBench;
import io.quantgate.junit.QuantConfig;
import io.quantgate.junit.QuantResult;
import io.quantgate.junit.QuantTest;
import org.junit.jupiter.api.Tag;

/**
 * Calibration-aware quantization of stories260K, evaluated on 200 chunks of the WikiText-2 raw test split (never a
 * calibration text): round to nearest vs importance-weighted RTN vs GPTQ (with and without activation order, with the
 * block Hadamard rotation for fp4), fitted on groups_merged.txt (the mixed-domain corpus llama.cpp's imatrix guides
 * use) and on the WikiText-2 validation split; and {@code mixed:auto} at the size of fp4-g128, choosing per tensor
 * among every 4-bit id and int8 by measured sensitivity (KLD, and the calibration text's log-likelihood).
 *
 * <p>The report's Calibration section pairs each calibrated config with RTN of the same id chunk by chunk, and its
 * mixed-precision section pairs mixed:auto with the uniform configs nearest in size. Nothing here is gated: which
 * method helps how much is the measurement (docs/calibration.md discusses where one did not help). This class fits on
 * groups_merged.txt; {@link CalibrationWikiTextSuite} on the WikiText-2 validation split.
 */
@Tag("suite")
@QuantBench(model = "llama2c-stories260K/stories260K.bin", dataset = "wikitext-2", baseline = "fp32",
        calibration = "calibration/groups_merged.txt")
class CalibrationSuite {
    /** Round to nearest vs GPTQ with activation order (the method that helps most here): every run. */
    @QuantTest
    @QuantConfig({"int4-g64", "int4-g64+gptq+act", "fp4-g64", "fp4-g64+gptq+act"})
    @Perplexity(ctx = 512, chunks = 200)
    void methods(QuantResult r) {
        QuantAssertions.assertThat(r).hasCompressionRatioAtLeast(3.5);
    }

    /** The other methods and mixed:auto (its sensitivity sweep takes over a minute per objective): {@code --full}. */
    @QuantTest
    @Tag("full")
    @QuantConfig({"int4-g64+imatrix", "int4-g64+gptq", "fp4-g64+imatrix", "fp4-g64+gptq", "fp4-g64+had",
        "fp4-g64+had+gptq", "fp4-g128", "mixed:auto[fp4-g128]", "mixed:auto[fp4-g128,ppl]"})
    @Perplexity(ctx = 512, chunks = 200)
    void moreMethods(QuantResult r) {
        QuantAssertions.assertThat(r).hasCompressionRatioAtLeast(3.5);
    }
}
