package io.quantgate.gate;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Seeds of {@link BaselineFuzzTest}: a stored baseline file as {@link BaselineStore} writes it. */
public final class BaselineSeeds {
    private BaselineSeeds() {
    }

    public static void write(Path inputs) throws IOException {
        Path tmp = Files.createTempDirectory("baseline-seed");
        Path f = new BaselineStore(tmp).record("model.bin", BaselineStoreTest.entry(BaselineStoreTest.key("64x64 M=1"),
                BaselineStoreTest.HERE, 1.5, 2.5, 3.5));
        Files.createDirectories(inputs);
        Files.copy(f, inputs.resolve("one-entry"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
}
