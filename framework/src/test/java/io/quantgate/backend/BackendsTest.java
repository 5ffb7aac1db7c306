package io.quantgate.backend;

import io.quantgate.backend.external.ExternalProcessBackend;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BackendsTest {

    @Test
    void theCoreBackendsAreDiscoveredThroughTheServiceLoader() {
        assertThat(Backends.names()).contains("native", "external");
        assertThat(Backends.byName("native")).isInstanceOf(NativeBackend.class);
        assertThat(Backends.byName(" external ")).isInstanceOf(ExternalProcessBackend.class);
        assertThat(Backends.byName("native").unavailableReason()).isEmpty();
    }

    @Test
    void anUnknownNameListsTheAvailableBackends() {
        assertThatThrownBy(() -> Backends.byName("tinygrad"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no backend named 'tinygrad'")
                .hasMessageContaining("available: ")
                .hasMessageContaining("native")
                .hasMessageContaining("external");
        assertThatThrownBy(() -> Backends.byName(""))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("available: ");
    }

    @Test
    void aBackendThatTakesNoArgumentRefusesOne() {
        assertThatThrownBy(() -> Backends.byName("native:fast"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("backend 'native' takes no argument (got 'fast')");
    }

    @Test
    void aPlanEitherRunsOrSaysWhyNot() {
        RunPlan no = RunPlan.cannotRun("x", "int4-g128", "no such format");
        assertThat(no.describe()).isEqualTo("cannot run: no such format");
        assertThat(no.givesLogits()).isFalse();
        assertThatThrownBy(no::requireRunnable).hasMessage("backend 'x' cannot run int4-g128: no such format");
        assertThatThrownBy(() -> new RunPlan("x", "fp16", "a", "b", null)).isInstanceOf(IllegalArgumentException.class);
        assertThat(RunPlan.runs("x", "fp16", "F16", "no logits").givesLogits()).isFalse();
    }
}
