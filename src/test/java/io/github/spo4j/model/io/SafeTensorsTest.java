package io.github.spo4j.model.io;

import static io.github.spo4j.model.io.SafeTensorsTestFiles.entry;
import static io.github.spo4j.model.io.SafeTensorsTestFiles.raw;
import static io.github.spo4j.model.io.SafeTensorsTestFiles.shorts;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.kernels.Bf16;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AbstractTensor;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@SuppressWarnings("try")
class SafeTensorsTest {
    @TempDir
    Path dir;

    /** Values that stress a bit-exact path: signed zeros, subnormals, extremes, infinities, NaN payloads. */
    private static float[] awkwardFloats(int n, long seed) {
        Random r = new Random(seed);
        float[] special = {
            0f,
            -0f,
            Float.MIN_VALUE,
            -Float.MIN_VALUE,
            Float.MIN_NORMAL,
            Float.MAX_VALUE,
            Float.POSITIVE_INFINITY,
            Float.NEGATIVE_INFINITY,
            Float.intBitsToFloat(0x7fc00001),
            Float.intBitsToFloat(0xff800123),
            1f,
            -1f
        };
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = i < special.length ? special[i] : (float) r.nextGaussian() * 10;
        return x;
    }

    private static int[] bits(float[] x) {
        int[] b = new int[x.length];
        for (int i = 0; i < x.length; i++) b[i] = Float.floatToRawIntBits(x[i]);
        return b;
    }

