package io.quantgate.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code --name value} and {@code --flag} options of one command, checked against the command's known
 * names so that a typo is an error, not a silently ignored option. Hand-written: the core framework may
 * not pull a CLI library, and this is all the commands need.
 */
final class CliArgs {
    private final String command;
    private final Map<String, String> values = new LinkedHashMap<>();
    private final List<String> positional = new ArrayList<>();

    /**
     * @param valued options that take a value ({@code -n} style short names allowed too)
     * @param flags  options without a value
     */
    CliArgs(String command, String[] args, Set<String> valued, Set<String> flags) {
        this.command = command;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.startsWith("-") && a.length() > 1 && !isNumber(a)) {
                String name = a;
                String inline = null;
                int eq = a.indexOf('=');
                if (eq > 0) {
                    name = a.substring(0, eq);
                    inline = a.substring(eq + 1);
                }
                if (flags.contains(name) && inline == null) {
                    values.put(name, "true");
                } else if (valued.contains(name)) {
                    if (inline == null) {
                        if (i + 1 >= args.length) {
                            throw new IllegalArgumentException(command + ": option " + name + " needs a value");
                        }
                        inline = args[++i];
                    }
                    values.put(name, inline);
                } else {
                    List<String> known = new ArrayList<>(valued);
                    known.addAll(flags);
                    java.util.Collections.sort(known);
                    throw new IllegalArgumentException(command + ": unknown option '" + a + "' (known: "
                            + String.join(", ", known) + ")");
                }
            } else {
                positional.add(a);
            }
        }
    }

    private static boolean isNumber(String s) {
        try {
            Double.parseDouble(s);
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    boolean has(String name) {
        return values.containsKey(name);
    }

    boolean flag(String name) {
        return "true".equals(values.get(name));
    }

    String get(String name, String def) {
        return values.getOrDefault(name, def);
    }

    String require(String name) {
        String v = values.get(name);
        if (v == null || v.isBlank()) {
            throw new IllegalArgumentException(command + ": " + name + " is required");
        }
        return v;
    }

    int getInt(String name, int def, int min) {
        String v = values.get(name);
        if (v == null) {
            return def;
        }
        try {
            int x = Integer.parseInt(v.trim());
            if (x < min) {
                throw new IllegalArgumentException(command + ": " + name + " must be >= " + min + ", got " + x);
            }
            return x;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(command + ": " + name + " must be an integer, got '" + v + "'", e);
        }
    }

    List<String> positional() {
        return positional;
    }
}
