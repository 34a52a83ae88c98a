package io.github.spo4j.kernels.kv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.engine.NativeLibrary;
import io.github.spo4j.kernels.nativebind.Spo4jNative;
import java.util.function.Consumer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Bad ids, layers and sizes are IllegalArgumentExceptions naming the argument (checked in Java, before any
 * change); running out of blocks refuses the operation and leaves the pool as it was; a closed pool refuses
 * everything; the native entries re-check their index arrays and write nothing when they reject a call.
 */
class KvCacheBadInputTest {
    private static final KvCacheConfig C = new KvCacheConfig(2, 2, 3, 4, 6); // row = 6 floats

    private static void bad(String fragment, Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(fragment), "message '" + e.getMessage() + "' lacks '" + fragment + "'");
    }

    @ParameterizedTest
    @EnumSource(
            value = Backend.class,
            names = {"REFERENCE", "CPU"})
    void badArgumentsNameTheArgumentAndChangeNothing(Backend backend) {
        try (KvCache pool = KvCache.create(C, backend)) {
            int s = pool.newSequence();
            pool.append(s, 0, new float[12], new float[12]);
            int gone = pool.newSequence();
            pool.release(gone);
            long version = pool.structureVersion();
            float[] six = new float[6];
            bad("seq = 7 is not a sequence of this pool", () -> pool.append(7, 0, six, six));
            bad("seq = -1 is not a sequence", () -> pool.length(-1));
            bad("seq = " + gone + " was released", () -> pool.append(gone, 0, six, six));
            bad("seq = " + gone + " was released", () -> pool.fork(gone, 1));
            bad("seq = " + gone + " was released", () -> pool.release(gone));
            bad("seq = " + gone + " was released", () -> pool.blockTable(gone));
            bad("layer = 2 is outside [0, numLayers = 2)", () -> pool.append(s, 2, six, six));
            bad("layer = -1 is outside", () -> pool.length(s, -1));
            bad("k has length 7, not a multiple of Hkv x D = 6", () -> pool.append(s, 0, new float[7], new float[7]));
            bad("v has length 12, expected 6", () -> pool.append(s, 0, six, new float[12]));
            bad("k holds no token", () -> pool.append(s, 0, new float[0], new float[0]));
            bad("k must not be null", () -> pool.append(s, 0, (float[]) null, six));
            bad("n must be >= 1, got 0", () -> pool.fork(s, 0));
            bad("n must be >= 1, got -2", () -> pool.fork(s, -2));
            bad("seqs must hold at least one sequence", () -> pool.appendBatch(new int[0], 0, six, six));
            bad(
                    "seqs holds sequence " + s + " twice",
                    () -> pool.appendBatch(new int[] {s, s}, 0, new float[12], new float[12]));
            bad(
                    "seqs[1] = " + gone + " was released",
                    () -> pool.appendBatch(new int[] {s, gone}, 0, new float[12], new float[12]));
            bad("k (B x Hkv x D) has length 6, expected 12", () -> {
                int t = pool.fork(s, 1)[0];
                try {
                    pool.appendBatch(new int[] {s, t}, 0, six, six);
                } finally {
                    pool.release(t);
                }
            });
            bad("k (length x Hkv x D) has length 6, expected 12", () -> pool.readKv(s, 0, six, new float[12]));
            try (PointerScope scope = new PointerScope()) {
                FloatPointer small = new FloatPointer(6);
                bad("n must be >= 1, got 0", () -> pool.append(s, 0, small, small, 0));
                bad("k holds 6 elements, expected 12", () -> pool.append(s, 0, small, small, 2));
            }
            assertEquals(2, pool.length(s, 0));
            assertEquals(0, pool.length(s, 1));
            assertEquals(1, pool.blocksInUse());
            assertEquals(version + 2, pool.structureVersion(), "only the fork and release of t changed tables");
        }
    }

    @Test
    void configIsValidated() {
        bad("numLayers must be >= 1", () -> new KvCacheConfig(0, 1, 1, 1, 1));
        bad("kvHeads must be >= 1", () -> new KvCacheConfig(1, 0, 1, 1, 1));
        bad("headDim must be >= 1", () -> new KvCacheConfig(1, 1, -3, 1, 1));
        bad("blockSize must be >= 1", () -> new KvCacheConfig(1, 1, 1, 0, 1));
        bad("numBlocks must be >= 1", () -> new KvCacheConfig(1, 1, 1, 1, 0));
        bad("must fit in int32 (slots are int32)", () -> new KvCacheConfig(1, 1, 1, 1 << 16, 1 << 16));
        bad("holds no block", () -> KvCacheConfig.forBudget(2, 2, 64, 16, 1000));
        KvCacheConfig b = KvCacheConfig.forBudget(2, 2, 64, 16, 10L << 20);
        assertEquals(2 * 2 * 2 * 64 * 4, b.tokenBytes());
        assertEquals(16 * b.tokenBytes(), b.blockBytes());
        assertEquals((10L << 20) / b.blockBytes(), b.numBlocks());
        assertEquals(b.numBlocks() * b.blockBytes(), b.totalBytes());
    }

    @ParameterizedTest
    @EnumSource(
            value = Backend.class,
            names = {"REFERENCE", "CPU"})
    void exhaustionRefusesBeforeChangingAnythingAndThePoolStaysUsable(Backend backend) {
        try (KvCache pool = KvCache.create(C, backend)) { // 6 blocks of 4 slots
            int a = pool.newSequence();
            float[] k10 = KvCacheModelTest.rows(10, 6, 1), v10 = KvCacheModelTest.rows(10, 6, 2);
            pool.append(a, 0, k10, v10); // blocks 0, 1, 2 (2 slots)
            int[] kids = pool.fork(a, 3); // forks need no block, even on a nearly full pool
            float[] k = new float[10 * 6], v = new float[10 * 6];
            long version = pool.structureVersion();
            // kids[0] appends 9 tokens: copy of block 2 + 2 new blocks = 3 needed, 3 free: fits.
            pool.append(kids[0], 0, new float[9 * 6], new float[9 * 6]);
            assertEquals(0, pool.freeBlocks());
            assertEquals(1, pool.copyOnWrites());
            // kids[1] needs one copy: refused, nothing changes.
            version = pool.structureVersion();
            long unique = pool.uniqueTokens();
            KvCacheExhaustedException e = assertThrows(
                    KvCacheExhaustedException.class, () -> pool.append(kids[1], 0, new float[6], new float[6]));
            assertEquals(1, e.needed());
            assertEquals(0, e.free());
            assertEquals(6, e.total());
            assertTrue(e.getMessage().contains("needs 1 blocks"), e.getMessage());
            assertThrows(
                    KvCacheExhaustedException.class,
                    () -> pool.appendBatch(new int[] {kids[1], kids[2]}, 1, new float[12], new float[12]));
            assertEquals(version, pool.structureVersion());
            assertEquals(unique, pool.uniqueTokens());
            assertEquals(10, pool.length(kids[1], 0));
            assertEquals(0, pool.length(kids[1], 1));
            pool.readKv(kids[1], 0, k, v);
            assertArrayEquals(k10, k);
            assertArrayEquals(v10, v);
            // Usable again once blocks come back.
            pool.release(kids[0]);
            pool.append(kids[1], 0, KvCacheModelTest.rows(1, 6, 3), KvCacheModelTest.rows(1, 6, 4));
            assertEquals(11, pool.length(kids[1], 0));
            pool.readKv(a, 0, k, v);
            assertArrayEquals(k10, k, "the parent is unchanged by its child's copy-on-write");
        }
    }

    @ParameterizedTest
    @EnumSource(
            value = Backend.class,
            names = {"REFERENCE", "CPU"})
    void aClosedPoolRefusesEverything(Backend backend) {
        KvCache pool = KvCache.create(C, backend);
        int s = pool.newSequence();
        pool.close();
        pool.close(); // idempotent
        for (Runnable r : new Runnable[] {
            pool::newSequence,
            () -> pool.length(s),
            () -> pool.fork(s, 1),
            () -> pool.release(s),
            () -> pool.append(s, 0, new float[6], new float[6]),
            pool::blocksInUse,
            pool::uniqueTokens,
            pool::storage,
            () -> pool.isLive(s)
        }) {
            IllegalStateException e = assertThrows(IllegalStateException.class, r::run);
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
        }
    }

    @Test
    void aPoolMadeInsideAPointerScopeOutlivesTheScope() {
        KvCache pool;
        try (PointerScope scope = new PointerScope()) {
            pool = KvCache.create(C, Backend.CPU);
        }
        try (pool) {
            int s = pool.newSequence();
            float[] k = KvCacheModelTest.rows(5, 6, 7), v = KvCacheModelTest.rows(5, 6, 8);
            pool.append(s, 1, k, v);
            float[] rk = new float[30], rv = new float[30];
            pool.readKv(s, 1, rk, rv);
            assertArrayEquals(k, rk);
            assertArrayEquals(v, rv);
        }
    }

    /** The native entries over host pointers: each bad index array is rejected and the cache is untouched. */
    @Test
    void nativeEntriesRecheckTheirIndexArrays() {
        int cpu = Spo4jNative.SPO4J_DEVICE_CPU;
        int floats = (int) C.totalFloats();
        try (PointerScope scope = new PointerScope()) {
            FloatPointer cache = new FloatPointer(floats);
            float[] before = new float[floats];
            for (int i = 0; i < floats; i++) before[i] = i;
            cache.put(before);
            FloatPointer k = new FloatPointer(12), v = new FloatPointer(12);
            Consumer<int[]> write = slots -> NativeLibrary.check(Spo4jNative.spo4j_kv_cache_write(
                    cpu, cache, 2, 6, 4, 2, 3, 0, slots.length, new IntPointer(slots), k, v, null));
            bad("slots[1] = 24 is outside [0, numBlocks * blockSize = 24)", () -> write.accept(new int[] {0, 24}));
            bad("slots[0] = -1 is outside", () -> write.accept(new int[] {-1, 0}));
            bad("slots holds slot 5 twice", () -> write.accept(new int[] {5, 5}));
            bad(
                    "layer = 2 is outside [0, numLayers = 2)",
                    () -> NativeLibrary.check(Spo4jNative.spo4j_kv_cache_write(
                            cpu, cache, 2, 6, 4, 2, 3, 2, 1, new IntPointer(new int[] {0}), k, v, null)));
            bad(
                    "blockSize must be >= 1",
                    () -> NativeLibrary.check(Spo4jNative.spo4j_kv_cache_write(
                            cpu, cache, 2, 6, 0, 2, 3, 0, 1, new IntPointer(new int[] {0}), k, v, null)));
            bad(
                    "cache must not be null",
                    () -> NativeLibrary.check(Spo4jNative.spo4j_kv_cache_write(
                            cpu, null, 2, 6, 4, 2, 3, 0, 1, new IntPointer(new int[] {0}), k, v, null)));
            bad(
                    "k must not be null",
                    () -> NativeLibrary.check(Spo4jNative.spo4j_kv_cache_write(
                            cpu, cache, 2, 6, 4, 2, 3, 0, 1, new IntPointer(new int[] {0}), null, v, null)));
            bad(
                    "device must be 0 (CPU) or 1 (CUDA)",
                    () -> NativeLibrary.check(Spo4jNative.spo4j_kv_cache_write(
                            7, cache, 2, 6, 4, 2, 3, 0, 1, new IntPointer(new int[] {0}), k, v, null)));
            Consumer<int[][]> copy = c -> NativeLibrary.check(Spo4jNative.spo4j_kv_cache_copy_blocks(
                    cpu,
                    cache,
                    2,
                    6,
                    4,
                    2,
                    3,
                    c[0].length,
                    new IntPointer(c[0]),
                    new IntPointer(c[1]),
                    new IntPointer(c[2]),
                    null));
            bad("src[1] = 6 is outside [0, numBlocks = 6)", () -> copy.accept(new int[][] {{0, 6}, {1, 2}, {4, 4}}));
            bad("dst[0] = -1 is outside", () -> copy.accept(new int[][] {{0}, {-1}, {4}}));
            bad("src[0] = dst[0] = 3", () -> copy.accept(new int[][] {{3}, {3}, {4}}));
            bad("slotsToCopy[0] = 5 is outside [0, blockSize = 4]", () -> copy.accept(new int[][] {{0}, {1}, {5}}));
            bad("dst holds block 2 twice", () -> copy.accept(new int[][] {{0, 1}, {2, 2}, {4, 4}}));
            bad("src[1] = 2 is also a dst", () -> copy.accept(new int[][] {{0, 2}, {2, 3}, {4, 4}}));
            bad(
                    "numCopies must be >= 0",
                    () -> NativeLibrary.check(Spo4jNative.spo4j_kv_cache_copy_blocks(
                            cpu, cache, 2, 6, 4, 2, 3, -1, null, null, null, null)));
            float[] after = new float[floats];
            cache.get(after);
            assertArrayEquals(before, after, "a rejected call wrote into the cache");
            // Empty calls are fine and write nothing.
            NativeLibrary.check(
                    Spo4jNative.spo4j_kv_cache_write(cpu, cache, 2, 6, 4, 2, 3, 0, 0, null, null, null, null));
            NativeLibrary.check(
                    Spo4jNative.spo4j_kv_cache_copy_blocks(cpu, cache, 2, 6, 4, 2, 3, 0, null, null, null, null));
            cache.get(after);
            assertArrayEquals(before, after);
        }
    }
}