    @Test
    void handBuiltFileWithExactBytes() throws Exception {
        // {"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}} is 57 bytes; 7 spaces pad it to 64.
        byte[] file = {
            0x40,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            '{',
            '"',
            'w',
            '"',
            ':',
            '{',
            '"',
            'd',
            't',
            'y',
            'p',
            'e',
            '"',
            ':',
            '"',
            'F',
            '3',
            '2',
            '"',
            ',',
            '"',
            's',
            'h',
            'a',
            'p',
            'e',
            '"',
            ':',
            '[',
            '2',
            ',',
            '2',
            ']',
            ',',
            '"',
            'd',
            'a',
            't',
            'a',
            '_',
            'o',
            'f',
            'f',
            's',
            'e',
            't',
            's',
            '"',
            ':',
            '[',
            '0',
            ',',
            '1',
            '6',
            ']',
            '}',
            '}',
            ' ',
            ' ',
            ' ',
            ' ',
            ' ',
            ' ',
            ' ',
            0,
            0,
            (byte) 0x80,
            0x3f, // 1.0
            0,
            0,
            0,
            (byte) 0xc0, // -2.0
            0,
            0,
            0,
            0x3f, // 0.5
            0,
            0,
            0x40,
            0x40, // 3.0
        };
        assertEquals(8 + 64 + 16, file.length);
        Path p = Files.write(dir.resolve("hand.safetensors"), file);
        try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
            assertEquals(List.of("w"), List.copyOf(f.names()));
            assertEquals(new TensorInfo("w", SafeTensorsDType.F32, new long[] {2, 2}, 0, 16), f.info("w"));
            assertEquals(72, f.dataStart());
            assertEquals(Map.of(), f.metadata());
            assertArrayEquals(new float[] {1f, -2f, 0.5f, 3f}, f.readFloats("w"));
            try (PointerScope scope = new PointerScope()) {
                Tensor t = f.readTensor("w");
                assertArrayEquals(new long[] {2, 2}, t.shape());
                assertEquals(ScalarType.Float, t.scalar_type().intern());
                assertEquals(-2f, t.data_ptr_float().get(1));
                assertEquals(0.5f, t.data_ptr_float().get(2));
            }
        }
    }

    @Test
    void writerHeaderMatchesTheHuggingFaceLayout() throws Exception {
        Path p = dir.resolve("w.safetensors");
        Map<String, FloatTensor> m = new LinkedHashMap<>();
        m.put("w", new FloatTensor(new float[] {1f, -2f, 0.5f, 3f}, 2, 2));
        m.put("b", new FloatTensor(new float[] {7f}));
        SafeTensors.write(p, m, Map.of("format", "pt"), SafeTensorsDType.F32);
        byte[] bytes = Files.readAllBytes(p);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long n = b.getLong(0);
        assertEquals(0, n % 8, "header padded to a multiple of 8");
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        // Names in order ("b" before "w"), offsets contiguous, __metadata__ first, compact JSON, space padding.
        String json = "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[4,20]}}";
        assertEquals(json, header.stripTrailing());
        assertEquals(n, (json.length() + 7) / 8 * 8);
        assertEquals(8 + n + 20, bytes.length);
        assertEquals(7f, b.getFloat(8 + (int) n));
        assertEquals(3f, b.getFloat(8 + (int) n + 4 + 12));
    }

    @Test
    void f32RoundTripIsBitExact() throws Exception {
        float[] a = awkwardFloats(301, 1);
        float[] c = awkwardFloats(6, 2);
        Path p = dir.resolve("f32.safetensors");
        SafeTensors.write(
                p,
                Map.of("layer.a", new FloatTensor(a, 7, 43), "c", new FloatTensor(c, 2, 1, 3)),
                Map.of("k", "v"),
                SafeTensorsDType.F32);
        // Tiny map pieces: values cross several mappings.
        for (long mapBytes : new long[] {1L << 30, 8, 12}) {
            try (SafeTensorsFile f = SafeTensorsFile.open(p, mapBytes)) {
                assertEquals(List.of("c", "layer.a"), List.copyOf(f.names()));
                assertEquals(Map.of("k", "v"), f.metadata());
                assertArrayEquals(new long[] {7, 43}, f.info("layer.a").shape());
                assertArrayEquals(bits(a), bits(f.readFloats("layer.a")));
                assertArrayEquals(bits(c), bits(f.readFloats("c")));
                try (PointerScope scope = new PointerScope()) {
                    Tensor t = f.readTensor("layer.a");
                    assertArrayEquals(new long[] {7, 43}, t.shape());
                    float[] back = new float[a.length];
                    t.data_ptr_float().get(back);
                    assertArrayEquals(bits(a), bits(back));
                }
            }
        }
    }

    @Test
    void bf16RoundsToNearestEven() throws Exception {
        float[] x = {
            Float.intBitsToFloat(0x3f808000), // 1 + 2^-8: halfway between 0x3f80 and 0x3f81 -> even 0x3f80 = 1.0
            Float.intBitsToFloat(0x3f818000), // halfway between 0x3f81 and 0x3f82 -> even 0x3f82 = 1.015625
            Float.intBitsToFloat(0x3f808001), // just above halfway -> 0x3f81 = 1.0078125
            Float.intBitsToFloat(0x3f807fff), // just below halfway -> 0x3f80 = 1.0
            -3f, // exact: 0xc040
            Float.NaN, // stays NaN
        };
        Path p = dir.resolve("bf16.safetensors");
        SafeTensors.write(p, Map.of("x", new FloatTensor(x, 6)), null, SafeTensorsDType.BF16);
        byte[] bytes = Files.readAllBytes(p);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int data = 8 + (int) b.getLong(0);
        assertEquals(data + 12, bytes.length);
        int[] expected = {0x3f80, 0x3f82, 0x3f81, 0x3f80, 0xc040};
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], b.getShort(data + 2 * i) & 0xffff, "bf16 bits of x[" + i + "]");
        }
        try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
            assertEquals(SafeTensorsDType.BF16, f.info("x").dtype());
            float[] back = f.readFloats("x");
            assertArrayEquals(new float[] {1f, 1.015625f, 1.0078125f, 1f, -3f}, Arrays.copyOf(back, 5));
            assertTrue(Float.isNaN(back[5]));
        }
        // A general BF16 round trip equals rounding each value with Bf16.
        float[] y = awkwardFloats(257, 3);
        SafeTensors.write(p, Map.of("y", new FloatTensor(y, 257)), null, SafeTensorsDType.BF16);
        try (SafeTensorsFile f = SafeTensorsFile.open(p, 10)) {
            float[] back = f.readFloats("y");
            for (int i = 0; i < y.length; i++) {
                assertEquals(Bf16.toFloat(Bf16.fromFloat(y[i])), back[i], 0f, "y[" + i + "]");
            }
        }
    }

    @Test
    void f16DecodesKnownBitPatterns() throws Exception {
        int[] h = {0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x0400, 0x8000, 0x7c00, 0xfc00, 0x3555, 0x7e00};
        float[] expected = {
            1f,
            -2f,
            65504f,
            0x1p-24f,
            1023 * 0x1p-24f,
            0x1p-14f,
            -0f,
            Float.POSITIVE_INFINITY,
            Float.NEGATIVE_INFINITY,
            0.333251953125f
        };
        Path p = raw(dir.resolve("f16.safetensors"), "{" + entry("h", "F16", "[11]", 0, 22) + "}", shorts(h));
        try (SafeTensorsReader r = SafeTensors.open(p)) {
            float[] got = r.readFloats("h");
            assertArrayEquals(bits(expected), bits(Arrays.copyOf(got, 10)));
            assertTrue(Float.isNaN(got[10]));
            try (PointerScope scope = new PointerScope()) {
                Tensor t = r.readTensor("h");
                assertEquals(65504f, t.data_ptr_float().get(2));
                assertEquals(0x1p-24f, t.data_ptr_float().get(3));
            }
        }
    }

    @Test
    void f16DecodeIsExactForEveryBitPattern() {
        for (int bitsH = 0; bitsH < 0x10000; bitsH++) {
            int s = bitsH >>> 15, e = (bitsH >>> 10) & 0x1f, m = bitsH & 0x3ff;
            float got = Fp16.toFloat((short) bitsH);
            if (e == 31) {
                assertEquals(m == 0, Float.isInfinite(got), "inf iff mantissa 0: " + Integer.toHexString(bitsH));
                assertEquals(m != 0, Float.isNaN(got));
                continue;
            }
            double magnitude = e == 0 ? m * Math.pow(2, -24) : Math.pow(2, e - 15) * (1 + m / 1024.0);
            double expected = s == 1 ? -magnitude : magnitude;
            assertEquals(
                    Double.doubleToRawLongBits(expected),
                    Double.doubleToRawLongBits(got),
                    "half 0x" + Integer.toHexString(bitsH));
        }
    }

    @Test
    void integerTensorsReadAsLongs() throws Exception {
        ByteBuffer d = ByteBuffer.allocate(24 + 8).order(ByteOrder.LITTLE_ENDIAN);
        d.putLong(-5).putLong(1L << 40).putLong(7).putInt(-3).putInt(Integer.MAX_VALUE);
        Path p = raw(
                dir.resolve("ints.safetensors"),
                "{" + entry("i64", "I64", "[3]", 0, 24) + "," + entry("i32", "I32", "[2]", 24, 32) + "}",
                d.array());
        try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
            assertArrayEquals(new long[] {-5, 1L << 40, 7}, f.readLongs("i64"));
            assertArrayEquals(new long[] {-3, Integer.MAX_VALUE}, f.readLongs("i32"));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.readFloats("i64"));
            assertTrue(e.getMessage().contains("I64"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> f.readFloats("missing"));
        }
    }

    @Test
    void libtorchTensorsAreWrittenContiguousFp32() throws Exception {
        Path p = dir.resolve("t.safetensors");
        try (PointerScope scope = new PointerScope()) {
            Tensor base = AbstractTensor.create(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
            Tensor transposed = base.t(); // [3, 2], not contiguous: {1, 4, 2, 5, 3, 6}
            Tensor half = AbstractTensor.create(new float[] {0.5f, -1.5f}).to(ScalarType.Half);
            SafeTensors.writeTensors(p, Map.of("t", transposed, "h", half), Map.of(), SafeTensorsDType.F32);
        }
        try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
            assertArrayEquals(new long[] {3, 2}, f.info("t").shape());
            assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, f.readFloats("t"));
            assertArrayEquals(new float[] {0.5f, -1.5f}, f.readFloats("h"));
        }
    }

    @Test
    void emptyAndScalarTensors() throws Exception {
        Path p = dir.resolve("e.safetensors");
        SafeTensors.write(
                p,
                Map.of("empty", new FloatTensor(new float[0], 0, 5), "s", new FloatTensor(new float[] {2f})),
                null,
                SafeTensorsDType.BF16);
        try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
            assertEquals(0, f.readFloats("empty").length);
            assertArrayEquals(new float[] {2f}, f.readFloats("s"));
            try (PointerScope scope = new PointerScope()) {
                assertArrayEquals(new long[] {0, 5}, f.readTensor("empty").shape());
                assertEquals(0, f.readTensor("s").dim());
            }
        }
    }

    @Test
    void writerRejectsBadArguments() {
        Path p = dir.resolve("bad.safetensors");
        FloatTensor one = new FloatTensor(new float[] {1f}, 1);
        assertThrows(
                IllegalArgumentException.class,
                () -> SafeTensors.write(p, Map.of("__metadata__", one), null, SafeTensorsDType.F32));
        assertThrows(
                IllegalArgumentException.class,
                () -> SafeTensors.write(p, Map.of("", one), null, SafeTensorsDType.F32));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> SafeTensors.write(p, Map.of("a", one), null, SafeTensorsDType.F16));
        assertTrue(e.getMessage().contains("F32 or BF16"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new FloatTensor(new float[3], 2, 2));
        assertThrows(IllegalArgumentException.class, () -> new FloatTensor(new float[0], -1));
        assertTrue(Files.notExists(p));
    }
}
