package io.github.spo4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The quick side-by-side runs from the benchmarks module, checks each implementation, and rejects bad options. */
class QuickBenchTest {
    private record Run(int exitCode, String out, String err) {}

    private static Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = new CommandLine(new QuickBench())
                .setOut(new PrintWriter(out))
                .setErr(new PrintWriter(err))
                .execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    /** The tree backup is exact in every implementation: the native kernel's advantages equal the reference's. */
    @Test
    void treeBackupSideBySideMatchesTheReference() {
        Run r = run(
                "--kernel",
                "tree",
                "--backend",
                "reference,cpu,torch",
                "--repeats",
                "1",
                "--warmup",
                "0",
                "--threads",
                "1");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("tree_backup T=256 N=66304:"), r.out());
        assertTrue(
                Pattern.compile("tree_backup\\s+cpu\\s+T=256 N=66304\\s.*\\s0\\.00e\\+00\\s+0\\.00e\\+00\\n")
                        .matcher(r.out())
                        .find(),
                r.out());
        assertTrue(
                Pattern.compile("tree_backup\\s+torch\\s+T=256 N=66304\\s")
                        .matcher(r.out())
                        .find(),
                r.out());
    }

    @Test
    void unknownKernelIsAUsageError() {
        Run r = run("--kernel", "nope");
        assertEquals(2, r.exitCode());
        assertTrue(
                r.err()
                        .contains("unknown --kernel 'nope', expected one of [tokens, logits, tree, attention, "
                                + "sampler, rollout]"),
                r.err());
    }
}
