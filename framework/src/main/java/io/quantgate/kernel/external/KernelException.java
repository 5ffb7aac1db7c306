package io.quantgate.kernel.external;

/** A kernel process failed: it crashed, exited, timed out, or answered an error or nonsense. */
public final class KernelException extends RuntimeException {
    public KernelException(String message) {
        super(message);
    }
}
