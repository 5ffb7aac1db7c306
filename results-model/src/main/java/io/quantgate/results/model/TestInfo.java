package io.quantgate.results.model;

import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.List;

/**
 * Where a record was measured. From JUnit: the invocation's unique id, class, method, {@code Class.method} name,
 * display name and tags. From a command ({@code quantgate bench ...}): {@code name} is the command, the JUnit fields
 * are null and {@code display_name} says which cell of the command the record is.
 */
public record TestInfo(String uniqueId, @JsonProperty("class") String className, String method, String name,
                       String displayName, List<String> tags) {
    public TestInfo {
        tags = tags == null ? List.of() : List.copyOf(tags);
    }

    /** A record made by a command rather than a JUnit test. */
    public static TestInfo command(String command, String cell) {
        return new TestInfo(null, null, null, command, cell, List.of());
    }
}
