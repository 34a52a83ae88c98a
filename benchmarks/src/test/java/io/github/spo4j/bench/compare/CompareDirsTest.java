package io.github.spo4j.bench.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.spo4j.report.EvalPoint;
import io.github.spo4j.report.MetricsFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CompareDirsTest {
    @Test
    void readsEachCompareUnderItsLabelInOrderAndRefusesBadOrRepeatedLabels(@TempDir Path dir) throws Exception {
        for (String name : List.of("a", "b")) {
            Files.createDirectories(dir.resolve(name));
            MetricsFiles.writeJsonl(
                    dir.resolve(name).resolve("metrics.jsonl"),
                    List.of(new EvalPoint("grpo", 0, 0, 0, 0, name.equals("a") ? 0.1 : 0.2, Double.NaN, 0, 0, 0)));
        }
        String a = "=" + dir.resolve("a"), b = "=" + dir.resolve("b");
        Map<Integer, List<EvalPoint>> read = CompareDirs.read(List.of("8" + b, "4" + a), Integer::parseInt, "D=DIR");
        assertEquals(List.of(8, 4), List.copyOf(read.keySet()), "the arguments' order");
        assertEquals(0.1, read.get(4).get(0).greedyAccuracy(), 0);
        assertEquals(
                "expected D=DIR, got " + dir.resolve("a"),
                assertThrows(
                                IllegalArgumentException.class,
                                () -> CompareDirs.read(List.of(dir.resolve("a").toString()), s -> s, "D=DIR"))
                        .getMessage());
        assertThrows(IllegalArgumentException.class, () -> CompareDirs.read(List.of("x="), s -> s, "LABEL=DIR"));
        assertEquals(
                "s0 is given twice",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> CompareDirs.read(List.of("s0" + a, "s0" + b), s -> s, "LABEL=DIR"))
                        .getMessage());
        assertEquals(
                List.of(dir.resolve("a"), dir.resolve("b")),
                CompareDirs.dirs(List.of("8" + a + "," + dir.resolve("b")), Integer::parseInt, "D=DIR")
                        .get(8));
        assertThrows(
                IllegalArgumentException.class,
                () -> CompareDirs.dirs(List.of("8" + a + ","), Integer::parseInt, "D=DIR"),
                "an empty directory in the list");
        assertEquals(
                "expected LABEL=DIR with one directory, got 2 for s0",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> CompareDirs.read(List.of("s0" + a + "," + dir.resolve("b")), s -> s, "LABEL=DIR"))
                        .getMessage());
        assertThrows(
                NumberFormatException.class, () -> CompareDirs.read(List.of("four" + a), Integer::parseInt, "D=DIR"));
    }
}
