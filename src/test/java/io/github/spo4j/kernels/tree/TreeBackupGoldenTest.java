package io.github.spo4j.kernels.tree;

import static io.github.spo4j.testutil.Close.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.spo4j.kernels.Backend;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Golden trees (src/test/resources/tree_backup/golden.json, written by make_golden.py in exact rational
 * arithmetic): the SPO paper's figure, 6-6-6 trees in depth- and breadth-first order, early leaves at every
 * depth, single-node trees, and a weighted forest of mixed depths, in every value and advantage mode.
 */
class TreeBackupGoldenTest {
    private static final JsonObject GOLDEN = load();

    private static JsonObject load() {
        try (Reader r = new InputStreamReader(
                TreeBackupGoldenTest.class.getResourceAsStream("/tree_backup/golden.json"), StandardCharsets.UTF_8)) {
            return JsonParser.parseReader(r).getAsJsonObject();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (JsonElement c : GOLDEN.getAsJsonArray("cases")) {
            for (String mode : c.getAsJsonObject().getAsJsonObject("expected").keySet()) {
                for (Backend backend : new Backend[] {Backend.REFERENCE, Backend.CPU}) {
                    out.add(Arguments.of(c.getAsJsonObject().get("name").getAsString(), mode, backend));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("cases")
    void matchesExactArithmetic(String name, String mode, Backend backend) {
        JsonObject c = find(name);
        Forest forest = forestOf(c);
        String[] modes = mode.split("/");
        TreeBackupConfig config = new TreeBackupConfig(
                TreeValueMode.valueOf(modes[0]),
                TreeAdvantageMode.valueOf(modes[1]),
                GOLDEN.get("stdEps").getAsFloat());
        JsonObject e = c.getAsJsonObject("expected").getAsJsonObject(mode);
        TreeBackupResult r = TreeBackup.create(backend).backup(config, forest);
        String what = name + " " + mode + " " + backend;
        assertAllClose(what + " value", floats(e.getAsJsonArray("value")), r.value(), 1e-6, 1e-6);
        assertAllClose(what + " advantage", floats(e.getAsJsonArray("advantage")), r.advantage(), 1e-6, 1e-6);
        assertAllClose(what + " rootValue", floats(e.getAsJsonArray("rootValue")), r.rootValue(), 1e-6, 1e-6);
        assertArrayEquals(ints(e.getAsJsonArray("childCount")), r.childCount(), what + " childCount");
        assertArrayEquals(ints(e.getAsJsonArray("depth")), r.depth(), what + " depth");
        assertArrayEquals(
                ints(e.getAsJsonArray("nonzeroAdvantages")), r.nonzeroAdvantages(), what + " nonzeroAdvantages");
    }

    @ParameterizedTest
    @EnumSource(
            value = Backend.class,
            names = {"REFERENCE", "CPU"})
    void paperFigureParentIsTheMeanOfItsChildrensValues(Backend backend) {
        // SPO_SPEC §3: children valued 1, 2/3 and 0 give V(Pa) = (1 + 2/3 + 0)/3, not the mean of the 5 leaves.
        TreeBackupResult r =
                TreeBackup.create(backend).backup(TreeBackupConfig.spoTree(), forestOf(find("spo_paper_figure")));
        assertEquals((float) (2.0 / 3), r.value()[2]);
        assertEquals((float) ((1 + 2.0 / 3 + 0) / 3), r.value()[0]);
        TreeBackupResult leafMean = TreeBackup.create(backend)
                .backup(
                        TreeBackupConfig.spoTree().withValueMode(TreeValueMode.LEAF_MEAN),
                        forestOf(find("spo_paper_figure")));
        assertEquals(0.6f, leafMean.value()[0]); // 3 of 5 leaves
    }

    static Forest forestOf(JsonObject c) {
        float[] reward = floats(c.getAsJsonArray("leafReward"));
        float[] weight = c.has("weight") ? floats(c.getAsJsonArray("weight")) : null;
        return Forest.of(ints(c.getAsJsonArray("treeOffsets")), ints(c.getAsJsonArray("parent")), reward, weight);
    }

    private static JsonObject find(String name) {
        for (JsonElement c : GOLDEN.getAsJsonArray("cases")) {
            if (c.getAsJsonObject().get("name").getAsString().equals(name)) return c.getAsJsonObject();
        }
        throw new IllegalArgumentException(name);
    }

    private static float[] floats(JsonArray a) {
        float[] out = new float[a.size()];
        for (int i = 0; i < out.length; i++)
            out[i] = a.get(i).isJsonNull() ? Float.NaN : a.get(i).getAsFloat();
        return out;
    }

    private static int[] ints(JsonArray a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).getAsInt();
        return out;
    }
}
