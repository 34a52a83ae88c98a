/**
 * The tree backup op ({@code tree_backup}): values and advantages of every node of a flat forest of sampling
 * trees in one call. The math is on {@link io.github.spo4j.kernels.tree.TreeBackupReference};
 * {@link io.github.spo4j.kernels.tree.TreeBackup} runs it on a {@link io.github.spo4j.kernels.Backend}.
 */
package io.github.spo4j.kernels.tree;
