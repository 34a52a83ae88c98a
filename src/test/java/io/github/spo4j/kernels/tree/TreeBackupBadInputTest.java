package io.github.spo4j.kernels.tree;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.kernels.Backend;
import java.util.Arrays;
import java.util.stream.Stream;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Broken forests give IllegalArgumentException naming the argument, never a crash: through
 * {@link Forest#of} (checked in Java) and through host pointers (checked by the native code, with the same
 * message), and a rejected native call writes no output.
 */
class TreeBackupBadInputTest {
    private static final float NAN = Float.NaN;

    /** name, treeOffsets, parent, leafReward, weight, expected message fragment. */
    static Stream<Arguments> brokenForests() {
        return Stream.of(
                Arguments.of(
                        "parent after child",
                        new int[] {0, 3},
                        new int[] {-1, 2, 0},
                        new float[] {NAN, 1, NAN},
                        null,
                        "parent[1] = 2: a parent must come before its child"),
                Arguments.of(
                        "cycle",
                        new int[] {0, 3},
                        new int[] {-1, 2, 1},
                        new float[] {NAN, NAN, NAN},
                        null,
                        "parent[1] = 2: a parent must come before its child"),
                Arguments.of(
                        "self loop",
                        new int[] {0, 2},
                        new int[] {-1, 1},
                        new float[] {NAN, 1},
                        null,
                        "parent[1] = 1: a parent must come before its child"),
                Arguments.of(
                        "parent in another tree",
                        new int[] {0, 2, 4},
                        new int[] {-1, 0, -1, 1},
                        new float[] {NAN, 1, NAN, 1},
                        null,
                        "parent[3] = 1 is outside tree 1"),
                Arguments.of(
                        "parent in a later tree",
                        new int[] {0, 2, 4},
                        new int[] {-1, 3, -1, 2},
                        new float[] {NAN, 1, NAN, 1},
                        null,
                        "parent[1] = 3 is outside tree 0"),
                Arguments.of(
                        "negative parent",
                        new int[] {0, 2},
                        new int[] {-1, -5},
                        new float[] {NAN, 1},
                        null,
                        "parent[1] = -5 is outside tree 0"),
                Arguments.of(
                        "two roots",
                        new int[] {0, 3},
                        new int[] {-1, 0, -1},
                        new float[] {1, 1, 1},
                        null,
                        "parent[2] = -1: tree 0 has a second root"),
                Arguments.of(
                        "tree not starting at its root",
                        new int[] {0, 2},
                        new int[] {1, -1},
                        new float[] {1, 1},
                        null,
                        "parent[0] = 1: node 0 starts tree 0 and must be its root"),
                Arguments.of(
                        "NaN leaf reward",
                        new int[] {0, 3},
                        new int[] {-1, 0, 0},
                        new float[] {NAN, 1, NAN},
                        null,
                        "leafReward[2] = NaN is not finite"),
                Arguments.of(
                        "infinite leaf reward",
                        new int[] {0, 1},
                        new int[] {-1},
                        new float[] {Float.POSITIVE_INFINITY},
                        null,
                        "leafReward[0] = Infinity is not finite"),
                Arguments.of(
                        "zero weight",
                        new int[] {0, 2},
                        new int[] {-1, 0},
                        new float[] {NAN, 1},
                        new float[] {1, 0},
                        "weight[1] = 0.0 must be finite and > 0"),
                Arguments.of(
                        "NaN weight",
                        new int[] {0, 2},
                        new int[] {-1, 0},
                        new float[] {NAN, 1},
                        new float[] {1, NAN},
                        "weight[1] = NaN must be finite and > 0"),
                Arguments.of(
                        "empty tree",
                        new int[] {0, 2, 2, 3},
                        new int[] {-1, 0, -1},
                        new float[] {1, 1, 1},
                        null,
                        "treeOffsets must be strictly increasing"),
                Arguments.of(
                        "decreasing offsets",
                        new int[] {0, 2, 1},
                        new int[] {-1, 0},
                        new float[] {NAN, 1},
                        null,
                        "treeOffsets must be strictly increasing"),
                Arguments.of(
                        "offsets not starting at 0",
                        new int[] {1, 2},
                        new int[] {-1, 0},
                        new float[] {NAN, 1},
                        null,
                        "treeOffsets[0] must be 0"),
                Arguments.of(
                        "offsets not ending at N",
                        new int[] {0, 1},
                        new int[] {-1, 0},
                        new float[] {NAN, 1},
                        null,
                        "treeOffsets[T] must equal the node count N = 2"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("brokenForests")
    void forestOfRejects(String name, int[] offsets, int[] parent, float[] reward, float[] weight, String message) {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> Forest.of(offsets, parent, reward, weight));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("brokenForests")
    void nativeCheckRejectsWithTheSameMessageAndWritesNothing(
            String name, int[] offsets, int[] parent, float[] reward, float[] weight, String message) {
        int n = parent.length, t = offsets.length - 1;
        try (PointerScope scope = new PointerScope()) {
            FloatPointer value = new FloatPointer(n).fill(0x7f);
            FloatPointer adv = new FloatPointer(n).fill(0x7f);
            IntPointer depth = new IntPointer(n).fill(0x7f);
            FloatPointer root = new FloatPointer(t).fill(0x7f);
            IllegalArgumentException e = assertThrows(
                    IllegalArgumentException.class,
                    () -> TreeBackup.create(Backend.CPU)
                            .backup(
                                    TreeBackupConfig.spoTree(),
                                    n,
                                    t,
                                    new IntPointer(offsets),
                                    new IntPointer(parent),
                                    new FloatPointer(reward),
                                    weight == null ? null : new FloatPointer(weight),
                                    value,
                                    adv,
                                    null,
                                    depth,
                                    root,
                                    null));
            String javaMessage = assertThrows(
                            IllegalArgumentException.class, () -> Forest.of(offsets, parent, reward, weight))
                    .getMessage();
            // Same text up to the float formatting of the offending value (%g in C, Float.toString in Java).
            assertEquals(
                    javaMessage
                            .replaceAll("= [-0-9.a-zA-Z]+ must", "= x must")
                            .replaceAll("= [-0-9.a-zA-Z]+ is not", "= x is not"),
                    e.getMessage()
                            .replaceAll("= [-0-9.a-zA-Z]+ must", "= x must")
                            .replaceAll("= [-0-9.a-zA-Z]+ is not", "= x is not"));
            assertUntouched(value, n);
            assertUntouched(adv, n);
            assertUntouched(root, t);
            int[] d = new int[n];
            depth.get(d);
            for (int x : d) assertEquals(0x7f7f7f7f, x);
        }
    }

    @Test
    void mismatchedLengthsAreNamed() {
        assertMessage(
                "leafReward has length 1, expected 2",
                () -> Forest.of(new int[] {0, 2}, new int[] {-1, 0}, new float[] {1}));
        assertMessage(
                "weight has length 3, expected 2",
                () -> Forest.of(new int[] {0, 2}, new int[] {-1, 0}, new float[] {1, 1}, new float[3]));
        assertMessage("treeOffsets must have T+1 >= 1 entries", () -> Forest.of(new int[0], new int[0], new float[0]));
        assertMessage("parent must not be null", () -> Forest.of(new int[] {0}, null, new float[0]));
    }

    @Test
    void badSizesAndPointersAreNamed() {
        TreeBackup cpu = TreeBackup.create(Backend.CPU);
        TreeBackupConfig c = TreeBackupConfig.spoTree();
        try (PointerScope scope = new PointerScope()) {
            IntPointer offs = new IntPointer(new int[] {0, 2});
            IntPointer parent = new IntPointer(new int[] {-1, 0});
            FloatPointer reward = new FloatPointer(new float[] {0, 1});
            FloatPointer value = new FloatPointer(2);
            assertMessage(
                    "numNodes must be >= 0, got -1",
                    () -> cpu.backup(c, -1, 1, offs, parent, reward, null, value, null, null, null, null, null));
            assertMessage(
                    "numTrees must be >= 0, got -2",
                    () -> cpu.backup(c, 2, -2, offs, parent, reward, null, value, null, null, null, null, null));
            assertMessage(
                    "numTrees = 3 exceeds numNodes = 2",
                    () -> cpu.backup(c, 2, 3, offs, parent, reward, null, value, null, null, null, null, null));
            assertMessage(
                    "value must not be null",
                    () -> cpu.backup(c, 2, 1, offs, parent, reward, null, null, null, null, null, null, null));
            assertMessage(
                    "parent holds 2 elements, expected 3",
                    () -> cpu.backup(
                            c,
                            3,
                            1,
                            new IntPointer(new int[] {0, 3}),
                            parent,
                            new FloatPointer(3),
                            null,
                            new FloatPointer(3),
                            null,
                            null,
                            null,
                            null,
                            null));
            assertMessage(
                    "nonzeroAdvantages needs the advantage output",
                    () -> cpu.backup(
                            c, 2, 1, offs, parent, reward, null, value, null, null, null, null, new IntPointer(1)));
            assertMessage(
                    "advantage holds 1 elements, expected 2",
                    () -> cpu.backup(
                            c, 2, 1, offs, parent, reward, null, value, new FloatPointer(1), null, null, null, null));
        }
    }

    @Test
    void badConfigIsNamed() {
        assertMessage(
                "stdEps must be finite and >= 0, got NaN",
                () -> TreeBackupConfig.spoTree().withStdEps(Float.NaN));
        assertMessage(
                "stdEps must be finite and >= 0, got -1.0",
                () -> TreeBackupConfig.spoTree().withStdEps(-1f));
        assertMessage("valueMode must not be null", () -> new TreeBackupConfig(null, TreeAdvantageMode.DIFF, 0f));
    }

    @Test
    void innerNodeRewardsAreNeverRead() {
        Forest f = Forest.of(new int[] {0, 3}, new int[] {-1, 0, 0}, new float[] {NAN, 1, 0});
        for (Backend b : new Backend[] {Backend.REFERENCE, Backend.CPU}) {
            assertEquals(
                    0.5f,
                    TreeBackup.create(b).backup(TreeBackupConfig.spoTree(), f).value()[0]);
        }
    }

    private static void assertUntouched(FloatPointer p, int n) {
        float[] v = new float[n];
        p.get(v);
        float[] sentinel = new float[n];
        Arrays.fill(sentinel, Float.intBitsToFloat(0x7f7f7f7f));
        assertArrayEquals(sentinel, v);
    }

    private static void assertMessage(String fragment, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(fragment), "message '" + e.getMessage() + "' lacks '" + fragment + "'");
    }
}
