#!/usr/bin/env python3
"""Writes golden.json: tree-backup cases with expected outputs computed in exact rational arithmetic.

This is an independent oracle for the Java reference and the native kernels: values and advantages are
Fractions (sqrt in DIFF_OVER_STD is taken in 60-digit decimals), with no knowledge of the float/double
order of operations the kernels use. Run it from this directory: python3 make_golden.py
"""
import json
from decimal import Decimal, getcontext
from fractions import Fraction as F

getcontext().prec = 60
VALUE_MODES = ["CHILD_MEAN", "LEAF_MEAN"]
ADV_MODES = ["DIFF", "DIFF_OVER_STD", "LEAVE_ONE_OUT"]
STD_EPS = Decimal("1e-8")


class Tree:
    """Nodes in preorder of construction: a parent before its children."""

    def __init__(self):
        self.parent, self.reward, self.weight = [], [], []

    def node(self, parent, reward=None, weight=1):
        self.parent.append(parent)
        self.reward.append(reward)
        self.weight.append(weight)
        return len(self.parent) - 1


def paper_figure():
    # SPO_SPEC §3 figure: V(Pa) = (1 + 2/3 + 0) / 3.
    t = Tree()
    pa = t.node(-1)
    t.node(pa, 1)
    mid = t.node(pa)
    for r in (1, 1, 0):
        t.node(mid, r)
    t.node(pa, 0)
    return [t]


def six_six_six():
    # A full 6-6-6 tree (259 nodes) in depth-first order; leaf rewards follow a fixed pattern.
    t = Tree()
    root = t.node(-1)
    leaf = 0
    for _ in range(6):
        a = t.node(root)
        for _ in range(6):
            b = t.node(a)
            for _ in range(6):
                t.node(b, 1 if (leaf * 7 + 3) % 5 < 2 else 0)
                leaf += 1
    return [t]


def six_six_six_breadth_first():
    # The same shape laid out level by level (children of a node contiguous, BFS order).
    t = Tree()
    root = t.node(-1)
    level1 = [t.node(root) for _ in range(6)]
    level2 = [t.node(a) for a in level1 for _ in range(6)]
    leaf = 0
    for b in level2:
        for _ in range(6):
            t.node(b, 1 if (leaf * 3 + 1) % 4 == 0 else 0)
            leaf += 1
    return [t]


def early_leaves():
    # Leaves at every depth, rewards outside {0, 1} (SPO's -2 for a repeated answer marker) and a
    # node whose children all agree (advantages exactly 0).
    t = Tree()
    r = t.node(-1)
    t.node(r, 1)                       # early leaf at depth 1
    a = t.node(r)
    t.node(a, 0)                       # early leaf at depth 2
    b = t.node(a)
    for rew in (1, 0, 0, -2):
        t.node(b, rew)                 # leaves at depth 3
    c = t.node(a)
    for rew in (1, 1, 1):
        t.node(c, rew)                 # all equal: advantages 0 below c
    d = t.node(r)
    e = t.node(d)                      # a chain: only children
    t.node(e, F(1, 2))
    return [t]


def single_nodes():
    # Trees that are one root each: the root is a leaf valued at its reward.
    trees = []
    for rew in (0, 1, -2, F(3, 4)):
        t = Tree()
        t.node(-1, rew)
        trees.append(t)
    return trees


def mixed_forest():
    # Trees of different depths in one forest, one of them weighted.
    trees = single_nodes()[:1] + paper_figure() + early_leaves()
    t = Tree()
    r = t.node(-1)
    x = t.node(r, weight=2)
    t.node(x, 1, weight=3)
    t.node(x, 0, weight=1)
    t.node(r, 0, weight=1)
    y = t.node(r, weight=F(1, 2))
    t.node(y, 1)
    t.node(y, 1, weight=4)
    z = t.node(y)
    t.node(z, 0)
    t.node(z, 1, weight=2)
    trees.append(t)
    return trees


