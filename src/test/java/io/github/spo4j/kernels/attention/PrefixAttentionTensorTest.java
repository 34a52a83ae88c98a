package io.github.spo4j.kernels.attention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.kv.KvCache;
import io.github.spo4j.kernels.kv.KvCacheConfig;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AbstractTensor;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The libtorch entry on a pool: q [B, Hq, D] (a non-contiguous view is copied), out and lse written in place,
 * the same numbers as the array entry; wrong shapes and dtypes are rejected by name.
 */
class PrefixAttentionTensorTest {
    @ParameterizedTest
    @EnumSource(
            value = Backend.class,
            names = {"REFERENCE", "CPU"})
    void tensorEntryEqualsArrayEntry(Backend backend) {
        int qHeads = 4, kvHeads = 2, headDim = 8;
        SplittableRandom r = new SplittableRandom(3);
        try (KvCache pool = KvCache.create(new KvCacheConfig(1, kvHeads, headDim, 4, 64), Backend.CPU);
                PointerScope scope = new PointerScope()) {
            int root = pool.newSequence();
            pool.append(root, 0, gaussian(r, 10 * 16), gaussian(r, 10 * 16));
            int[] kids = pool.fork(root, 3);
            for (int k : kids) pool.append(k, 0, gaussian(r, 2 * 16), gaussian(r, 2 * 16));
            PrefixAttentionPlan plan = PrefixAttentionPlan.decodeShared(pool, kids, 0, 4);
            float[] q = gaussian(r, 3 * qHeads * headDim);
            PrefixAttention attention = PrefixAttention.create(backend);
            float[] lse = new float[3 * qHeads];
            float[] expected = attention.attend(pool, 0, plan, qHeads, 0.3f, q, lse);

            // q as a transposed view of a [Hq, B, D] tensor: not contiguous, so the entry copies it.
            Tensor qt = AbstractTensor.create(q)
                    .reshape(3, qHeads, headDim)
                    .transpose(0, 1)
                    .contiguous()
                    .transpose(0, 1);
            assertTrue(!qt.is_contiguous());
            Tensor out = torch.zeros(3, qHeads, headDim), lseT = torch.zeros(3, qHeads);
            attention.attend(pool, 0, plan, 0.3f, qt, out, lseT);
            assertArrayEquals(expected, floats(out));
            assertArrayEquals(lse, floats(lseT));

            Tensor wrong = torch.zeros(3, qHeads, headDim + 1);
            IllegalArgumentException e = assertThrows(
                    IllegalArgumentException.class, () -> attention.attend(pool, 0, plan, 0.3f, wrong, out, null));
            assertTrue(e.getMessage().contains("q must be"), e.getMessage());
            Tensor doubles = torch.zeros(3, qHeads, headDim).to(ScalarType.Double);
            e = assertThrows(
                    IllegalArgumentException.class, () -> attention.attend(pool, 0, plan, 0.3f, doubles, out, null));
            assertTrue(e.getMessage().contains("q must have dtype"), e.getMessage());
            Tensor smallOut = torch.zeros(2, qHeads, headDim);
            e = assertThrows(
                    IllegalArgumentException.class, () -> attention.attend(pool, 0, plan, 0.3f, qt, smallOut, null));
            assertTrue(e.getMessage().contains("out has"), e.getMessage());
        }
    }

    /** A plan outlives the scope of its first use (its native copy is not the caller scope's to free) and its close. */
    @org.junit.jupiter.api.Test
    void aPlanServesCallsInLaterScopes() {
        int qHeads = 4, kvHeads = 2, headDim = 8;
        SplittableRandom r = new SplittableRandom(5);
        try (KvCache pool = KvCache.create(new KvCacheConfig(1, kvHeads, headDim, 4, 64), Backend.CPU)) {
            int root = pool.newSequence();
            pool.append(root, 0, gaussian(r, 9 * 16), gaussian(r, 9 * 16));
            int[] kids = pool.fork(root, 2);
            PrefixAttentionPlan plan = PrefixAttentionPlan.decodeShared(pool, kids, 0, 4);
            PrefixAttention attention = PrefixAttention.create(Backend.CPU);
            float[] q = gaussian(r, 2 * qHeads * headDim);
            float[][] outs = new float[3][];
            for (int call = 0; call < outs.length; call++) {
                try (PointerScope scope = new PointerScope()) {
                    Tensor out = torch.zeros(2, qHeads, headDim);
                    attention.attend(
                            pool, 0, plan, 0.3f, AbstractTensor.create(q).reshape(2, qHeads, headDim), out, null);
                    outs[call] = floats(out);
                }
            }
            assertArrayEquals(outs[0], outs[1]);
            assertArrayEquals(outs[0], outs[2]);
            assertArrayEquals(outs[0], attention.attend(pool, 0, plan, qHeads, 0.3f, q, null));
            plan.close(); // frees the native copy; the next call makes it again
            plan.close();
            assertArrayEquals(outs[0], attention.attend(pool, 0, plan, qHeads, 0.3f, q, null));
        }
    }

    private static float[] floats(Tensor t) {
        float[] out = new float[(int) t.numel()];
        if (out.length > 0) t.contiguous().data_ptr_float().get(out);
        return out;
    }

    private static float[] gaussian(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }
}
