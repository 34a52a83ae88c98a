package io.github.spo4j.kernels.tree;

import io.github.spo4j.kernels.engine.Checks;

/**
 * Configuration of the tree backup.
 *
 * @param valueMode     how nodes are valued from their leaves
 * @param advantageMode how advantages are formed
 * @param stdEps        ε added to the sibling std in {@link TreeAdvantageMode#DIFF_OVER_STD}, finite and &gt;= 0
 */
public record TreeBackupConfig(TreeValueMode valueMode, TreeAdvantageMode advantageMode, float stdEps) {

    /** The ε of SPO's {@code 'grpo'} advantage mode. */
    public static final float DEFAULT_STD_EPS = 1e-8f;

    public TreeBackupConfig {
        Checks.notNull(valueMode, "valueMode");
        Checks.notNull(advantageMode, "advantageMode");
        Checks.require(Float.isFinite(stdEps) && stdEps >= 0, "stdEps must be finite and >= 0, got " + stdEps);
    }

    /** SPO-tree as released: child-mean values, A = V(n) − V(parent). */
    public static TreeBackupConfig spoTree() {
        return new TreeBackupConfig(TreeValueMode.CHILD_MEAN, TreeAdvantageMode.DIFF, DEFAULT_STD_EPS);
    }

    public TreeBackupConfig withValueMode(TreeValueMode mode) {
        return new TreeBackupConfig(mode, advantageMode, stdEps);
    }

    public TreeBackupConfig withAdvantageMode(TreeAdvantageMode mode) {
        return new TreeBackupConfig(valueMode, mode, stdEps);
    }

    public TreeBackupConfig withStdEps(float eps) {
        return new TreeBackupConfig(valueMode, advantageMode, eps);
    }
}
