package io.github.spo4j.train.distributed;

/** A collective or the rendezvous failed: a peer died, stalled past the timeout, or could not be reached. */
public final class DistributedException extends RuntimeException {
    public DistributedException(String message, Throwable cause) {
        super(message, cause);
    }

    public DistributedException(String message) {
        super(message);
    }
}
