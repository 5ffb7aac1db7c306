package io.quantgate.backend.llamacpp;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The structs the binding passes by value, laid out as the release's own {@code llama.h} says: gcc compiles a probe
 * printing every field's offset and each struct's size, and each must equal what {@link LlamaCppLibrary}'s
 * {@link StructLayout}s compute. A wrong offset would be a silent wrong call into C.
 */
class LlamaCppLayoutTest {

    @Test
    void everyFieldSitsWhereTheReleaseHeaderPutsIt(@TempDir Path dir) throws Exception {
        Path inc = Installed.headers();
        Path probe = dir.resolve("layout_probe");
        run(new ProcessBuilder("gcc", "-std=c11", "-I", inc.toString(), "src/test/c/layout_probe.c", "-o",
                probe.toString()));
        Map<String, Long> c = new LinkedHashMap<>();
        for (String line : run(new ProcessBuilder(probe.toString())).split("\n")) {
            String[] kv = line.trim().split(" ");
            c.put(kv[0], Long.parseLong(kv[1]));
        }
        Map<String, Long> java = new LinkedHashMap<>();
        add(java, "llama_model_params", LlamaCppLibrary.MODEL_PARAMS);
        add(java, "llama_context_params", LlamaCppLibrary.CONTEXT_PARAMS);
        add(java, "llama_batch", LlamaCppLibrary.BATCH);
        assertThat(c).hasSize(18 + 38 + 8); // fields + sizeof of the three structs
        assertThat(java).containsExactlyInAnyOrderEntriesOf(c);
    }

    private static void add(Map<String, Long> out, String struct, StructLayout s) {
        out.put(struct + ".sizeof", s.byteSize());
        for (MemoryLayout m : s.memberLayouts()) {
            m.name().ifPresent(n -> out.put(struct + "." + n, LlamaCppLibrary.offset(s, n)));
        }
    }

    private static String run(ProcessBuilder pb) throws Exception {
        Process p = pb.redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("finished: %s", pb.command()).isTrue();
        assertThat(p.exitValue()).as("%s: %s", pb.command(), out).isZero();
        return out;
    }
}
