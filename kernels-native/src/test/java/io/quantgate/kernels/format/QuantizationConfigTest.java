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
                .hasMessageStartingWith("bad config 'mixed:auto[abc]': budget 'abc' is neither a number of bits per "
                        + "weight nor a config id whose size to match (unknown format 'abc'");
        assertThatThrownBy(() -> QuantizationConfig.parse("mixed:auto[-1]"))
                .hasMessageContaining("budget -1.0 bits per weight is outside (0, 32]");
        assertThatThrownBy(() -> QuantizationConfig.parse("mixed:auto[4.5"))
                .hasMessageContaining("'auto[4.5' is not auto, auto[<bits per weight>]");
    }

    @Test
    void badKindAndUniformAreNamed() {
        assertThatThrownBy(() -> QuantizationConfig.parse("foo:fp4"))
                .hasMessageStartingWith("unknown config kind 'foo' in 'foo:fp4'");
        assertThatThrownBy(() -> QuantizationConfig.parse("uniform:fp4-g100"))
                .hasMessage("bad config 'uniform:fp4-g100': bad config id 'fp4-g100': group 100 is not one of 32, 64, 128, 256");
        assertThatThrownBy(() -> QuantizationConfig.parse("")).hasMessageContaining("empty quantization config");
    }

    @Test
    void recipesParseAsIdSuffixes() {
        QuantizationConfig g = QuantizationConfig.parse("int4-g64+gptq");
        assertThat(g).isEqualTo(new QuantizationConfig.Uniform(ConfigId.parse("int4-g64"),
                new Recipe(Recipe.Method.GPTQ, false, false)));
        assertThat(g.label()).isEqualTo("int4-g64+gptq");
        assertThat(g.needsCalibration()).isTrue();
        assertThat(g.rotates()).isFalse();
        // modifiers in any order, written back in canonical order
        QuantizationConfig h = QuantizationConfig.parse("fp4-g128+gptq+act+had");
        assertThat(h.label()).isEqualTo("fp4-g128+had+gptq+act");
        assertThat(h.recipeFor("layers.0.attn.q")).isEqualTo(new Recipe(Recipe.Method.GPTQ, true, true));
        assertThat(h.rotates()).isTrue();
        assertThat(QuantizationConfig.parse("int4s-g32+imatrix").recipeFor("x").method()).isEqualTo(Recipe.Method.IMATRIX);
        assertThat(QuantizationConfig.parse("fp32+had").needsCalibration()).isFalse();
        assertThat(QuantizationConfig.parse("fp4-g64").recipeFor("x")).isEqualTo(Recipe.RTN);
        for (String s : List.of("int4-g64+gptq", "fp4-g128+had+gptq+act", "uniform:nf4-g64+imatrix", "fp32+had",
                "mixed:attn.*=fp4-g64+had+gptq,mlp.*=int4-g128+imatrix,lm_head=int8")) {
            QuantizationConfig c = QuantizationConfig.parse(s);
            assertThat(QuantizationConfig.parse(c.label())).isEqualTo(c);
            assertThat(QuantizationConfig.parse(c.toString())).isEqualTo(c);
        }
    }

    @Test
    void mixedRulesCarryTheirRecipe() {
        QuantizationConfig c = QuantizationConfig.parse("mixed:attn.*=fp4-g64+had+gptq,mlp.*=int4-g128");
        assertThat(c.recipeFor("layers.2.attn.o")).isEqualTo(new Recipe(Recipe.Method.GPTQ, true, false));
        assertThat(c.recipeFor("layers.2.mlp.up")).isEqualTo(Recipe.RTN);
        assertThat(c.recipeFor("lm_head")).isEqualTo(Recipe.RTN);
        assertThat(c.needsCalibration()).isTrue();
        assertThat(c.rotates()).isTrue();
        assertThat(QuantizationConfig.parse("mixed:attn.*=fp4-g64").needsCalibration()).isFalse();
    }

    @Test
    void badRecipesAreNamed() {
        assertThatThrownBy(() -> QuantizationConfig.parse("int4-g64+gtpq"))
                .hasMessage("bad config id 'int4-g64+gtpq': unknown modifier '+gtpq' (valid: +gptq, +imatrix, +had, +act)");
        assertThatThrownBy(() -> QuantizationConfig.parse("int4-g64+gptq+imatrix"))
                .hasMessageContaining("'+imatrix' after '+gptq' (one calibration method per id");
        assertThatThrownBy(() -> QuantizationConfig.parse("int4-g64+act"))
                .hasMessageContaining("'+act' (activation order) needs '+gptq'");
        assertThatThrownBy(() -> QuantizationConfig.parse("fp16+gptq"))
                .hasMessageContaining("dense format 'fp16' has none");
        assertThatThrownBy(() -> QuantizationConfig.parse("int4-g64+had+had")).hasMessageContaining("'+had' given twice");
        assertThatThrownBy(() -> QuantizationConfig.parse("int4-g64+")).hasMessageContaining("unknown modifier '+'");
        assertThatThrownBy(() -> QuantizationConfig.parse("mixed:attn.*=int4-g64+foo"))
                .hasMessageContaining("bad rule 'attn.*=int4-g64+foo'");
    }

    @Test
    void mixedAutoTakesAnIdBudgetAndCandidateFormats() {
        QuantizationConfig.MixedAuto a = (QuantizationConfig.MixedAuto) QuantizationConfig.parse("mixed:auto[fp4-g128]");
        assertThat(a.budgetId()).isEqualTo(ConfigId.parse("fp4-g128"));
        assertThat(a.formats()).isEqualTo(QuantizationConfig.MixedAuto.DEFAULT_FORMATS);
        assertThat(a.needsCalibration()).isTrue();
        QuantizationConfig.MixedAuto b = (QuantizationConfig.MixedAuto) QuantizationConfig.parse("mixed:auto[4.25, fp4, int8]");
        assertThat(b.bitsPerWeight()).isEqualTo(4.25);
        assertThat(b.formats()).containsExactly(WeightFormat.FP4, WeightFormat.INT8);
        assertThat(((QuantizationConfig.MixedAuto) QuantizationConfig.parse("mixed:auto[fp4-g128,ppl]")).objective())
                .isEqualTo(QuantizationConfig.MixedAuto.Objective.PPL);
        assertThat(QuantizationConfig.parse("mixed:auto[fp4-g128,kld]")).isEqualTo(a);
        assertThatThrownBy(() -> QuantizationConfig.parse("mixed:auto[4,ppl,fp4]"))
                .hasMessageContaining("the objective 'ppl' goes last");
        for (String s : List.of("mixed:auto[fp4-g128]", "mixed:auto[4.25,fp4,int8]", "mixed:auto[int4-g64,nf4]",
                "mixed:auto[fp4-g128,ppl]", "mixed:auto[4.0,fp4,ppl]")) {
            assertThat(QuantizationConfig.parse(s).toString()).isEqualTo(s);
        }
        assertThatThrownBy(() -> QuantizationConfig.parse("mixed:auto[4.25,fp16]"))
                .hasMessageContaining("candidate format 'fp16' is not one of int8, int4, int4s, fp4, nf4");
        assertThatThrownBy(() -> QuantizationConfig.parse("mixed:auto[4.25,fp4,fp4]"))
                .hasMessageContaining("candidate format 'fp4' given twice");
    }
}
