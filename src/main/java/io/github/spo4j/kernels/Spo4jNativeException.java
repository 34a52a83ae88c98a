package io.github.spo4j.kernels;

/** A failure inside native code that is not the caller's fault (a CUDA error, an internal error). */
public final class Spo4jNativeException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int status;

    public Spo4jNativeException(int status, String message) {
        super("spo4j native error " + status + ": " + message);
        this.status = status;
    }

    /** The {@code SPO4J_ERR_*} status code. */
    public int status() {
        return status;
    }
}
