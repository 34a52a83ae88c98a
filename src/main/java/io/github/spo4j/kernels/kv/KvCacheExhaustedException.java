package io.github.spo4j.kernels.kv;

/**
 * A {@link KvCache} operation needed more free blocks (new blocks plus copy-on-write copies) than the pool
 * has. It is thrown before anything changes: the pool is exactly as it was and stays usable (release
 * sequences, then retry).
 */
public final class KvCacheExhaustedException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    private final int needed;
    private final int free;
    private final int total;

    KvCacheExhaustedException(String what, int needed, int free, int total) {
        super("KV cache exhausted: " + what + " needs " + needed + " blocks (new and copy-on-write), " + free + " of "
                + total + " are free");
        this.needed = needed;
        this.free = free;
        this.total = total;
    }

    /** Blocks the operation needed. */
    public int needed() {
        return needed;
    }

    /** Free blocks when it was refused. */
    public int free() {
        return free;
    }

    /** Blocks in the pool. */
    public int total() {
        return total;
    }
}
