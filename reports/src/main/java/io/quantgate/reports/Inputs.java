package io.quantgate.reports;

/** What a record measured on, with the SHA-256 of each file ({@code inputs}); absent parts are null. */
public record Inputs(String model, String modelSha256, String architecture, String tokenizer,
                     String tokenizerSha256, String dataset, String datasetSha256, Long datasetTokens) {
}
