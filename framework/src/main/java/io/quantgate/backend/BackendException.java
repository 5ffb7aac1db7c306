package io.quantgate.backend;

/** An engine failed (crashed, timed out, answered nonsense or reported an error); the message says which and how. */
public class BackendException extends RuntimeException {
    public BackendException(String message) {
        super(message);
    }

    public BackendException(String message, Throwable cause) {
        super(message, cause);
    }
}
