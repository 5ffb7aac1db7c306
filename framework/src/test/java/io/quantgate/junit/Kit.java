package io.quantgate.junit;

import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;

import java.util.Map;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

/** Runs fixture classes through the Jupiter engine with the data directory and quiet progress. */
final class Kit {
    private Kit() {
    }

    static EngineExecutionResults run(Class<?> fixture, Map<String, String> params) {
        EngineTestKit.Builder b = EngineTestKit.engine("junit-jupiter").selectors(selectClass(fixture))
                .configurationParameter("quantgate.progress", "false")
                .configurationParameter(Fixture.PARAMETER, "true")
                .configurationParameter("quantgate.workingset.mb", "8")
                .configurationParameter("quantgate.probe.mb", "16");
        String dataDir = System.getProperty("quantgate.data.dir");
        if (dataDir != null) {
            b.configurationParameter("quantgate.data.dir", dataDir);
        }
        params.forEach(b::configurationParameter);
        return b.execute();
    }

    static EngineExecutionResults run(Class<?> fixture) {
        return run(fixture, Map.of());
    }
}
