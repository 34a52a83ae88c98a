package io.github.spo4j.kernels.kv;

import io.github.spo4j.kernels.engine.Checks;

/**
 * The shape of a {@link KvCache}: {@code numLayers} layers of {@code kvHeads} KV heads of {@code headDim}
 * floats, stored in {@code numBlocks} blocks of {@code blockSize} token slots. The storage is one fp32
 * allocation laid out {@code [L][2][numBlocks][blockSize][Hkv][D]} (see {@link #kOffset}).
 *
 * @param numLayers L >= 1
 * @param kvHeads   Hkv >= 1
 * @param headDim   D >= 1
 * @param blockSize token slots per block, >= 1 (1 = token pages, as SGLang; 16 = vLLM's default)
 * @param numBlocks blocks in the pool, >= 1; {@code numBlocks * blockSize} must fit in an int (slots are int32)
 */
public record KvCacheConfig(int numLayers, int kvHeads, int headDim, int blockSize, int numBlocks) {
    public KvCacheConfig {
        Checks.require(numLayers >= 1, "numLayers must be >= 1, got " + numLayers);
        Checks.require(kvHeads >= 1, "kvHeads must be >= 1, got " + kvHeads);
        Checks.require(headDim >= 1, "headDim must be >= 1, got " + headDim);
        Checks.require(blockSize >= 1, "blockSize must be >= 1, got " + blockSize);
        Checks.require(numBlocks >= 1, "numBlocks must be >= 1, got " + numBlocks);
        Checks.require(
                (long) kvHeads * headDim <= Integer.MAX_VALUE,
                "kvHeads * headDim = " + (long) kvHeads * headDim + " must fit in int32 (one token's row)");
        Checks.require(
                (long) numBlocks * blockSize <= Integer.MAX_VALUE,
                "numBlocks * blockSize = " + (long) numBlocks * blockSize + " must fit in int32 (slots are int32)");
        // bytes = 8 L · slots · Hkv · D, each factor < 2^31: checked in double against 2^62 (headroom for offsets).
        Checks.require(
                8.0 * numLayers * numBlocks * blockSize * (double) kvHeads * headDim < 0x1p62,
                "the cache of " + numLayers + " layers x " + numBlocks + " blocks x " + blockSize + " slots x "
                        + kvHeads + " heads x " + headDim + " floats is too large");
    }

    /**
     * The most blocks that fit in {@code bytes} (at least one block must fit).
     *
     * @param bytes the memory budget of the cache
     */
    public static KvCacheConfig forBudget(int numLayers, int kvHeads, int headDim, int blockSize, long bytes) {
        KvCacheConfig one = new KvCacheConfig(numLayers, kvHeads, headDim, blockSize, 1);
        long blocks = bytes / one.blockBytes();
        Checks.require(blocks >= 1, "bytes = " + bytes + " holds no block of " + one.blockBytes() + " bytes");
        return new KvCacheConfig(
                numLayers, kvHeads, headDim, blockSize, (int) Math.min(blocks, Integer.MAX_VALUE / blockSize));
    }

    /** Floats of one token's row at one layer, K or V: Hkv · D. */
    public int rowFloats() {
        return kvHeads * headDim;
    }

    /** Bytes of one token at every layer, K and V: 4 · 2 · L · Hkv · D. */
    public long tokenBytes() {
        return 8L * numLayers * kvHeads * headDim;
    }

    /** Bytes of one block (every layer, K and V): blockSize · {@link #tokenBytes()}. */
    public long blockBytes() {
        return blockSize * tokenBytes();
    }

    /** Bytes of the whole allocation: numBlocks · {@link #blockBytes()}. */
    public long totalBytes() {
        return numBlocks * blockBytes();
    }

    /** Floats of the whole allocation. */
    public long totalFloats() {
        return totalBytes() / 4;
    }

    /**
     * Float offset of the K row of (layer, block, slot, head) in the storage:
     * {@code ((((long) layer * 2 + 0) * numBlocks + block) * blockSize + slot) * Hkv * D + head * D}.
     */
    public long kOffset(int layer, int block, int slot, int head) {
        return offset(layer, 0, block, slot) + (long) head * headDim;
    }

    /** Float offset of the V row of (layer, block, slot, head): as {@link #kOffset} with {@code + 1} for {@code + 0}. */
    public long vOffset(int layer, int block, int slot, int head) {
        return offset(layer, 1, block, slot) + (long) head * headDim;
    }

    /** Float offset of the row of (layer, K = 0 / V = 1, block, slot). */
    long offset(int layer, int kv, int block, int slot) {
        return ((((long) layer * 2 + kv) * numBlocks + block) * blockSize + slot) * rowFloats();
    }
}
