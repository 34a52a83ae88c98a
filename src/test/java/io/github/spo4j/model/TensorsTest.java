package io.github.spo4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;

/** The public array-to-tensor helpers: shapes, dtypes, padding, strides and the rejected inputs. */
class TensorsTest {

    @Test
    void tokenIdsOfEquallyLongRowsIsInt64BxT() {
        try (PointerScope s = new PointerScope()) {
            Tensor t = Tensors.tokenIds(new int[][] {{1, 2, 3}, {4, 5, 6}});
            assertEquals(ScalarType.Long.value, t.scalar_type().value);
            assertArrayEquals(new long[] {2, 3}, Tensors.shape(t));
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, Tensors.toFloats(t));
        }
    }

    @Test
    void tokenIdsRightPadsRaggedRowsWithThePadId() {
        try (PointerScope s = new PointerScope()) {
            Tensor t = Tensors.tokenIds(new int[][] {{7}, {1, 2, 3}, {4, 5}}, 9);
            assertArrayEquals(new long[] {3, 3}, Tensors.shape(t));
            assertArrayEquals(new float[] {7, 9, 9, 1, 2, 3, 4, 5, 9}, Tensors.toFloats(t));
        }
    }

    @Test
    void tokenIdsRejectsRaggedNullAndEmptyRowsNamingTheRow() {
        var ragged = assertThrows(IllegalArgumentException.class, () -> Tensors.tokenIds(new int[][] {{1, 2}, {3}}));
        assertTrue(ragged.getMessage().startsWith("tokens[1] has 1 ids but tokens[0] has 2"), ragged.getMessage());
        var empty = assertThrows(IllegalArgumentException.class, () -> Tensors.tokenIds(new int[][] {{1}, {}}, 0));
        assertEquals("tokens[1] must hold at least one id", empty.getMessage());
        var nullRow = assertThrows(IllegalArgumentException.class, () -> Tensors.tokenIds(new int[][] {null}));
        assertEquals("tokens[0] must not be null", nullRow.getMessage());
        var none = assertThrows(IllegalArgumentException.class, () -> Tensors.tokenIds(new int[0][]));
        assertEquals("tokens must hold at least one row", none.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Tensors.tokenIds(null));
    }

    @Test
    void floatsRoundTripsAndChecksTheShape() {
        try (PointerScope s = new PointerScope()) {
            float[] data = {0.5f, -1f, Float.MIN_VALUE, 3e38f, -0f, 2f};
            Tensor t = Tensors.floats(data, 2, 1, 3);
            assertEquals(ScalarType.Float.value, t.scalar_type().value);
            assertArrayEquals(new long[] {2, 1, 3}, Tensors.shape(t));
            assertArrayEquals(data, Tensors.toFloats(t));
            data[0] = 42f; // a copy: later writes to the array do not reach the tensor
            assertEquals(0.5f, Tensors.toFloats(t)[0]);
        }
        var count = assertThrows(IllegalArgumentException.class, () -> Tensors.floats(new float[5], 2, 3));
        assertEquals("shape [2, 3] holds 6 elements but data has 5", count.getMessage());
        var negative = assertThrows(IllegalArgumentException.class, () -> Tensors.floats(new float[0], 2, -1));
        assertEquals("shape[1] = -1 is negative", negative.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Tensors.floats(null, 1));
    }

    @Test
    void oneDimensionalFactoriesAndInt32() {
        try (PointerScope s = new PointerScope()) {
            Tensor f = Tensors.floats(new float[] {1f, 2f, 3f});
            assertArrayEquals(new long[] {3}, Tensors.shape(f));
            Tensor i = Tensors.ints(new int[] {0, 4, -7});
            assertEquals(ScalarType.Int.value, i.scalar_type().value);
            assertArrayEquals(new long[] {3}, Tensors.shape(i));
            assertArrayEquals(new float[] {0, 4, -7}, Tensors.toFloats(i));
            Tensor grid = Tensors.ints(new int[] {1, 2, 3, 4, 5, 6}, 3, 2);
            assertArrayEquals(new long[] {3, 2}, Tensors.shape(grid));
            assertEquals(0, Tensors.shape(Tensors.floats(new float[] {5f}, new long[0])).length, "a scalar");
        }
        var count = assertThrows(IllegalArgumentException.class, () -> Tensors.ints(new int[4], 3));
        assertEquals("shape [3] holds 3 elements but data has 4", count.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Tensors.ints(null));
        assertThrows(IllegalArgumentException.class, () -> Tensors.floats(null));
    }

    @Test
    void toFloatsReadsTheLogicalOrderOfAStridedView() {
        try (PointerScope s = new PointerScope()) {
            Tensor t = Tensors.floats(new float[] {1, 2, 3, 4, 5, 6}, 2, 3).t(); // [3, 2], not contiguous
            assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, Tensors.toFloats(t));
            Tensor bf16 = Tensors.floats(new float[] {1.5f, -2.25f}, 2).to(ScalarType.BFloat16);
            assertArrayEquals(new float[] {1.5f, -2.25f}, Tensors.toFloats(bf16));
        }
    }

    @Test
    void toFloatRowsSplitsTheLastDimension() {
        try (PointerScope s = new PointerScope()) {
            float[] data = new float[24];
            for (int i = 0; i < data.length; i++) data[i] = i;
            float[][] rows = Tensors.toFloatRows(Tensors.floats(data, 2, 3, 4));
            assertEquals(6, rows.length);
            assertArrayEquals(new float[] {20, 21, 22, 23}, rows[5]); // row b·T + t = 1·3 + 2
            assertEquals(0, Tensors.toFloatRows(Tensors.floats(new float[0], 0, 5)).length);
            float[][] emptyRows = Tensors.toFloatRows(Tensors.floats(new float[0], 3, 0));
            assertEquals(3, emptyRows.length);
            assertEquals(0, emptyRows[2].length);
            var scalar = assertThrows(
                    IllegalArgumentException.class,
                    () -> Tensors.toFloatRows(Tensors.floats(new float[] {1}, new long[0])));
            assertEquals("t is a scalar; rows need at least one dimension", scalar.getMessage());
        }
    }
}