def backup(tree, value_mode, adv_mode):
    n = len(tree.parent)
    children = [[] for _ in range(n)]
    for i in range(1, n):
        children[tree.parent[i]].append(i)
    w = [F(x) for x in tree.weight]
    value = [None] * n
    leaf_sum, leaf_w = [F(0)] * n, [F(0)] * n
    for i in reversed(range(n)):
        ch = children[i]
        if not ch:
            value[i] = F(tree.reward[i])
            leaf_sum[i], leaf_w[i] = w[i] * value[i], w[i]
        else:
            leaf_sum[i] = sum(leaf_sum[c] for c in ch)
            leaf_w[i] = sum(leaf_w[c] for c in ch)
            if value_mode == "CHILD_MEAN":
                value[i] = sum(w[c] * value[c] for c in ch) / sum(w[c] for c in ch)
            else:
                value[i] = leaf_sum[i] / leaf_w[i]
    depth = [0] * n
    for i in range(1, n):
        depth[i] = depth[tree.parent[i]] + 1
    adv = [Decimal(0)] * n
    for i in range(1, n):
        p = tree.parent[i]
        sib = children[p]
        if adv_mode == "DIFF":
            a = Decimal((value[i] - value[p]).numerator) / Decimal((value[i] - value[p]).denominator)
        elif adv_mode == "DIFF_OVER_STD":
            ws = sum(w[c] for c in sib)
            mu = sum(w[c] * value[c] for c in sib) / ws
            var = sum(w[c] * (value[c] - mu) ** 2 for c in sib) / ws
            std = (Decimal(var.numerator) / Decimal(var.denominator)).sqrt()
            diff = value[i] - value[p]
            denom = std + STD_EPS
            a = Decimal(diff.numerator) / Decimal(diff.denominator) / denom
        else:
            if len(sib) == 1:
                a = Decimal(0)
            else:
                others = [c for c in sib if c != i]
                m = sum(w[c] * value[c] for c in others) / sum(w[c] for c in others)
                d = value[i] - m
                a = Decimal(d.numerator) / Decimal(d.denominator)
        adv[i] = a
    return value, adv, [len(c) for c in children], depth


def case(name, trees):
    parent, reward, weight, offsets = [], [], [], [0]
    for t in trees:
        base = len(parent)
        n = len(t.parent)
        children = [0] * n
        for i in range(1, n):
            children[t.parent[i]] += 1
        parent += [-1 if p == -1 else p + base for p in t.parent]
        # Inner nodes have no reward (null, read as NaN): the backup must never read it.
        reward += [float(F(t.reward[i])) if children[i] == 0 else None for i in range(n)]
        weight += [float(F(x)) for x in t.weight]
        offsets.append(len(parent))
    out = {"name": name, "treeOffsets": offsets, "parent": parent, "leafReward": reward}
    if any(x != 1 for x in weight):
        out["weight"] = weight
    expected = {}
    for vm in VALUE_MODES:
        for am in ADV_MODES:
            values, advs, counts, depths, roots, nonzero = [], [], [], [], [], []
            for t in trees:
                v, a, c, d = backup(t, vm, am)
                values += [float(x) for x in v]
                advs += [float(x) for x in a]
                counts += c
                depths += d
                roots.append(float(v[0]))
                nonzero.append(sum(1 for x in a[1:] if x != 0))
            expected[vm + "/" + am] = {"value": values, "advantage": advs, "childCount": counts, "depth": depths,
                                       "rootValue": roots, "nonzeroAdvantages": nonzero}
    out["expected"] = expected
    return out


def main():
    cases = [case("spo_paper_figure", paper_figure()), case("six_six_six_depth_first", six_six_six()),
             case("six_six_six_breadth_first", six_six_six_breadth_first()), case("early_leaves", early_leaves()),
             case("single_node_trees", single_nodes()), case("mixed_depths_weighted_forest", mixed_forest())]
    with open("golden.json", "w") as f:
        json.dump({"stdEps": float(STD_EPS), "cases": cases}, f, indent=None, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
