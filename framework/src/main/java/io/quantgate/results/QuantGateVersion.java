package io.quantgate.results;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The version of QuantGate that produced a result (from a resource the build filters). */
public final class QuantGateVersion {
    private static final String VERSION = load();

    private QuantGateVersion() {
    }

    public static String get() {
        return VERSION;
    }

    private static String load() {
        try (InputStream in = QuantGateVersion.class.getResourceAsStream("version.properties")) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                String v = p.getProperty("quantgate.version", "");
                if (!v.isBlank() && !v.contains("${")) {
                    return v;
                }
            }
        } catch (IOException e) {
            // fall through: an unknown version is reported as such, never guessed
        }
        return "unknown";
    }
}
