package io.github.spo4j.kernels.kv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.kernels.Backend;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The pool against {@link KvCacheModel} over thousands of seeded random forks, appends (one and many tokens,
 * random layers, batched decode) and releases, on several shapes and block sizes, checking after every
 * operation: every live sequence reads back exactly its model (so a write into one child never shows in its
 * parent or siblings), lengths and block tables, ref-counts equal to the tables holding each block, the
 * accounting identities, and no leak once everything is released. Runs out of blocks on purpose: a refused
 * operation leaves the pool exactly as it was.
 */
class KvCacheModelTest {
    /** L, Hkv, D, blockSize, numBlocks, ops. */
    static Stream<Arguments> shapes() {
        List<Arguments> out = new ArrayList<>();
        for (Backend b : new Backend[] {Backend.REFERENCE, Backend.CPU}) {
            out.add(Arguments.of(b, new KvCacheConfig(1, 1, 1, 1, 300), 2500));
            out.add(Arguments.of(b, new KvCacheConfig(2, 2, 3, 3, 120), 2500));
            out.add(Arguments.of(b, new KvCacheConfig(3, 4, 8, 16, 40), 2000));
            out.add(Arguments.of(b, new KvCacheConfig(2, 1, 5, 7, 60), 2000));
            out.add(Arguments.of(b, new KvCacheConfig(3, 3, 2, 2, 90), 2000));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("shapes")
    void randomOperationsMatchTheModel(Backend backend, KvCacheConfig config, int ops) {
        try (KvCache pool = KvCache.create(config, backend)) {
            Driver d = new Driver(pool, 17 + config.blockSize() * 31L + config.numLayers());
            for (int i = 0; i < ops; i++) {
                d.step();
                d.verify();
            }
            assertTrue(d.exhausted > 0, "the run never ran out of blocks: make the pool smaller");
            if (config.blockSize() > 1 || config.numLayers() > 1)
                assertTrue(d.copies > 0, "the run never copied on write");
            d.releaseAll();
            assertEquals(0, pool.blocksInUse(), "blocks leaked");
            assertEquals(config.numBlocks(), pool.freeBlocks());
            assertEquals(0, pool.uniqueTokens());
            assertEquals(0, pool.liveSequences());
        }
    }

    @ParameterizedTest
    @EnumSource(
            value = Backend.class,
            names = {"REFERENCE", "CPU"})
    void blockSizeOneInLockstepNeverCopies(Backend backend) {
        // Layers appended together (as a model decodes) share only full blocks when the block is one token.
        try (KvCache pool = KvCache.create(new KvCacheConfig(2, 2, 4, 1, 400), backend)) {
            Driver d = new Driver(pool, 5);
            d.lockstep = true;
            for (int i = 0; i < 1500; i++) {
                d.step();
                d.verify();
            }
            assertEquals(0, d.copies, "with token pages a block is full once written: nothing to copy");
        }
    }

    @Test
    void cpuAndReferenceLeaveTheSameStorage() {
        KvCacheConfig config = new KvCacheConfig(2, 3, 5, 4, 80);
        try (KvCache ref = KvCache.create(config, Backend.REFERENCE);
                KvCache cpu = KvCache.create(config, Backend.CPU)) {
            Driver a = new Driver(ref, 99), b = new Driver(cpu, 99);
            for (int i = 0; i < 1500; i++) {
                a.step();
                b.step();
            }
            int n = (int) config.totalFloats();
            float[] x = new float[n], y = new float[n];
            ref.readStorage(0, x, 0, n);
            cpu.readStorage(0, y, 0, n);
            assertArrayEquals(x, y, "the same operations must leave the same bits in every block");
            assertEquals(ref.structureVersion(), cpu.structureVersion());
        }
    }

    @ParameterizedTest
    @EnumSource(
            value = Backend.class,
            names = {"REFERENCE", "CPU"})
    void lastWriterKeepsTheSharedBlockAndTheOthersCopyIt(Backend backend) {
        KvCacheConfig config = new KvCacheConfig(2, 1, 2, 4, 16);
        try (KvCache pool = KvCache.create(config, backend)) {
            int p = pool.newSequence();
            for (int l = 0; l < 2; l++) pool.append(p, l, rows(6, 2, l), rows(6, 2, 10 + l)); // blocks 0, 1 (2 slots)
            int[] kids = pool.fork(p, 2);
            assertEquals(3, pool.refCount(1));
            long version = pool.structureVersion();
            pool.appendBatch(new int[] {kids[0], p, kids[1]}, 0, rows(3, 2, 50), rows(3, 2, 60));
            // kids[0] and p copy block 1 (into blocks 2 and 3, lowest free first); kids[1] keeps it.
            assertArrayEquals(new int[] {0, 2}, pool.blockTable(kids[0]));
            assertArrayEquals(new int[] {0, 3}, pool.blockTable(p));
            assertArrayEquals(new int[] {0, 1}, pool.blockTable(kids[1]));
            assertEquals(3, pool.refCount(0));
            assertEquals(1, pool.refCount(1));
            assertEquals(4, pool.blocksInUse());
            assertTrue(pool.structureVersion() > version);
            // Written slots: 4 + 2 (copy) + 2 (copy) + 3 at layer 0.
            assertEquals(4 + 3 + 3 + 3, pool.uniqueTokens());
            float[] k = new float[7 * 2], v = new float[7 * 2];
            pool.readKv(kids[0], 1, new float[12], new float[12]);
            pool.readKv(p, 0, k, v);
            float[] expected = Arrays.copyOf(rows(6, 2, 0), 14);
            System.arraycopy(rows(3, 2, 50), 2, expected, 12, 2);
            assertArrayEquals(expected, k);
            pool.readKv(kids[1], 0, k, v);
            System.arraycopy(rows(3, 2, 50), 4, expected, 12, 2);
            assertArrayEquals(expected, k);
        }
    }

    @ParameterizedTest
    @EnumSource(
            value = Backend.class,
            names = {"REFERENCE", "CPU"})
    void forkOfAFullBlockSharesItAndWritesGoToANewBlock(Backend backend) {
        try (KvCache pool = KvCache.create(new KvCacheConfig(1, 1, 1, 4, 8), backend)) {
            int p = pool.newSequence();
            pool.append(p, 0, rows(8, 1, 0), rows(8, 1, 1));
            int[] kids = pool.fork(p, 3);
            pool.release(p);
            for (int c : kids) pool.append(c, 0, rows(1, 1, c), rows(1, 1, c));
            // No copy: position 8 starts block 2 of each child.
            assertEquals(2 + 3, pool.blocksInUse());
            assertEquals(8 + 3, pool.uniqueTokens());
            for (int c : kids) assertEquals(3, pool.refCount(pool.blockTable(c)[0]));
        }
    }

    /** n rows of `row` floats, distinct per seed. */
    static float[] rows(int n, int row, int seed) {
        float[] x = new float[n * row];
        for (int i = 0; i < x.length; i++) x[i] = seed * 1000 + i + 0.5f;
        return x;
    }

    /** Random operations on a pool and its model, and the checks. */
    static final class Driver {
        final KvCache pool;
        final KvCacheConfig c;
        final KvCacheModel model;
        final SplittableRandom rnd;
        int exhausted, copies;
        boolean lockstep; // every append writes the same tokens count to every layer, in layer order

        Driver(KvCache pool, long seed) {
            this.pool = pool;
            this.c = pool.config();
            this.model = new KvCacheModel(c.numLayers(), c.rowFloats());
            this.rnd = new SplittableRandom(seed);
        }

        float[] randomRows(int n) {
            float[] x = new float[n * c.rowFloats()];
            for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
            return x;
        }

        void step() {
            List<Integer> ids = model.ids();
            Collections.sort(ids);
            int op = rnd.nextInt(100);
            if (ids.isEmpty() || (op < 6 && ids.size() < 24)) {
                model.add(pool.newSequence());
            } else if (op < 18 && ids.size() < 24) {
                int parent = ids.get(rnd.nextInt(ids.size()));
                int[] kids = pool.fork(parent, 1 + rnd.nextInt(3));
                model.fork(parent, kids);
            } else if (op < 30 || ids.size() >= 24 && op < 40) {
                int id = ids.get(rnd.nextInt(ids.size()));
                pool.release(id);
                model.release(id);
            } else if (op < 65) {
                int id = ids.get(rnd.nextInt(ids.size()));
                int n = rnd.nextBoolean() ? 1 : 1 + rnd.nextInt(2 * c.blockSize() + 3);
                for (int layer : layers()) {
                    float[] k = randomRows(n), v = randomRows(n);
                    tryWrite(() -> pool.append(id, layer, k, v), () -> model.append(id, layer, k, v));
                }
            } else {
                List<Integer> pick = new ArrayList<>(ids);
                Collections.shuffle(pick, new java.util.Random(rnd.nextLong()));
                int[] batch = pick.subList(0, 1 + rnd.nextInt(pick.size())).stream()
                        .mapToInt(Integer::intValue)
                        .toArray();
                int row = c.rowFloats();
                for (int layer : layers()) {
                    float[] k = randomRows(batch.length), v = randomRows(batch.length);
                    tryWrite(() -> pool.appendBatch(batch, layer, k, v), () -> {
                        for (int i = 0; i < batch.length; i++) {
                            model.append(
                                    batch[i],
                                    layer,
                                    Arrays.copyOfRange(k, i * row, (i + 1) * row),
                                    Arrays.copyOfRange(v, i * row, (i + 1) * row));
                        }
                    });
                }
            }
        }

        /** One random layer, or all of them in order in lockstep mode. */
        private int[] layers() {
            if (!lockstep) return new int[] {rnd.nextInt(c.numLayers())};
            int[] all = new int[c.numLayers()];
            for (int l = 0; l < all.length; l++) all[l] = l;
            return all;
        }

        private void tryWrite(Runnable poolOp, Runnable modelOp) {
            String before = snapshot();
            long copiesBefore = pool.copyOnWrites();
            try {
                poolOp.run();
            } catch (KvCacheExhaustedException e) {
                exhausted++;
                assertTrue(e.needed() > e.free(), e.getMessage());
                assertEquals(c.numBlocks(), e.total());
                assertEquals(before, snapshot(), "a refused append changed the pool");
                assertEquals(copiesBefore, pool.copyOnWrites());
                return;
            }
            modelOp.run();
            copies += (int) (pool.copyOnWrites() - copiesBefore);
        }

        /** Everything observable about the pool, including the data of every live sequence. */
        String snapshot() {
            StringBuilder sb = new StringBuilder();
            sb.append(pool.blocksInUse())
                    .append('/')
                    .append(pool.freeBlocks())
                    .append('/')
                    .append(pool.uniqueTokens())
                    .append('/')
                    .append(pool.liveSequences())
                    .append('/')
                    .append(pool.structureVersion())
                    .append('\n');
            for (int b = 0; b < c.numBlocks(); b++) sb.append(pool.refCount(b)).append(',');
            for (int id : model.ids()) {
                sb.append('\n').append(id).append(Arrays.toString(pool.blockTable(id)));
                for (int l = 0; l < c.numLayers(); l++) {
                    int n = pool.length(id, l);
                    float[] k = new float[n * c.rowFloats()], v = new float[n * c.rowFloats()];
                    pool.readKv(id, l, k, v);
                    sb.append(n).append(Arrays.hashCode(k)).append(Arrays.hashCode(v));
                }
            }
            return sb.toString();
        }

        void verify() {
            int bs = c.blockSize();
            Map<Integer, Integer> holders = new HashMap<>();
            Map<Integer, Integer> written = new HashMap<>();
            assertEquals(model.size(), pool.liveSequences());
            for (int id : model.ids()) {
                assertTrue(pool.isLive(id));
                int[] table = pool.blockTable(id);
                int len = model.length(id);
                assertEquals(len, pool.length(id));
                assertEquals((len + bs - 1) / bs, table.length, "table of " + id + " must cover its longest layer");
                for (int j = 0; j < table.length; j++) {
                    holders.merge(table[j], 1, Integer::sum);
                    int w = Math.min(bs, len - j * bs);
                    Integer prev = written.put(table[j], w);
                    if (prev != null) assertEquals(prev.intValue(), w, "holders of block " + table[j] + " disagree");
                }
                for (int l = 0; l < c.numLayers(); l++) {
                    int n = model.length(id, l);
                    assertEquals(n, pool.length(id, l));
                    float[] k = new float[n * c.rowFloats()], v = new float[n * c.rowFloats()];
                    pool.readKv(id, l, k, v);
                    assertArrayEquals(model.dense(id, l, 0), k, "K of sequence " + id + " layer " + l);
                    assertArrayEquals(model.dense(id, l, 1), v, "V of sequence " + id + " layer " + l);
                }
            }
            for (int b = 0; b < c.numBlocks(); b++) {
                assertEquals(holders.getOrDefault(b, 0).intValue(), pool.refCount(b), "ref-count of block " + b);
            }
            assertEquals(holders.size(), pool.blocksInUse());
            assertEquals(c.numBlocks(), pool.blocksInUse() + pool.freeBlocks());
            assertEquals(pool.blocksInUse() * c.blockBytes(), pool.bytesInUse());
            long unique = 0;
            for (int w : written.values()) unique += w;
            assertEquals(unique, pool.uniqueTokens());
        }

        void releaseAll() {
            for (int id : model.ids()) {
                pool.release(id);
                model.release(id);
                assertFalse(pool.isLive(id));
                assertThrows(IllegalArgumentException.class, () -> pool.length(id));
            }
        }
    }
}
