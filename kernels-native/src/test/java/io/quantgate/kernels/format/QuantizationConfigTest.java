package io.quantgate.kernels.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class QuantizationConfigTest {

    @Test
    void plainIdAndUniformAreTheSame() {
        QuantizationConfig a = QuantizationConfig.parse("fp4-g64");
        QuantizationConfig b = QuantizationConfig.parse("uniform:fp4-g64");
        assertThat(a).isEqualTo(b).isEqualTo(new QuantizationConfig.Uniform(ConfigId.parse("fp4-g64")));
        assertThat(a.idFor("layers.0.attention.wq")).contains(ConfigId.parse("fp4-g64"));
        assertThat(QuantizationConfig.parse("uniform:nf4").idFor("x")).contains(new ConfigId(WeightFormat.NF4, 128));
        assertThat(a.toString()).isEqualTo("uniform:fp4-g64");
    }

    @Test
    void mixedRulesFirstMatchWinsOverWholeName() {
        QuantizationConfig c = QuantizationConfig.parse("mixed:attn.*=fp4-g64,mlp.*=fp4-g128,lm_head=fp16,*=int8");
        assertThat(c).isInstanceOf(QuantizationConfig.Mixed.class);
        assertThat(((QuantizationConfig.Mixed) c).rules()).containsExactly(
                new QuantizationConfig.Rule("attn.*", ConfigId.parse("fp4-g64")),
                new QuantizationConfig.Rule("mlp.*", ConfigId.parse("fp4-g128")),
                new QuantizationConfig.Rule("lm_head", ConfigId.parse("fp16")),
                new QuantizationConfig.Rule("*", ConfigId.parse("int8")));
        assertThat(c.idFor("attn.wq")).contains(ConfigId.parse("fp4-g64"));
        assertThat(c.idFor("mlp.w1")).contains(ConfigId.parse("fp4-g128"));
        assertThat(c.idFor("lm_head")).contains(ConfigId.parse("fp16"));
        assertThat(c.idFor("lm_head.bias")).contains(ConfigId.parse("int8"));
        assertThat(c.idFor("xattn.wq")).contains(ConfigId.parse("int8"));
    }

    @Test
    void unmatchedKeepsDefault() {
        QuantizationConfig c = QuantizationConfig.parse("mixed:attn.*=fp4-g64, layers.?.ffn=int8");
        assertThat(c.idFor("tok_embeddings")).isEmpty();
        assertThat(c.idFor("xattn.wq")).isEmpty();          // the pattern must match the whole name
        assertThat(c.idFor("attnXwq")).isEmpty();           // '.' is literal, not a regex wildcard
        assertThat(c.idFor("layers.3.ffn")).contains(ConfigId.parse("int8"));
        assertThat(c.idFor("layers.12.ffn")).isEmpty();     // '?' is exactly one character
    }

    @Test
    void globMatching() {
        assertThat(QuantizationConfig.Rule.glob("*", "")).isTrue();
        assertThat(QuantizationConfig.Rule.glob("a*b*c", "a__b__b__c")).isTrue();
        assertThat(QuantizationConfig.Rule.glob("a*b*c", "a__b__b__")).isFalse();
        assertThat(QuantizationConfig.Rule.glob("*.wq", "layers.0.attention.wq")).isTrue();
        assertThat(QuantizationConfig.Rule.glob("*.wq", "layers.0.attention.wqx")).isFalse();
        assertThat(QuantizationConfig.Rule.glob("l?yers.*", "layers.1")).isTrue();
    }

    @Test
    void mixedAuto() {
        assertThat(QuantizationConfig.parse("mixed:auto")).isEqualTo(new QuantizationConfig.MixedAuto(4.5));
        assertThat(QuantizationConfig.parse("mixed:auto[4.25]")).isEqualTo(new QuantizationConfig.MixedAuto(4.25));
        assertThatThrownBy(() -> QuantizationConfig.parse("mixed:auto").idFor("attn.wq"))
                .isInstanceOf(UnsupportedOperationException.class)
                .hasMessage("needs a sensitivity measurement");
        // a rule whose pattern starts with "auto" is still a rule
        assertThat(QuantizationConfig.parse("mixed:autoenc.*=int8").idFor("autoenc.w")).contains(ConfigId.parse("int8"));
    }

    @Test
    void mixedRoundTripsThroughToString() {
        for (String s : List.of("mixed:attn.*=fp4-g64,mlp.*=fp4-g128,lm_head=fp16", "uniform:int8-g64", "mixed:auto[3.5]")) {
            QuantizationConfig c = QuantizationConfig.parse(s);
            assertThat(QuantizationConfig.parse(c.toString())).isEqualTo(c);
        }
    }

    @Test
    void badRuleIsNamed() {
        assertThatThrownBy(() -> QuantizationConfig.parse("mixed:attn.*=fp4-g64,mlp.*=fp5"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("bad rule 'mlp.*=fp5' in config 'mixed:attn.*=fp4-g64,mlp.*=fp5'")
                .hasMessageContaining("unknown format 'fp5'");
        assertThatThrownBy(() -> QuantizationConfig.parse("mixed:attn.*=fp4-g100"))
                .hasMessageContaining("bad rule 'attn.*=fp4-g100'")
                .hasMessageContaining("group 100 is not one of 32, 64, 128, 256");
        assertThatThrownBy(() -> QuantizationConfig.parse("mixed:attn.*"))
                .hasMessage("bad rule 'attn.*' in config 'mixed:attn.*': expected <pattern>=<id>");
        assertThatThrownBy(() -> QuantizationConfig.parse("mixed:=fp16"))
                .hasMessage("bad rule '=fp16' in config 'mixed:=fp16': empty pattern");
        assertThatThrownBy(() -> QuantizationConfig.parse("mixed:a=fp16,,b=int8"))
                .hasMessageContaining("empty rule (stray comma)");
        assertThatThrownBy(() -> QuantizationConfig.parse("mixed:"))
                .hasMessageContaining("no rules after 'mixed:'");
        assertThatThrownBy(() -> QuantizationConfig.parse("mixed:lm_head=fp16-g32"))
                .hasMessageContaining("bad rule 'lm_head=fp16-g32'")
                .hasMessageContaining("dense format 'fp16' takes no group");
    }

    @Test
    void badAutoBudgetIsNamed() {
        assertThatThrownBy(() -> QuantizationConfig.parse("mixed:auto[abc]"))
                .hasMessage("bad config 'mixed:auto[abc]': budget 'abc' is not a number of bits per weight");
        assertThatThrownBy(() -> QuantizationConfig.parse("mixed:auto[-1]"))
                .hasMessageContaining("budget -1.0 bits per weight is outside (0, 32]");
        assertThatThrownBy(() -> QuantizationConfig.parse("mixed:auto[4.5"))
                .hasMessageContaining("'auto[4.5' is not auto or auto[<bits per weight>]");
    }

    @Test
    void badKindAndUniformAreNamed() {
        assertThatThrownBy(() -> QuantizationConfig.parse("foo:fp4"))
                .hasMessageStartingWith("unknown config kind 'foo' in 'foo:fp4'");
        assertThatThrownBy(() -> QuantizationConfig.parse("uniform:fp4-g100"))
                .hasMessage("bad config 'uniform:fp4-g100': bad config id 'fp4-g100': group 100 is not one of 32, 64, 128, 256");
        assertThatThrownBy(() -> QuantizationConfig.parse("")).hasMessageContaining("empty quantization config");
    }
}
