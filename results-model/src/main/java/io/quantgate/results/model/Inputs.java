package io.quantgate.results.model;

/**
 * What a record was measured on, with the SHA-256 of each file (of the spec text for synthetic weights); parts
 * that the measurement did not read are null.
 */
public record Inputs(String model, String modelSha256, String architecture, String tokenizer, String tokenizerSha256,
                     String dataset, String datasetSha256, Long datasetTokens) {
    public static final Inputs NONE = new Inputs(null, null, null, null, null, null, null, null);
}
