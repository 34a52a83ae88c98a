package io.github.spo4j.kernels.tree;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ForestBuilderTest {
    @Test
    void interleavedTreesAreLaidOutContiguously() {
        ForestBuilder b = Forest.builder();
        int r0 = b.addRoot();
        int r1 = b.addRoot();
        int a = b.addChild(r0);
        int c = b.addLeaf(r1, 1f);
        int x = b.addLeaf(a, 0f);
        int y = b.addLeaf(r0, 1f);
        int z = b.addLeaf(a, 1f);
        Forest f = b.build();
        assertArrayEquals(new int[] {0, 5, 7}, f.treeOffsets());
        // Tree 0 in order of addition: r0, a, x, y, z; then tree 1: r1, c.
        assertArrayEquals(new int[] {-1, 0, 1, 0, 1, -1, 5}, f.parents());
        int[] handles = {r0, a, x, y, z, r1, c};
        for (int i = 0; i < handles.length; i++) assertEquals(i, b.indexOf(handles[i]));
        assertNull(f.weights());
        TreeBackupResult r = TreeBackupReference.backup(TreeBackupConfig.spoTree(), f);
        assertEquals(0.75f, r.value()[0]); // (V(a) = 1/2 + V(y) = 1) / 2
        assertEquals(1f, r.rootValue()[1]);
    }

    @Test
    void readmeExample() {
        ForestBuilder b = Forest.builder();
        int root = b.addRoot();
        int mid = b.addChild(root);
        b.addLeaf(mid, 1f);
        b.addLeaf(mid, 0f);
        int early = b.addLeaf(root, 1f);
        Forest forest = b.build();
        TreeBackupResult r = TreeBackup.create().backup(TreeBackupConfig.spoTree(), forest);
        assertEquals(0.25f, r.advantage()[b.indexOf(early)]);
        assertEquals(0.75f, r.rootValue()[0]);
    }

    @Test
    void weightsAreKept() {
        ForestBuilder b = Forest.builder();
        int r = b.addRoot();
        b.setWeight(b.addLeaf(r, 1f), 3f);
        b.addLeaf(r, 0f);
        Forest f = b.build();
        assertArrayEquals(new float[] {1, 3, 1}, f.weights());
        assertEquals(
                0.75f, TreeBackupReference.backup(TreeBackupConfig.spoTree(), f).value()[0]);
    }

    @Test
    void leafWithoutRewardIsRejectedAtBuild() {
        ForestBuilder b = Forest.builder();
        int r = b.addRoot();
        b.addChild(r);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, b::build);
        assertTrue(e.getMessage().startsWith("leafReward[1] = NaN"), e.getMessage());
    }

    @Test
    void badHandlesAreNamed() {
        ForestBuilder b = Forest.builder();
        b.addRoot();
        assertThrows(IllegalArgumentException.class, () -> b.addChild(5));
        assertThrows(IllegalArgumentException.class, () -> b.setReward(-1, 0f));
        assertThrows(IllegalStateException.class, () -> b.indexOf(0));
    }

    @Test
    void forestIsACopy() {
        int[] offsets = {0, 2};
        int[] parent = {-1, 0};
        float[] reward = {0, 1};
        Forest f = Forest.of(offsets, parent, reward);
        parent[1] = 5;
        reward[1] = Float.NaN;
        assertEquals(0, f.parent(1));
        assertEquals(1f, f.leafReward(1));
        f.parents()[1] = 7;
        assertEquals(0, f.parent(1));
    }
}
