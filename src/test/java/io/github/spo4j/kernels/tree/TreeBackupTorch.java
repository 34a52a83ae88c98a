package io.github.spo4j.kernels.tree;

import io.github.spo4j.kernels.engine.Checks;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The tree backup composed from plain libtorch ops, the way one writes it in PyTorch: depths by walking
 * parent pointers, then level by level from the deepest, {@code index_add_} of the children's weighted
 * values into their parents, and the advantages by gathers. It is the benchmarks' "what a user would pick
 * instead" baseline and a second oracle for the kernels. Sums run in float64 but in torch's order, so
 * results agree with the kernels to float rounding, not bit for bit. Works on CPU and CUDA tensors alike.
 *
 * <p>The structure is not checked: pass a valid forest (see {@link Forest#validate}).
 *
 * <p>A test fixture: it lives in the library's tests, not in its jar, and reaches the benchmarks through the
 * library's test jar.
 */
@SuppressWarnings("try") // PointerScope is opened for its effect: it frees what is created inside
public final class TreeBackupTorch {
    private TreeBackupTorch() {}

    /** Float32 [N] values and advantages, owned by the caller's scope. */
    public record Result(Tensor value, Tensor advantage) {}

    /**
     * @param parent     int32 or int64 [N], -1 for roots, a parent before its children
     * @param leafReward float32 [N]
     * @param weight     float32 [N], or null for equal weights
     */
    public static Result backup(TreeBackupConfig config, Tensor parent, Tensor leafReward, Tensor weight) {
        Checks.notNull(config, "config");
        Checks.notNull(parent, "parent");
        Checks.notNull(leafReward, "leafReward");
        long n = parent.numel();
        Checks.require(leafReward.numel() == n, "leafReward has " + leafReward.numel() + " elements, expected " + n);
        PointerScope outer = PointerScope.getInnerScope();
        Tensor value, advantage;
        try (PointerScope scope = new PointerScope()) {
            Tensor par = parent.reshape(-1).to(ScalarType.Long);
            Tensor reward = leafReward.reshape(-1).to(ScalarType.Double);
            Tensor w = weight == null
                    ? reward.new_ones(new long[] {n})
                    : weight.reshape(-1).to(ScalarType.Double);
            Tensor hasParent = par.ge(new Scalar(0L));
            Tensor parentOrSelf = torch.where(
                    hasParent,
                    par,
                    torch.arange(new Scalar(n), new TensorOptions(ScalarType.Long))
                            .to(par.device(), ScalarType.Long));

            // depth(i) = number of ancestors: follow parent pointers until every walk reached a root.
            Tensor depth = par.new_zeros(new long[] {n});
            Tensor walk = par.clone();
            while (n > 0 && walk.ge(new Scalar(0L)).any().item_bool()) {
                Tensor alive = walk.ge(new Scalar(0L));
                depth = depth.add(alive.to(ScalarType.Long));
                walk = torch.where(alive, par.index_select(0, walk.clamp_min(new Scalar(0L))), walk);
            }
            Tensor childCount = par.new_zeros(new long[] {n}).index_add(0, parentOrSelf, hasParent.to(ScalarType.Long));
            Tensor leaf = childCount.eq(new Scalar(0L));
            boolean leafMean = config.valueMode() == TreeValueMode.LEAF_MEAN;

            Tensor val = torch.where(leaf, reward, new Scalar(0.0));
            Tensor sum = reward.new_zeros(new long[] {n}), wsum = reward.new_zeros(new long[] {n});
            Tensor lsum = torch.where(leaf, w.mul(reward), new Scalar(0.0)), lw = torch.where(leaf, w, new Scalar(0.0));
            long maxDepth = n == 0 ? 0 : depth.max().item_long();
            for (long d = maxDepth; d >= 0; d--) {
                Tensor idx = depth.eq(new Scalar(d)).nonzero().squeeze(1);
                Tensor inner = leaf.index_select(0, idx).logical_not();
                Tensor mean = leafMean
                        ? lsum.index_select(0, idx).div(lw.index_select(0, idx))
                        : sum.index_select(0, idx).div(wsum.index_select(0, idx));
                // Inner nodes at this level are complete: their children are all deeper. Round to float
                // as the kernels do before the value is used further up.
                Tensor levelValue = torch.where(inner, mean, val.index_select(0, idx))
                        .to(ScalarType.Float)
                        .to(ScalarType.Double);
                val = val.index_copy(0, idx, levelValue);
                if (d == 0) break;
                Tensor p = par.index_select(0, idx);
                Tensor wl = w.index_select(0, idx);
                sum = sum.index_add(0, p, wl.mul(levelValue));
                wsum = wsum.index_add(0, p, wl);
                if (leafMean) {
                    lsum = lsum.index_add(0, p, lsum.index_select(0, idx));
                    lw = lw.index_add(0, p, lw.index_select(0, idx));
                }
            }

            Tensor vp = val.index_select(0, parentOrSelf);
            Tensor adv = switch (config.advantageMode()) {
                case DIFF -> val.sub(vp);
                case DIFF_OVER_STD -> {
                    Tensor mu = sum.div(wsum.clamp_min(new Scalar(Double.MIN_VALUE)));
                    Tensor dev = val.sub(mu.index_select(0, parentOrSelf));
                    Tensor sq = sum.new_zeros(new long[] {n})
                            .index_add(0, parentOrSelf, torch.where(hasParent, w.mul(dev.square()), new Scalar(0.0)));
                    Tensor std =
                            sq.div(wsum.clamp_min(new Scalar(Double.MIN_VALUE))).sqrt();
                    Tensor denom = std.index_select(0, parentOrSelf).add(new Scalar((double) config.stdEps()));
                    yield torch.where(
                            denom.eq(new Scalar(0.0)),
                            new Scalar(0.0),
                            val.sub(vp).div(denom));
                }
                case LEAVE_ONE_OUT -> {
                    Tensor others = sum.index_select(0, parentOrSelf)
                            .sub(w.mul(val))
                            .div(wsum.index_select(0, parentOrSelf).sub(w));
                    Tensor only = childCount.index_select(0, parentOrSelf).eq(new Scalar(1L));
                    yield torch.where(only, new Scalar(0.0), val.sub(others));
                }
            };
            value = val.to(ScalarType.Float);
            advantage = torch.where(hasParent, adv, new Scalar(0.0)).to(ScalarType.Float);
            value.retainReference();
            advantage.retainReference();
        }
        return new Result(handOver(value, outer), handOver(advantage, outer));
    }

    private static Tensor handOver(Tensor t, PointerScope outer) {
        if (outer != null) {
            outer.attach(t);
            t.releaseReference();
        }
        return t;
    }
}
