package io.quantgate.gate;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BaselineStoreTest {
    @TempDir
    Path dir;

    static final MachineFingerprint HERE = new MachineFingerprint("CPU A", 8, List.of("avx2", "fma"), "avx2", 8,
            "VM 25", "Linux amd64");
    static final MachineFingerprint THERE = new MachineFingerprint("CPU B", 8, List.of("avx2", "fma"), "avx2", 8,
            "VM 25", "Linux amd64");

    static StoredBaseline.Key key(String label) {
        return new StoredBaseline.Key("ab".repeat(32), null, null, "fp4-g128", "native", "kernel", label, "fp32");
    }

    static StoredBaseline entry(StoredBaseline.Key k, MachineFingerprint f, double... samples) {
        return new StoredBaseline(k, f, samples, "GB/s", "2026-01-01T00:00:00Z", "test", "T.t");
    }

    @Test
    void aRecordedBaselineIsFoundOnlyForTheSameKeyAndMachine() {
        BaselineStore s = new BaselineStore(dir);
        Path f = s.record("model.bin", entry(key("64x64 M=1"), HERE, 1, 2, 3));
        assertThat(f).isEqualTo(dir.resolve("model.bin/fp4-g128-native.json"));
        BaselineStore.Lookup hit = s.find("model.bin", key("64x64 M=1"), HERE);
        assertThat(hit).isInstanceOf(BaselineStore.Lookup.Found.class);
        assertThat(((BaselineStore.Lookup.Found) hit).baseline().samples()).containsExactly(1, 2, 3);

        BaselineStore.Lookup other = s.find("model.bin", key("64x64 M=1"), THERE);
        assertThat(other).isInstanceOf(BaselineStore.Lookup.NotFound.class);
        assertThat(other.explanation()).contains("measured on another machine", "cpu: CPU B here, CPU A there");

        assertThat(s.find("model.bin", key("64x64 M=4"), HERE).explanation()).contains("no stored baseline of kernel 64x64 M=4");
        assertThat(s.find("other.bin", key("64x64 M=1"), HERE).explanation()).contains("does not exist");
        StoredBaseline.Key otherModel = new StoredBaseline.Key("cd".repeat(32), null, null, "fp4-g128", "native",
                "kernel", "64x64 M=1", "fp32");
        assertThat(s.find("model.bin", otherModel, HERE).explanation()).contains("are of other inputs",
                "model sha256 abababababab there, cdcdcdcdcdcd here");
    }

    @Test
    void recordingAgainReplacesTheSameMachinesEntryAndKeepsOthers() throws Exception {
        BaselineStore s = new BaselineStore(dir);
        s.record("m", entry(key("a"), HERE, 1, 2));
        s.record("m", entry(key("a"), THERE, 5, 6));
        Path f = s.record("m", entry(key("a"), HERE, 3, 4));
        List<StoredBaseline> all = BaselineStore.read(f);
        assertThat(all).hasSize(2);
        assertThat(((BaselineStore.Lookup.Found) s.find("m", key("a"), HERE)).baseline().samples()).containsExactly(3, 4);
        assertThat(((BaselineStore.Lookup.Found) s.find("m", key("a"), THERE)).baseline().samples()).containsExactly(5, 6);
        try (var files = Files.list(f.getParent())) {
            assertThat(files).as("no temporary file left by the atomic write").containsExactly(f);
        }
    }

    @Test
    void malformedFilesAreErrorsNamingTheFile() throws Exception {
        BaselineStore s = new BaselineStore(dir);
        Path f = s.fileFor("m", key("a"));
        Files.createDirectories(f.getParent());
        Files.writeString(f, "[1, 2");
        assertThatThrownBy(() -> s.find("m", key("a"), HERE)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("baseline file " + f + " is not valid JSON");
        Files.writeString(f, "{\"schema\": \"something-else\", \"entries\": []}");
        assertThatThrownBy(() -> s.find("m", key("a"), HERE)).hasMessageContaining("baseline file " + f
                + " is malformed: 'schema' is \"something-else\"");
        Files.writeString(f, "{\"schema\": \"quantgate-baseline/1\", \"entries\": [{\"key\": {\"config\": \"x\"}}]}");
        assertThatThrownBy(() -> s.find("m", key("a"), HERE)).hasMessageContaining("entry 0 lacks 'model_sha256'");
        String good = Files.readString(new BaselineStore(dir.resolve("ok")).record("m", entry(key("a"), HERE, 1, 2)));
        Files.writeString(f, good.replace("1.0", "-1.0"));
        assertThatThrownBy(() -> s.find("m", key("a"), HERE)).hasMessageContaining("samples[0] = -1.0 is not a positive");
        assertThatThrownBy(() -> s.record("m", entry(key("a"), HERE, 1))).hasMessageContaining(f.toString());
    }

    /** The mutation run's inputs: each was a NullPointerException or an UncheckedIOException before. */
    @Test
    void hostileFilesAreErrorsNamingTheFileNeverACrash() throws Exception {
        BaselineStore s = new BaselineStore(dir);
        Path f = s.fileFor("m", key("a"));
        Files.createDirectories(f.getParent());
        Files.writeString(f, "[".repeat(5000) + "]".repeat(5000));
        assertThatThrownBy(() -> s.find("m", key("a"), HERE)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("baseline file " + f).hasMessageContaining("nest");
        Files.writeString(f, "{\"schema\": \"" + "x".repeat(20_000_000) + "\"}");
        assertThatThrownBy(() -> s.find("m", key("a"), HERE)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("baseline file " + f).hasMessageContaining("length");
        Files.write(f, new byte[] {'{', '"', 's', (byte) 0xC3, (byte) 0x28, '"', ':', '1', '}'});
        assertThatThrownBy(() -> s.find("m", key("a"), HERE)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("baseline file " + f).hasMessageContaining("UTF-8");
    }

    @Test
    void fileNamesAreSafeAndMixedConfigsDoNotCollide() {
        assertThat(BaselineStore.slug("synthetic:llama-1b", false)).isEqualTo("synthetic_llama-1b");
        String a = BaselineStore.slug("mixed:attn.*=fp4-g32", true);
        String b = BaselineStore.slug("mixed:attn.?=fp4-g32", true);
        assertThat(a).startsWith("mixed_attn.__fp4-g32-").isNotEqualTo(b);
        assertThat(BaselineStore.slug("fp4-g32", true)).isEqualTo("fp4-g32");
    }

    @Test
    void theFingerprintIdIsStableAndChangesWithAnyField() {
        assertThat(HERE.id()).hasSize(16).isEqualTo(new MachineFingerprint("CPU A", 8, List.of("avx2", "fma"), "avx2", 8,
                "VM 25", "Linux amd64").id());
        assertThat(HERE.id()).isNotEqualTo(THERE.id());
        assertThat(HERE.id()).isNotEqualTo(new MachineFingerprint("CPU A", 8, List.of("avx2", "fma"), "avx2", 4,
                "VM 25", "Linux amd64").id());
        assertThat(HERE.differencesFrom(THERE)).containsExactly("cpu: CPU A here, CPU B there");
    }
}
