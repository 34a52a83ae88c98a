package io.github.spo4j.kernels.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.kernels.nativebind.Spo4jNative;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.lang.reflect.RecordComponent;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * {@link PolicyLossStats} has one component per entry of the header's statistics array, in the header's order
 * ({@code SPO4J_PL_*}), and reads each entry into the component of that name.
 */
class PolicyLossStatsLayoutTest {

    @Test
    void oneComponentPerHeaderIndexInTheHeadersOrder() throws Exception {
        RecordComponent[] components = PolicyLossStats.class.getRecordComponents();
        assertEquals(Spo4jNative.SPO4J_PL_NUM_STATS, components.length);
        assertEquals(Spo4jNative.SPO4J_PL_NUM_STATS, PolicyLossStats.NUM_STATS);
        Map<Integer, String> byIndex = statIndices();
        assertEquals(components.length, byIndex.size(), "one SPO4J_PL_* index per entry");
        byIndex.forEach((i, name) -> {
            // SPO4J_PL_CLIP_FRAC_LOW names clipFracLow; SPO4J_PL_KEPT names keptTokens.
            String stem = name.substring("SPO4J_PL_".length()).replace("_", "").toLowerCase();
            assertTrue(
                    components[i].getName().toLowerCase().startsWith(stem),
                    name + " = " + i + " but component " + i + " is " + components[i].getName());
        });
    }

    @Test
    void eachEntryLandsInItsOwnComponent() throws Exception {
        RecordComponent[] components = PolicyLossStats.class.getRecordComponents();
        for (int i = 0; i < PolicyLossStats.NUM_STATS; i++) {
            double[] s = new double[PolicyLossStats.NUM_STATS];
            s[i] = 1;
            PolicyLossStats stats = PolicyLossStats.fromArray(s);
            for (int k = 0; k < components.length; k++) {
                Object v = components[k].getAccessor().invoke(stats);
                boolean set = v instanceof Boolean b ? b : ((Number) v).doubleValue() != 0;
                assertEquals(k == i, set, "entry " + i + " in component " + components[k].getName());
            }
            assertArrayEquals(s, stats.toArray());
        }
    }

    private static Map<Integer, String> statIndices() throws IllegalAccessException {
        Map<Integer, String> byIndex = new TreeMap<>();
        for (Field f : Spo4jNative.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers())
                    && f.getName().startsWith("SPO4J_PL_")
                    && !f.getName().equals("SPO4J_PL_NUM_STATS")) {
                assertEquals(null, byIndex.put(f.getInt(null), f.getName()), "two names for one index");
            }
        }
        return byIndex;
    }
}
