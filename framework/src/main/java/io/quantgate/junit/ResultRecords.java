package io.quantgate.junit;

import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.results.Records;
import io.quantgate.results.model.Inputs;
import io.quantgate.results.model.ResultRecord;
import io.quantgate.results.model.TestInfo;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.List;

/** A {@link QuantResult} as the record of results.json, through the same {@link Records} the bench commands use. */
final class ResultRecords {
    private ResultRecords() {
    }

    static TestInfo test(ExtensionContext context, QuantTestSpec spec) {
        return new TestInfo(context.getUniqueId(), context.getRequiredTestClass().getName(),
                context.getRequiredTestMethod().getName(), spec.testName(), context.getDisplayName(),
                List.copyOf(context.getTags()));
    }

    static ResultRecord of(QuantResult r, QuantizationConfig config, TestInfo test) {
        QuantResult.Inputs in = r.inputs();
        Inputs inputs = new Inputs(in.model(), in.modelSha256(), in.architecture(), in.tokenizer(), in.tokenizerSha256(),
                in.dataset(), in.datasetSha256(), in.dataset() == null ? null : (long) in.datasetTokens());
        return Records.record(test, config, r.baselineConfig(), r.backend(), r.kernel(),
                r.ran(), r.activations(), inputs, r.compressionRatio(),
                r.weightBytesPerToken() < 0 ? null : r.weightBytesPerToken(),
                r.perplexity().map(c -> Records.perplexity(c, r.perplexityRemeasures())).orElse(null),
                r.throughput().map(t -> Records.throughput(t.level().name().toLowerCase(java.util.Locale.ROOT),
                        t.config(), t.reference(), t.activations(), t.plan(), t.remeasures(), t.rows())).orElse(null),
                r.gates(), r.verdict().map(Enum::name).orElse(null), r.startedAt(), r.finishedAt());
    }
}
