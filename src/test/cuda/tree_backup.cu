// tree_backup check: the CUDA tree backup against the CPU kernel, bit for bit, through the C API.
//
//   spo4j_check_tree_backup [--cpu-only] [--no-timing] [results.csv]
//
// The reference is the library's CPU path (SPO4J_DEVICE_CPU), which the Java tests check bit for bit against
// the pure Java reference (TreeBackupKernelTest, TreeBackupGoldenTest). The README promises that CPU, CUDA
// and Java give the same bits, so every output is compared with memcmp: on mixed random forests (single
// nodes, random branching and depth with early leaves, full 6-6-6 trees, random recursive trees, trees past
// the CUDA shared-memory batch and one of 140 K nodes), in every value and advantage mode, with and without
// weights, all outputs or value and root value only. Also: repeat runs on a second stream, the empty forest,
// 17 broken-forest mutations (same status and message as the CPU, every output untouched) and CUDA-event
// timings up to about 1 M nodes. See check_common.h (harness, exit codes).
#include "check_common.h"

using namespace check;

namespace {

// ---- inputs --------------------------------------------------------------------------------------

// A forest in the layout of spo4j_tree_backup, with weights (passed or not).
struct ForestData {
    std::vector<int32_t> offs{0}, parent;
    std::vector<float> reward, weight;
    int64_t n() const { return static_cast<int64_t>(parent.size()); }
    int32_t t() const { return static_cast<int32_t>(offs.size() - 1); }
    int32_t size(int32_t k) const { return offs[k + 1] - offs[k]; }
};

enum TreeShape { TREE_SINGLE, TREE_RANDOM, TREE_FULL, TREE_RECURSIVE };

// Appends one tree. TREE_RANDOM: a depth limit drawn from 0..`depth`, 1..`branch` children per inner node, a
// quarter of the non-root nodes stop early as leaves; TREE_FULL: `branch` children per inner node down to
// `depth`; both laid out depth-first (preorder) or breadth-first. TREE_RECURSIVE: `size` nodes, each the child
// of a uniformly chosen earlier node (deep and wide at once). Some leaf rewards are exactly 0 or 1 so that
// siblings tie (zero advantages, zero sibling std); half the inner nodes get a NaN reward, which must not be read.
void add_tree(ForestData& f, TreeShape shape, int branch, int depth, int size, bool bfs, Rng& rng) {
    std::uniform_real_distribution<double> u(0, 1);
    std::vector<int32_t> par{-1};  // tree-local parents
    if (shape == TREE_RECURSIVE) {
        for (int i = 1; i < size; ++i) par.push_back(std::uniform_int_distribution<int32_t>(0, i - 1)(rng));
    } else if (shape != TREE_SINGLE) {
        const int max_depth = shape == TREE_FULL ? depth : std::uniform_int_distribution<int>(0, depth)(rng);
        auto children = [&](int d) {
            if (d >= max_depth || (shape == TREE_RANDOM && d > 0 && u(rng) < 0.25)) return 0;
            return shape == TREE_FULL ? branch : std::uniform_int_distribution<int>(1, branch)(rng);
        };
        if (bfs) {
            std::vector<std::pair<int32_t, int>> queue{{0, 0}};
            for (size_t h = 0; h < queue.size(); ++h) {
                const auto [node, d] = queue[h];
                for (int c = children(d); c > 0; --c) {
                    queue.push_back({static_cast<int32_t>(par.size()), d + 1});
                    par.push_back(node);
                }
            }
        } else {
            std::function<void(int32_t, int)> grow = [&](int32_t node, int d) {
                for (int c = children(d); c > 0; --c) {
                    const int32_t child = static_cast<int32_t>(par.size());
                    par.push_back(node);
                    grow(child, d + 1);
                }
            };
            grow(0, 0);
        }
    }
    const int32_t base = static_cast<int32_t>(f.parent.size());
    std::vector<int32_t> kids(par.size(), 0);
    for (size_t i = 1; i < par.size(); ++i) ++kids[par[i]];
    std::normal_distribution<float> g(0.3f, 1.0f);
    for (size_t i = 0; i < par.size(); ++i) {
        f.parent.push_back(par[i] < 0 ? -1 : par[i] + base);
        const double x = u(rng);
        float r = x < 0.1 ? 1.0f : x < 0.2 ? 0.0f : g(rng);
        if (kids[i] > 0 && u(rng) < 0.5) r = NAN;
        f.reward.push_back(r);
        f.weight.push_back(static_cast<float>(0.1 + 2.9 * u(rng)));
    }
    f.offs.push_back(static_cast<int32_t>(f.parent.size()));
}

// `trees` trees of mixed shapes (single nodes, random branching 1..8 and depth 0..6 with early leaves, full
// 6-6-6, small random recursive trees) with, at random places, `medium` trees over the CUDA batch size
// (2-5 K nodes: one tree per block in opt-in shared memory) and `huge` ones over any shared memory (6-20 K
// nodes: one thread on global scratch).
ForestData make_forest(int trees, int medium, int huge, Rng& rng) {
    ForestData f;
    std::uniform_real_distribution<double> u(0, 1);
    std::uniform_int_distribution<int> pick(0, std::max(trees - 1, 0));
    std::vector<int> kind(trees, 0);
    for (int i = 0; i < medium; ++i) kind[pick(rng)] = 1;
    for (int i = 0; i < huge; ++i) kind[pick(rng)] = 2;
    for (int k = 0; k < trees; ++k) {
        const bool bfs = u(rng) < 0.5;
        const double x = u(rng);
        if (kind[k] == 1)
            add_tree(f, TREE_RECURSIVE, 0, 0, 2000 + static_cast<int>(rng() % 3001), bfs, rng);
        else if (kind[k] == 2)
            add_tree(f, TREE_RECURSIVE, 0, 0, 6000 + static_cast<int>(rng() % 14001), bfs, rng);
        else if (x < 0.15)
            add_tree(f, TREE_SINGLE, 0, 0, 1, bfs, rng);
        else if (x < 0.25)
            add_tree(f, TREE_FULL, 6, 3, 0, bfs, rng);
        else if (x < 0.30)
            add_tree(f, TREE_RECURSIVE, 0, 0, std::uniform_int_distribution<int>(2, 300)(rng), bfs, rng);
        else
            add_tree(f, TREE_RANDOM, 8, 6, 0, bfs, rng);
    }
    return f;
}

ForestData full_forest(int trees, int branch, int depth, Rng& rng) {
    ForestData f;
    for (int k = 0; k < trees; ++k) add_tree(f, TREE_FULL, branch, depth, 0, k % 2 == 1, rng);
    return f;
}

struct TreeConfig {
    int value_mode, adv_mode;
    float std_eps;
    bool weighted, all_outputs;  // all_outputs false: value and rootValue only
};

std::string tree_config_name(const TreeConfig& c) {
    static const char* const kValue[] = {"child-mean", "leaf-mean"};
    static const char* const kAdv[] = {"diff", "diff/std", "loo"};
    char s[96];
    std::snprintf(s, sizeof s, "%s %s eps=%g%s%s", kValue[c.value_mode], kAdv[c.adv_mode], c.std_eps,
                  c.weighted ? " weighted" : "", c.all_outputs ? "" : " value+root only");
    return s;
}

std::vector<TreeConfig> tree_configs() {
    std::vector<TreeConfig> v;
    for (int vm : {SPO4J_TREE_VALUE_CHILD_MEAN, SPO4J_TREE_VALUE_LEAF_MEAN})
        for (int am : {SPO4J_TREE_ADV_DIFF, SPO4J_TREE_ADV_DIFF_OVER_STD, SPO4J_TREE_ADV_LEAVE_ONE_OUT})
            for (bool w : {false, true}) v.push_back(TreeConfig{vm, am, 1e-8f, w, true});
    return v;
}

struct TreeRun {
    Status status;
    std::vector<float> value, adv, root;
    std::vector<int32_t> child_count, depth, nonzero;
};

// Outputs start as sentinels (-7), so what a call writes, or leaves alone, shows.
TreeRun tree_sentinels(const ForestData& f) {
    TreeRun r;
    r.value.assign(f.n(), -7.0f);
    r.adv.assign(f.n(), -7.0f);
    r.child_count.assign(f.n(), -7);
    r.depth.assign(f.n(), -7);
    r.root.assign(f.t(), -7.0f);
    r.nonzero.assign(f.t(), -7);
    return r;
}

// ---- CPU reference -------------------------------------------------------------------------------

int call_tree_cpu(ForestData& f, const TreeConfig& c, TreeRun& r) {
    const bool all = c.all_outputs;
    return spo4j_tree_backup(SPO4J_DEVICE_CPU, f.n(), f.t(), f.offs.data(), f.parent.data(), f.reward.data(),
                             c.weighted ? f.weight.data() : nullptr, c.value_mode, c.adv_mode, c.std_eps,
                             r.value.data(), all ? r.adv.data() : nullptr, all ? r.child_count.data() : nullptr,
                             all ? r.depth.data() : nullptr, r.root.data(), all ? r.nonzero.data() : nullptr, nullptr);
}

TreeRun run_tree_cpu(ForestData& f, const TreeConfig& c) {
    TreeRun r = tree_sentinels(f);
    r.status = capture(call_tree_cpu(f, c, r));
    return r;
}

// ---- kernel launch -------------------------------------------------------------------------------

struct TreeDevice {
    DeviceBuffer<int32_t> offs, parent, child_count, depth, nonzero;
    DeviceBuffer<float> reward, weight, value, adv, root;
    explicit TreeDevice(const ForestData& f) {
        offs.upload(f.offs);
        parent.upload(f.parent);
        reward.upload(f.reward);
        weight.upload(f.weight);
        value.resize(f.n());
        adv.resize(f.n());
        child_count.resize(f.n());
        depth.resize(f.n());
        root.resize(f.t());
        nonzero.resize(f.t());
    }
    // Sentinels in every output, so that a rejected call can be seen to leave them alone.
    void reset(const ForestData& f) {
        const TreeRun s = tree_sentinels(f);
        value.upload(s.value);
        adv.upload(s.adv);
        child_count.upload(s.child_count);
        depth.upload(s.depth);
        root.upload(s.root);
        nonzero.upload(s.nonzero);
    }
};

int call_tree_device(const ForestData& f, TreeDevice& d, const TreeConfig& c, void* stream) {
    const bool all = c.all_outputs;
    return spo4j_tree_backup(device(), f.n(), f.t(), d.offs.get(), d.parent.get(), d.reward.get(),
                             c.weighted ? d.weight.get() : nullptr, c.value_mode, c.adv_mode, c.std_eps, d.value.get(),
                             all ? d.adv.get() : nullptr, all ? d.child_count.get() : nullptr,
                             all ? d.depth.get() : nullptr, d.root.get(), all ? d.nonzero.get() : nullptr, stream);
}

TreeRun run_tree_device(const ForestData& f, TreeDevice& d, const TreeConfig& c, void* stream = nullptr) {
    d.reset(f);
    TreeRun r;
    r.status = capture(call_tree_device(f, d, c, stream));
    r.value = d.value.download();
    r.adv = d.adv.download();
    r.child_count = d.child_count.download();
    r.depth = d.depth.download();
    r.root = d.root.download();
    r.nonzero = d.nonzero.download();
    return r;
}

// ---- validation ----------------------------------------------------------------------------------

// All six outputs, bit for bit (sentinels included where an output was not asked for).
void expect_same_tree_run(const std::string& what, const TreeRun& a, const TreeRun& b, const char* left,
                          const char* right) {
    expect_bits(what + " value", a.value, b.value, left, right);
    expect_bits(what + " advantage", a.adv, b.adv, left, right);
    expect_bits(what + " childCount", a.child_count, b.child_count, left, right);
    expect_bits(what + " depth", a.depth, b.depth, left, right);
    expect_bits(what + " rootValue", a.root, b.root, left, right);
    expect_bits(what + " nonzeroAdvantages", a.nonzero, b.nonzero, left, right);
}

// CPU and device give the same bits; a second device run, on a non-default stream, gives them again.
void check_tree_case(ForestData& f, TreeDevice& dev, const TreeConfig& c, const std::string& label) {
    const int before = g_failures;
    const TreeRun cpu = run_tree_cpu(f, c);
    const TreeRun gpu = run_tree_device(f, dev, c);
    if (!expect_ok(label, cpu.status, gpu.status)) return;
    expect_same_tree_run(label, cpu, gpu, "cpu", device_name());
    Stream s;
    const TreeRun again = run_tree_device(f, dev, c, s.get());
    if (expect_ok(label + " (repeat run)", cpu.status, again.status))
        expect_same_tree_run(label + " (repeat run)", gpu, again, "run 1", "run 2");
    report_case(label, before);
}

void check_tree_backup(Rng& rng) {
    std::printf("tree backup (bit for bit)\n");
    {
        ForestData f = make_forest(3000, 6, 3, rng);
        TreeDevice dev(f);
        char shape[96];
        std::snprintf(shape, sizeof shape, "mixed N=%" PRId64 " T=%d", f.n(), f.t());
        for (const TreeConfig& c : tree_configs())
            check_tree_case(f, dev, c, std::string(shape) + " " + tree_config_name(c));
        for (TreeConfig c : {TreeConfig{SPO4J_TREE_VALUE_CHILD_MEAN, SPO4J_TREE_ADV_DIFF_OVER_STD, 0.0f, true, false},
                             TreeConfig{SPO4J_TREE_VALUE_LEAF_MEAN, SPO4J_TREE_ADV_LEAVE_ONE_OUT, 0.0f, false, false},
                             TreeConfig{SPO4J_TREE_VALUE_LEAF_MEAN, SPO4J_TREE_ADV_DIFF_OVER_STD, 0.0f, false, true}})
            check_tree_case(f, dev, c, std::string(shape) + " " + tree_config_name(c));
    }
    {
        // Odd small forests: 1, 99 and 111 trees of a few nodes each (sizes 1 to 9).
        for (int trees : {1, 99, 111}) {
            ForestData f;
            for (int k = 0; k < trees; ++k) add_tree(f, TREE_RANDOM, 3, 2, 0, k % 2 == 0, rng);
            TreeDevice dev(f);
            for (const TreeConfig& c : {tree_configs()[1], tree_configs()[5], tree_configs()[9]})
                check_tree_case(
                    f, dev, c,
                    "small x" + std::to_string(trees) + " N=" + std::to_string(f.n()) + " " + tree_config_name(c));
        }
    }
    for (int trees : {1, 64, 4096}) {
        ForestData f = full_forest(trees, 6, 3, rng);
        TreeDevice dev(f);
        for (const TreeConfig& c : {tree_configs()[0], tree_configs()[3], tree_configs()[10]})
            check_tree_case(f, dev, c, "6-6-6 x" + std::to_string(trees) + " " + tree_config_name(c));
    }
    {
        ForestData f;
        for (int k = 0; k < 20000; ++k) add_tree(f, TREE_SINGLE, 0, 0, 1, false, rng);
        TreeDevice dev(f);
        check_tree_case(f, dev, tree_configs()[3], "20000 single nodes " + tree_config_name(tree_configs()[3]));
    }
    {
        // One tree over 131072 nodes between small ones: its tile's has-child bits live in global memory.
        ForestData f = make_forest(50, 0, 0, rng);
        add_tree(f, TREE_RECURSIVE, 0, 0, 140000, false, rng);
        for (int k = 0; k < 50; ++k) add_tree(f, TREE_RANDOM, 8, 6, 0, k % 2 == 0, rng);
        TreeDevice dev(f);
        for (const TreeConfig& c : {tree_configs()[2], tree_configs()[9]})
            check_tree_case(f, dev, c, "giant tree N=" + std::to_string(f.n()) + " " + tree_config_name(c));
    }
    {
        // No trees: OK on both sides, nothing touched (and no pointer needed).
        std::vector<int32_t> offs{0};
        const Status s1 =
            capture(spo4j_tree_backup(SPO4J_DEVICE_CPU, 0, 0, offs.data(), nullptr, nullptr, nullptr, 0, 0, 0.0f,
                                      nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr));
        const Status s2 = capture(spo4j_tree_backup(device(), 0, 0, nullptr, nullptr, nullptr, nullptr, 0, 0, 0.0f,
                                                    nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr));
        if (expect_ok("empty forest", s1, s2)) std::printf("  ok  empty forest\n");
    }
}

// The first tree from k on with at least `min_size` nodes.
int32_t tree_with(const ForestData& f, int32_t k, int32_t min_size) {
    while (f.size(k) < min_size) ++k;
    return k;
}

// A leaf of tree k (its last node is one).
int32_t leaf_of(const ForestData& f, int32_t k) { return f.offs[k + 1] - 1; }

void check_tree_errors(Rng& rng) {
    std::printf("tree backup error paths\n");
    ForestData good = make_forest(600, 2, 1, rng);
    const int32_t giant = good.t();
    add_tree(good, TREE_RECURSIVE, 0, 0, 140000, true, rng);  // a giant tree: global has-child bits
    for (int k = 0; k < 20; ++k) add_tree(good, TREE_RANDOM, 8, 6, 0, false, rng);
    add_tree(good, TREE_FULL, 6, 3, 0, false, rng);  // the last tree has more than one node
    const int32_t t = good.t();
    struct Bad {
        const char* name;
        std::function<void(ForestData&)> mutate;
    };
    const std::vector<Bad> bad = {
        {"treeOffsets[0] != 0", [](ForestData& f) { f.offs[0] = 1; }},
        {"treeOffsets not increasing",
         [&](ForestData& f) {
             f.offs[t / 3] = f.offs[t / 3 - 1];
             f.offs[2 * t / 3] = -5;
         }},
        {"treeOffsets[T] < N", [&](ForestData& f) { f.offs[t] -= 1; }},
        {"treeOffsets[T] > N", [&](ForestData& f) { f.offs[t] += 3; }},
        {"root with a parent",
         [&](ForestData& f) {
             f.parent[f.offs[t / 2]] = 0;
             f.parent[f.offs[t - 3]] = 999999;
         }},
        {"second root", [&](ForestData& f) { f.parent[f.offs[tree_with(f, t / 2, 3)] + 2] = -1; }},
        {"later parent", [&](ForestData& f) { f.parent[f.offs[tree_with(f, t / 4, 3)] + 1] += 2; }},
        {"own parent", [&](ForestData& f) { f.parent[f.offs[tree_with(f, t / 4, 3)] + 1] += 1; }},
        {"parent in the previous tree",
         [&](ForestData& f) {
             const int32_t b = f.offs[tree_with(f, t / 5, 3)];
             f.parent[b + 2] = b - 1;
         }},
        {"parent -2", [&](ForestData& f) { f.parent[f.offs[tree_with(f, t / 5, 3)] + 2] = -2; }},
        {"parent past the end", [&](ForestData& f) { f.parent[f.n() - 1] = static_cast<int32_t>(f.n()); }},
        {"zero, NaN and infinite weights",
         [&](ForestData& f) {
             f.weight[f.offs[t / 2] + 0] = 0.0f;
             f.weight[f.offs[t / 3]] = NAN;
             f.weight[f.n() - 1] = INFINITY;
         }},
        {"bad weight before a structural fault",
         [&](ForestData& f) {
             f.weight[5] = -1.0f;
             f.parent[f.offs[tree_with(f, t / 2, 2)] + 1] = 12345678;
         }},
        {"structural fault after a bad reward in its tree",
         [&](ForestData& f) {
             const int32_t k = tree_with(f, t / 2, 5), e = f.offs[k + 1];
             f.reward[e - 1] = NAN;    // a leaf ...
             f.parent[e - 2] = e - 1;  // ... but the structure fault of the node before is reported
         }},
        {"infinite leaf reward", [&](ForestData& f) { f.reward[leaf_of(f, tree_with(f, t / 3, 2))] = -INFINITY; }},
        {"NaN leaf reward in the giant tree", [&](ForestData& f) { f.reward[leaf_of(f, giant)] = NAN; }},
        {"NaN reward of a single-node tree",
         [&](ForestData& f) {
             int32_t k = t / 2;
             while (k + 1 < t && f.size(k) != 1) ++k;
             f.reward[f.offs[k]] = NAN;
         }},
    };
    for (const Bad& b : bad) {
        ForestData f = good;
        b.mutate(f);
        const TreeConfig c{SPO4J_TREE_VALUE_CHILD_MEAN, SPO4J_TREE_ADV_DIFF_OVER_STD, 1e-8f, true, true};
        const TreeRun cpu = run_tree_cpu(f, c);
        TreeDevice dev(f);
        const TreeRun gpu = run_tree_device(f, dev, c);
        expect_same_error(std::string("tree: ") + b.name, cpu.status, gpu.status);
        const TreeRun untouched = tree_sentinels(f);
        expect_same_tree_run(std::string("tree: ") + b.name + ": cpu output written on a rejected call:", untouched,
                             cpu, "before", "after");
        expect_same_tree_run(std::string("tree: ") + b.name + ": output written on a rejected call:", untouched, gpu,
                             "before", "after");
    }
}

// ---- timing --------------------------------------------------------------------------------------

void run_tree_timings(Rng& rng) {
    const bool small = g_mode.cpu_only;  // --cpu-only: small shapes, to run the timing code, not to measure
    std::printf(
        "tree backup timings (medians; the device time is the whole call: checks, backup, "
        "synchronisation)%s\n",
        small ? ", small shapes" : "");
    copy_bandwidth_gbs(small ? size_t{1} << 24 : size_t{1} << 30);
    struct Case {
        std::string name;
        ForestData f;
        TreeConfig c;
    };
    const TreeConfig spo{SPO4J_TREE_VALUE_CHILD_MEAN, SPO4J_TREE_ADV_DIFF, 1e-8f, false, true};
    const TreeConfig heavy{SPO4J_TREE_VALUE_LEAF_MEAN, SPO4J_TREE_ADV_DIFF_OVER_STD, 1e-8f, true, true};
    std::vector<Case> cases;
    for (int trees : small ? std::vector<int>{1, 64} : std::vector<int>{1, 64, 4096})
        cases.push_back({"6-6-6 x" + std::to_string(trees), full_forest(trees, 6, 3, rng), spo});
    if (!small) {
        cases.push_back({"6-6-6 x3862", full_forest(3862, 6, 3, rng), spo});  // 1,000,258 nodes
        cases.push_back({"6-6-6 x3862", full_forest(3862, 6, 3, rng), heavy});
    }
    {
        // SPO-like trees that stop early: depth limit 0..3, 1..6 children, up to 259 nodes.
        ForestData f;
        while (f.n() < (small ? 20000 : 1000000)) add_tree(f, TREE_RANDOM, 6, 3, 0, f.t() % 2 == 0, rng);
        cases.push_back({"random(b<=6 d<=3)", std::move(f), spo});
    }
    for (Case& k : cases) {
        ForestData& f = k.f;
        TreeDevice dev(f);
        TreeRun out = tree_sentinels(f);
        int status = SPO4J_OK;
        const int cpu_reps = small ? 1 : f.n() > 100000 ? 5 : 20;
        const double cpu = time_host_ms([&] { status |= call_tree_cpu(f, k.c, out); }, cpu_reps);
        const double gpu = time_device_ms([&] { status |= call_tree_device(f, dev, k.c, nullptr); }, small ? 1 : 20);
        if (status != SPO4J_OK) fail_check("tree timing " + k.name + ": " + spo4j_last_error());
        char shape[128];
        std::snprintf(shape, sizeof shape, "%s N=%" PRId64 " %s", k.name.c_str(), f.n(), tree_config_name(k.c).c_str());
        // compulsory traffic per node: parent and reward (and weight) read; value, and with all outputs the
        // advantage, child count and depth, written
        const double per_node = 8.0 + (k.c.weighted ? 4.0 : 0.0) + (k.c.all_outputs ? 16.0 : 4.0);
        print_timing("tree_backup", shape, cpu, gpu, per_node * static_cast<double>(f.n()), f.n(), "node");
    }
}

}  // namespace

// ---- main ----------------------------------------------------------------------------------------

int main(int argc, char** argv) {
    return run_main(
        argc, argv, "spo4j_check_tree_backup",
        [](Rng& rng) {
            check_tree_backup(rng);
            check_tree_errors(rng);
        },
        run_tree_timings);
}
