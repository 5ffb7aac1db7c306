package io.quantgate.cli;

import io.quantgate.kernels.format.QuantizationConfig;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ConvertersTest {

    /** Commas inside a mixed: config or a mixed:auto[...] budget do not split the list. */
    @Test
    void configListsKeepMixedConfigsWhole() {
        assertThat(Converters.parseList("int4-g64+gptq, mixed:auto[fp4-g128,fp4,int8,ppl],fp16,"
                        + "mixed:attn.*=fp4-g64+had,mlp.*=int8, nf4-g64").stream().map(QuantizationConfig::label))
                .containsExactly("int4-g64+gptq", "mixed:auto[fp4-g128,fp4,int8,ppl]", "fp16",
                        "mixed:attn.*=fp4-g64+had,mlp.*=int8", "nf4-g64");
    }
}
