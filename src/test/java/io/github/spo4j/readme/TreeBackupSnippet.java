package io.github.spo4j.readme;

import io.github.spo4j.kernels.tree.Forest;
import io.github.spo4j.kernels.tree.ForestBuilder;
import io.github.spo4j.kernels.tree.TreeBackup;
import io.github.spo4j.kernels.tree.TreeBackupConfig;
import io.github.spo4j.kernels.tree.TreeBackupResult;

/** README, "The tree backup": the paper's figure as a forest. */
final class TreeBackupSnippet {
    private TreeBackupSnippet() {}

    /** The advantage of the early leaf. */
    static float run() {
        // README begin
        ForestBuilder b = Forest.builder(); // nodes as the sampler makes them; trees may interleave
        int root = b.addRoot();
        int mid = b.addChild(root); // grew past the segment length: valued by its children
        b.addLeaf(mid, 1f);
        b.addLeaf(mid, 0f);
        int early = b.addLeaf(root, 1f); // finished early: a leaf one level up
        Forest forest = b.build(); // validated; b.indexOf(handle) gives each node's index
        TreeBackupResult r = TreeBackup.create().backup(TreeBackupConfig.spoTree(), forest);
        float a = r.advantage()[b.indexOf(early)]; // 1 − (0.5 + 1)/2 = 0.25
        // README end
        return a;
    }
}
