package io.github.spo4j.kernels.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.Bf16;
import io.github.spo4j.kernels.DType;
import io.github.spo4j.kernels.engine.KernelCall.Arg;
import io.github.spo4j.kernels.nativebind.Spo4jNative;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.ShortPointer;
import org.bytedeco.pytorch.AbstractTensor;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;

/**
 * The argument plumbing under the facades, without a kernel: capacity and tensor messages, the reference round
 * trip in every dtype, host outputs copied back only after a successful call, in-place host copies, and which
 * arguments a CUDA call stages (and how many bytes), decided without a GPU.
 */
class KernelCallTest {
    private static final int OK = Spo4jNative.SPO4J_OK;

    @Test
    void capacityIsCountedFromThePointersPosition() {
        try (KernelCall c = new KernelCall(Backend.CPU);
                FloatPointer p = new FloatPointer(4)) {
            p.position(1);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.in("logp", p, 4));
            assertEquals("logp holds 3 elements, expected 4", e.getMessage());
            assertTrue(c.in("logp", p, 3).present());
        }
    }

    @Test
    void absentArgumentsReadAsNullAndIgnoreWrites() {
        try (KernelCall c = new KernelCall(Backend.REFERENCE)) {
            Arg in = c.in("refLogp", (FloatPointer) null, 5);
            Arg out = c.out("entropyOut", (FloatPointer) null, 5);
            assertFalse(in.present());
            assertNull(in.pointer());
            assertNull(in.readFloats());
            assertNull(in.readInts());
            assertNull(in.readLongs());
            assertNull(in.readBooleans());
            assertNull(out.newFloats());
            out.write(new float[] {1f});
            out.write(new int[] {1});
        }
    }

    @Test
    void referenceRoundTripReadsAndWritesEveryDtype() {
        try (PointerScope scope = new PointerScope();
                KernelCall c = new KernelCall(Backend.REFERENCE)) {
            short[] bf16 = {Bf16.fromFloat(1.5f), Bf16.fromFloat(-2f)};
            Arg logits = c.in("logits", new ShortPointer(bf16), DType.BF16, 2);
            assertArrayEquals(new float[] {1.5f, -2f}, logits.readFloats());
            Arg ids = c.in("targets", new LongPointer(new long[] {3, 1L << 40, -7}), DType.I64, 3);
            assertArrayEquals(new int[] {3, Integer.MAX_VALUE, -1}, ids.readInts());
            assertArrayEquals(new long[] {3, 1L << 40, -7}, ids.readLongs());
            FloatPointer floats = new FloatPointer(0f, 1f, 2f, 3f);
            floats.position(1);
            assertArrayEquals(new float[] {1f, 2f}, c.in("logp", floats, 2).readFloats());
            assertArrayEquals(
                    new boolean[] {true, false, true},
                    c.in("valid", new BytePointer(new byte[] {1, 0, 2}), 3).readBooleans());

            ShortPointer grad = new ShortPointer(2);
            Arg g = c.out("gradLogits", grad, DType.BF16, 2);
            float[] values = g.newFloats();
            assertArrayEquals(new float[2], values);
            values[0] = 1.00390625f; // halfway between two bf16 values: rounds to even
            values[1] = -3f;
            g.write(values);
            assertEquals(Bf16.fromFloat(1.00390625f), grad.get(0));
            assertEquals(1f, Bf16.toFloat(grad.get(0)));
            assertEquals(-3f, Bf16.toFloat(grad.get(1)));
            IntPointer tokens = new IntPointer(2);
            c.out("tokens", tokens, 2).write(new int[] {7, 9});
            assertEquals(9, tokens.get(1));
        }
    }

    @Test
    void inputsAreNotWritable() {
        try (KernelCall c = new KernelCall(Backend.REFERENCE);
                FloatPointer p = new FloatPointer(1)) {
            Arg in = c.in("logp", p, 1);
            assertThrows(IllegalStateException.class, () -> in.write(new float[] {1f}));
        }
    }

    @Test
    void hostOutputsReceiveResultsOnlyAfterASuccessfulRun() {
        float[] out = {-1f, -1f, -1f};
        int[] tokens = {};
        try (KernelCall c = new KernelCall(Backend.CPU)) {
            Arg o = c.out("out", c.hostOut(out), 3);
            Arg t = c.out("tokens", c.hostOut(tokens), 0);
            assertEquals(1, t.asInts().capacity(), "an empty output still gets one element");
            assertThrows(
                    IllegalArgumentException.class,
                    () -> c.run(() -> {
                        o.asFloats().put(new float[] {5f, 6f, 7f});
                        return Spo4jNative.SPO4J_ERR_INVALID_ARGUMENT;
                    }));
            assertArrayEquals(new float[] {-1f, -1f, -1f}, out, "a failed call leaves the array alone");
            c.run(() -> {
                o.asFloats().put(new float[] {1f, 2f, 3f});
                return OK;
            });
        }
        assertArrayEquals(new float[] {1f, 2f, 3f}, out);
    }

    @Test
    void hostInputsAreNeverCopiedBackAndInPlaceCopiesAre() {
        float[] input = {1f, 2f};
        float[] inPlace = {3f, 4f};
        try (KernelCall c = new KernelCall(Backend.CPU)) {
            Arg a = c.in("a", c.host(input), 2);
            FloatPointer shared = c.host(inPlace);
            Arg b = c.in("logits", shared, 2);
            Arg g = c.out("gradLogits", c.inPlace(shared), 2);
            assertSame(b.pointer(), g.pointer());
            c.run(() -> {
                a.asFloats().put(new float[] {0f, 0f});
                g.asFloats().put(new float[] {8f, 9f});
                return OK;
            });
            assertThrows(IllegalStateException.class, () -> c.inPlace(new FloatPointer(1)));
        }
        assertArrayEquals(new float[] {1f, 2f}, input);
        assertArrayEquals(new float[] {8f, 9f}, inPlace);
    }

    @Test
    void cudaStagesOnlyHostCopiesWithTheirBytes() {
        try (PointerScope scope = new PointerScope();
                KernelCall c = new KernelCall(Backend.CUDA)) {
            Arg logp = c.in("logp", c.host(new float[5]), 5);
            Arg ids = c.in("seqIds", c.host(new long[3]), 3);
            Arg valid = c.in("valid", c.host(new boolean[7]), 7);
            Arg offsets = c.in("seqOffsets", c.host(new int[2]), 2);
            Arg grad = c.out("gradLogp", c.hostOut(new float[5]), 5);
            Arg empty = c.out("tokens", c.hostOut(new int[0]), 0);
            Arg caller = c.in("logits", new ShortPointer(6), DType.BF16, 6);
            Arg absent = c.in("refLogp", (FloatPointer) null, 5);
            assertTrue(logp.staged() && ids.staged() && valid.staged() && offsets.staged() && grad.staged());
            assertTrue(empty.staged());
            assertFalse(caller.staged(), "the caller's pointers are device memory already");
            assertFalse(absent.staged());
            assertEquals(20, logp.bytes());
            assertEquals(24, ids.bytes());
            assertEquals(7, valid.bytes());
            assertEquals(8, offsets.bytes());
            assertEquals(20, grad.bytes());
            assertEquals(0, empty.bytes());
            assertEquals(12, caller.bytes());
            assertThrows(IllegalStateException.class, logp::asFloats, "a host copy is device memory only in run()");
            assertThrows(IllegalStateException.class, grad::pointer);
            assertTrue(caller.pointer() != null);
        }
        try (PointerScope scope = new PointerScope();
                KernelCall c = new KernelCall(Backend.CPU)) {
            assertFalse(c.in("logp", c.host(new float[5]), 5).staged(), "host copies are the CPU's own memory");
        }
    }

    @Test
    void devicesFollowTheBackend() {
        try (KernelCall cuda = new KernelCall(Backend.CUDA);
                KernelCall cpu = new KernelCall(Backend.CPU);
                KernelCall ref = new KernelCall(Backend.REFERENCE)) {
            assertEquals(Spo4jNative.SPO4J_DEVICE_CUDA, cuda.device());
            assertEquals(Spo4jNative.SPO4J_DEVICE_CPU, cpu.device());
            assertTrue(ref.reference());
            assertFalse(cpu.reference());
        }
    }

    @Test
    void tensorChecksNameTheArgument() {
        try (PointerScope scope = new PointerScope();
                KernelCall c = new KernelCall(Backend.CPU)) {
            Tensor x = AbstractTensor.create(new float[] {1f, 2f, 3f, 4f, 5f, 6f});
            assertEquals(
                    "logp must have dtype Int or Long, got Float",
                    assertThrows(
                                    IllegalArgumentException.class,
                                    () -> c.tensor("logp", x, 6, ScalarType.Int, ScalarType.Long))
                            .getMessage());
            assertEquals(
                    "logp has 6 elements, expected 5",
                    assertThrows(IllegalArgumentException.class, () -> c.tensor("logp", x, 5, ScalarType.Float))
                            .getMessage());
            assertEquals(
                    "seqOffsets must be 1-D with B+1 >= 1 elements",
                    assertThrows(
                                    IllegalArgumentException.class,
                                    () -> c.tensor("seqOffsets", x.view(2, 3), -1, ScalarType.Float))
                            .getMessage());
            Tensor transposed = x.view(2, 3).t();
            assertEquals(
                    "out is an output and must be contiguous",
                    assertThrows(
                                    IllegalArgumentException.class,
                                    () -> c.tensorOut("out", transposed, 6, ScalarType.Float))
                            .getMessage());
            float[] read = new float[6];
            c.tensor("q", transposed, 6, ScalarType.Float).asFloats().get(read);
            assertArrayEquals(new float[] {1f, 4f, 2f, 5f, 3f, 6f}, read, "an input is made contiguous");
            assertSame(TensorArg.NONE, c.tensor("refLogp", null, 6, ScalarType.Float));
            assertEquals(DType.F32, c.tensor("logp", x, 6, ScalarType.Float).dtype());
        }
        try (PointerScope scope = new PointerScope();
                KernelCall c = new KernelCall(Backend.CUDA)) {
            Tensor x = AbstractTensor.create(new float[] {1f});
            assertEquals(
                    "logp is on the CPU but the backend is CUDA (CUDA needs CUDA tensors)",
                    assertThrows(IllegalArgumentException.class, () -> c.tensor("logp", x, 1, ScalarType.Float))
                            .getMessage());
        }
    }

    @Test
    void closingFreesTheHostCopies() {
        FloatPointer copy;
        try (KernelCall c = new KernelCall(Backend.CPU)) {
            copy = c.host(new float[] {1f});
            assertTrue(copy.address() != 0);
        }
        assertTrue(copy.isNull());
    }
}
