package io.quantgate.kernels.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ConfigIdTest {

    @Test
    void formatOrderIsTheNativeAbi() {
        assertThat(WeightFormat.values()).containsExactly(WeightFormat.FP32, WeightFormat.FP16, WeightFormat.BF16,
                WeightFormat.INT8, WeightFormat.INT4, WeightFormat.INT4S, WeightFormat.FP4, WeightFormat.NF4);
        assertThat(WeightFormat.NF4.nativeCode()).isEqualTo(7);
        assertThat(WeightFormat.FP32.nativeCode()).isZero();
        assertThat(WeightFormat.INT4S.id()).isEqualTo("int4s");
        assertThat(WeightFormat.fromId("bf16")).isEqualTo(WeightFormat.BF16);
        assertThat(WeightFormat.BF16.isDense()).isTrue();
        assertThat(WeightFormat.INT8.isQuantized()).isTrue();
        assertThat(WeightFormat.INT8.isFourBit()).isFalse();
        assertThat(WeightFormat.FP4.isFourBit()).isTrue();
    }

    @Test
    void unknownFormatIdListsTheValidOnes() {
        assertThatThrownBy(() -> WeightFormat.fromId("int3"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("unknown weight format 'int3' (valid: fp32, fp16, bf16, int8, int4, int4s, fp4, nf4)");
    }

    @Test
    void parsesExplicitGroups() {
        assertThat(ConfigId.parse("fp4-g128")).isEqualTo(new ConfigId(WeightFormat.FP4, 128));
        assertThat(ConfigId.parse("int4-g64")).isEqualTo(new ConfigId(WeightFormat.INT4, 64));
        assertThat(ConfigId.parse("nf4-g32")).isEqualTo(new ConfigId(WeightFormat.NF4, 32));
        assertThat(ConfigId.parse("int8-g256")).isEqualTo(new ConfigId(WeightFormat.INT8, 256));
        assertThat(ConfigId.parse(" int4s-g64 ")).isEqualTo(new ConfigId(WeightFormat.INT4S, 64));
    }

    @Test
    void defaults() {
        assertThat(ConfigId.parse("fp4").group()).isEqualTo(128);
        assertThat(ConfigId.parse("int4").group()).isEqualTo(128);
        assertThat(ConfigId.parse("int4s").group()).isEqualTo(128);
        assertThat(ConfigId.parse("nf4").group()).isEqualTo(128);
        assertThat(ConfigId.parse("int8").group()).isZero();
        assertThat(ConfigId.parse("fp16")).isEqualTo(new ConfigId(WeightFormat.FP16, 0));
        assertThat(ConfigId.parse("fp32").group()).isZero();
    }

    @Test
    void canonicalIdsRoundTrip() {
        assertThat(ConfigId.parse("fp4").toString()).isEqualTo("fp4-g128");
        assertThat(ConfigId.parse("int8").toString()).isEqualTo("int8");
        assertThat(ConfigId.parse("int8-g64").toString()).isEqualTo("int8-g64");
        assertThat(ConfigId.parse("fp16").toString()).isEqualTo("fp16");
        for (WeightFormat f : WeightFormat.values()) {
            int[] groups = f.isDense() ? new int[] {0} : f.isFourBit() ? new int[] {32, 64, 128, 256}
                    : new int[] {0, 32, 64, 128, 256};
            for (int g : groups) {
                ConfigId id = new ConfigId(f, g);
                assertThat(ConfigId.parse(id.toString())).isEqualTo(id);
            }
        }
    }

    @Test
    void effectiveGroupClampsToK() {
        ConfigId id = ConfigId.parse("int4-g128");
        assertThat(id.effectiveGroup(4096)).isEqualTo(128);
        assertThat(id.effectiveGroup(172)).isEqualTo(128);
        assertThat(id.effectiveGroup(64)).isEqualTo(64);
        assertThat(id.clampsGroup(64)).isTrue();
        assertThat(id.clampsGroup(128)).isFalse();
        assertThat(ConfigId.parse("int8").effectiveGroup(11008)).isEqualTo(11008);
        assertThat(ConfigId.parse("int8").clampsGroup(11008)).isFalse();
        assertThat(ConfigId.parse("fp16").effectiveGroup(77)).isEqualTo(77);
    }

    @Test
    void badGroupIsNamed() {
        assertThatThrownBy(() -> ConfigId.parse("fp4-g100"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("bad config id 'fp4-g100': group 100 is not one of 32, 64, 128, 256");
        assertThatThrownBy(() -> ConfigId.parse("int4-g0"))
                .hasMessage("bad config id 'int4-g0': group 0 is not one of 32, 64, 128, 256");
        assertThatThrownBy(() -> ConfigId.parse("int8-g99999999999"))
                .hasMessageContaining("group 99999999999 is not one of");
    }

    @Test
    void unknownFormatIsNamed() {
        assertThatThrownBy(() -> ConfigId.parse("fp5-g32"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("unknown format 'fp5' in config id 'fp5-g32' "
                        + "(valid: fp32, fp16, bf16, int8, int4, int4s, fp4, nf4)");
        assertThatThrownBy(() -> ConfigId.parse("FP4")).hasMessageContaining("unknown format 'FP4'");
    }

    @Test
    void denseWithGroupIsAnError() {
        assertThatThrownBy(() -> ConfigId.parse("fp16-g32"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'fp16-g32'")
                .hasMessageContaining("dense format 'fp16' takes no group")
                .hasMessageContaining("'-g32'");
        assertThatThrownBy(() -> new ConfigId(WeightFormat.BF16, 64))
                .hasMessageContaining("dense format 'bf16' takes no group");
    }

    @ParameterizedTest
    @ValueSource(strings = {"int4-x32", "int4-g", "int4-g32x", "int4-", "nf4-g-32", "int4-g32-g64"})
    void malformedGroupPartIsNamed(String id) {
        String part = id.substring(id.indexOf('-'));
        assertThatThrownBy(() -> ConfigId.parse(id))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("bad config id '" + id + "': group part '" + part + "'");
    }

    @Test
    void emptyIdIsAnError() {
        assertThatThrownBy(() -> ConfigId.parse("  ")).hasMessageContaining("empty config id");
        assertThatThrownBy(() -> ConfigId.parse(null)).hasMessageContaining("empty config id");
    }

    @Test
    void fourBitNeedsAGroup() {
        assertThatThrownBy(() -> new ConfigId(WeightFormat.FP4, 0)).hasMessageContaining("'fp4' needs a group");
        assertThatThrownBy(() -> new ConfigId(WeightFormat.INT8, 48)).hasMessageContaining("group 48");
    }
}
