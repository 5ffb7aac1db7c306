package io.quantgate.results;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantgate.cli.QuantGateCli;
import io.quantgate.junit.QuantBench;
import io.quantgate.junit.QuantConfig;
import io.quantgate.junit.QuantTest;
import io.quantgate.junit.Throughput;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.core.LauncherConfig;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/**
 * The same plan measured from JUnit and from the command line gives the same record: the same fields, the same
 * subjects, workload, sampling plan and bytes — only the figures (timings of two runs) and where it ran differ.
 */
class SameRecordTest {
    @TempDir
    Path dir;

    @io.quantgate.junit.Fixture
    @QuantBench(model = "synthetic:tiny", activations = "int8")
    static class Decode {
        @QuantTest
        @QuantConfig("int4-g128")
        @Throughput(level = Throughput.Level.DECODE, tokens = 8, reference = "fp16", warmup = 0, iterations = 3,
                maxSeconds = 60)
        void tg() {
        }
    }

    @Test
    void junitAndTheCliWriteTheSameRecordForTheSamePlan() throws Exception {
        ObjectMapper json = new ObjectMapper();
        JsonNode fromJunit = junit().get("results").get(0);
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = QuantGateCli.run(new String[] {"bench", "model", "--model", "synthetic:tiny", "--config", "int4-g128",
                        "--reference", "fp16", "--activations", "int8", "--pp", "8", "--tg", "8", "--warmup", "0",
                        "--iterations", "3", "--max-seconds", "60", "--probe-mb", "16", "--json"},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertThat(code).as(err.toString(StandardCharsets.UTF_8)).isZero();
        JsonNode fromCli = null;
        for (JsonNode r : json.readTree(out.toString(StandardCharsets.UTF_8)).get("results")) {
            if (r.get("throughput").get("level").asText().equals("decode")) {
                fromCli = r;
            }
        }
        assertThat(fromCli).isNotNull();
        // the same shape: every field at every depth
        assertThat(paths(fromCli, "")).isEqualTo(paths(fromJunit, ""));
        // the same plan and what it measured on
        for (String f : List.of("config", "config_format", "config_group", "backend", "ran", "activations",
                "compression_ratio", "weight_bytes_per_token", "status")) {
            assertThat(fromCli.get(f)).as(f).isEqualTo(fromJunit.get(f));
        }
        assertThat(fromCli.get("inputs").get("model_sha256")).isEqualTo(fromJunit.get("inputs").get("model_sha256"));
        JsonNode tc = fromCli.get("throughput"), tj = fromJunit.get("throughput");
        for (String f : List.of("level", "config", "reference", "activations", "warmup", "iterations", "max_seconds",
                "outlier_sigma")) {
            assertThat(tc.get(f)).as("throughput." + f).isEqualTo(tj.get(f));
        }
        JsonNode rc = tc.get("rows").get(0), rj = tj.get("rows").get(0);
        for (String f : List.of("label", "level", "subject", "reference_subject", "tokens", "unit", "bytes_per_call",
                "rounds", "confidence_level")) {
            assertThat(rc.get(f)).as("row." + f).isEqualTo(rj.get(f));
        }
        assertThat(rc.get("subject").asText()).isEqualTo("int4-g128 (int8 activations) on native");
        assertThat(rc.get("reference_subject").asText()).isEqualTo("fp16 (fp32 activations) on native");
    }

    private JsonNode junit() throws Exception {
        QuantResultsListener listener = new QuantResultsListener();
        Launcher launcher = LauncherFactory.create(LauncherConfig.builder()
                .enableTestExecutionListenerAutoRegistration(false).addTestExecutionListeners(listener).build());
        launcher.execute(LauncherDiscoveryRequestBuilder.request().selectors(selectClass(Decode.class))
                .configurationParameters(Map.of("quantgate.results.dir", dir.toString(), "quantgate.progress", "false",
                        "quantgate.probe.mb", "16", "quantgate.report", "false", io.quantgate.junit.Fixture.PARAMETER,
                        "true")).build());
        return new ObjectMapper().readTree(dir.resolve("results.json").toFile());
    }

    /** Every field path of a JSON tree ({@code throughput.rows[].rate.median}); arrays by their first element. */
    private static TreeSet<String> paths(JsonNode n, String at) {
        TreeSet<String> out = new TreeSet<>();
        if (n.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = n.properties().iterator(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String p = at.isEmpty() ? e.getKey() : at + "." + e.getKey();
                out.add(p);
                out.addAll(paths(e.getValue(), p));
            }
        } else if (n.isArray() && !n.isEmpty()) {
            out.addAll(paths(n.get(0), at + "[]"));
        }
        return out;
    }
}
