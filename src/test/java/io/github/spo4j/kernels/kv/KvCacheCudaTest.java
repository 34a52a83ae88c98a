package io.github.spo4j.kernels.kv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.engine.NativeLibrary;
import io.github.spo4j.kernels.engine.Staging;
import io.github.spo4j.kernels.nativebind.Spo4jNative;
import io.github.spo4j.testutil.GpuRequirements;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The pool on CUDA (device storage, the CUDA write and copy kernels) against the model and against the CPU
 * pool bit for bit after the same operations; device-pointer inputs; the CUDA entries' rejections write
 * nothing. Skipped without a CUDA device.
 */
@Tag("gpu")
class KvCacheCudaTest {
    @BeforeEach
    void requireCuda() {
        GpuRequirements.assumeCuda();
    }

    @Test
    void randomOperationsMatchTheModelOnCuda() {
        for (KvCacheConfig config : new KvCacheConfig[] {
            new KvCacheConfig(1, 1, 1, 1, 300), new KvCacheConfig(2, 2, 3, 3, 120), new KvCacheConfig(3, 4, 8, 16, 40)
        }) {
            try (KvCache pool = KvCache.create(config, Backend.CUDA)) {
                KvCacheModelTest.Driver d = new KvCacheModelTest.Driver(pool, 3 + config.blockSize());
                for (int i = 0; i < 1500; i++) {
                    d.step();
                    d.verify();
                }
                d.releaseAll();
                assertEquals(0, pool.blocksInUse());
            }
        }
    }

    @Test
    void cudaAndCpuLeaveTheSameStorage() {
        KvCacheConfig config = new KvCacheConfig(2, 3, 5, 7, 90);
        try (KvCache cuda = KvCache.create(config, Backend.CUDA);
                KvCache cpu = KvCache.create(config, Backend.CPU)) {
            KvCacheModelTest.Driver a = new KvCacheModelTest.Driver(cuda, 8);
            KvCacheModelTest.Driver b = new KvCacheModelTest.Driver(cpu, 8);
            // Touch every block once on both, so the comparison covers only what the operations wrote.
            int s = cuda.newSequence();
            cpu.newSequence();
            float[] zeros = new float[config.numBlocks() * config.blockSize() * config.rowFloats()];
            for (int l = 0; l < config.numLayers(); l++) {
                cuda.append(s, l, zeros, zeros);
                cpu.append(s, l, zeros, zeros);
            }
            cuda.release(s);
            cpu.release(s);
            for (int i = 0; i < 2000; i++) {
                a.step();
                b.step();
            }
            int n = (int) config.totalFloats();
            float[] x = new float[n], y = new float[n];
            cuda.readStorage(0, x, 0, n);
            cpu.readStorage(0, y, 0, n);
            assertArrayEquals(y, x);
        }
    }

    @Test
    void devicePointerAppendsAndRejectionsWriteNothing() {
        KvCacheConfig config = new KvCacheConfig(2, 2, 4, 4, 10);
        int row = config.rowFloats();
        try (KvCache pool = KvCache.create(config, Backend.CUDA);
                PointerScope scope = new PointerScope();
                Staging staging = new Staging()) {
            float[] k = KvCacheModelTest.rows(6, row, 1), v = KvCacheModelTest.rows(6, row, 2);
            FloatPointer dk = new FloatPointer(staging.in(new FloatPointer(k), 4L * k.length));
            FloatPointer dv = new FloatPointer(staging.in(new FloatPointer(v), 4L * v.length));
            int s = pool.newSequence();
            pool.append(s, 1, dk, dv, 6);
            float[] rk = new float[k.length], rv = new float[v.length];
            pool.readKv(s, 1, rk, rv);
            assertArrayEquals(k, rk);
            assertArrayEquals(v, rv);
            int[] kids = pool.fork(s, 2);
            pool.appendBatch(kids, 1, dk, dv); // rows 0 and 1 of the device inputs
            assertEquals(1, pool.copyOnWrites());
            float[] before = new float[(int) config.totalFloats()], after = new float[before.length];
            pool.readStorage(0, before, 0, before.length);
            IllegalArgumentException e = assertThrows(
                    IllegalArgumentException.class,
                    () -> NativeLibrary.check(Spo4jNative.spo4j_kv_cache_write(
                            Spo4jNative.SPO4J_DEVICE_CUDA,
                            pool.storage(),
                            2,
                            10,
                            4,
                            2,
                            4,
                            0,
                            2,
                            new IntPointer(new int[] {3, 3}),
                            dk,
                            dv,
                            null)));
            assertTrue(e.getMessage().contains("slots holds slot 3 twice"), e.getMessage());
            e = assertThrows(
                    IllegalArgumentException.class,
                    () -> NativeLibrary.check(Spo4jNative.spo4j_kv_cache_copy_blocks(
                            Spo4jNative.SPO4J_DEVICE_CUDA,
                            pool.storage(),
                            2,
                            10,
                            4,
                            2,
                            4,
                            1,
                            new IntPointer(new int[] {0}),
                            new IntPointer(new int[] {0}),
                            new IntPointer(new int[] {4}),
                            null)));
            assertTrue(e.getMessage().contains("copied onto itself"), e.getMessage());
            pool.readStorage(0, after, 0, after.length);
            assertArrayEquals(before, after);
        }
    }
}
