package io.github.spo4j.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The {@code spo4j} command line. Subcommands:
 * <ul>
 *   <li>{@code compare}: GRPO, GRPO+mask, SPO-chain and SPO-tree from one SFT base under one token budget ({@link CompareCommand});</li>
 *   <li>{@code sft}, {@code train}, {@code eval}: the warm start, one RL run, test accuracy;</li>
 *   <li>{@code credit}: each algorithm's advantages scored against a Monte-Carlo reference ({@link CreditCommand}).</li>
 * </ul>
 * The kernels' side-by-side timing is a runnable of the benchmarks module ({@code io.github.spo4j.bench.QuickBench}).
 *
 * <pre>
 *   java -jar target/spo4j.jar compare          # the main job (about 7 minutes on 2 cores once built)
 *   java -jar target/spo4j.jar compare --help
 * </pre>
 */
@Command(
        name = "spo4j",
        mixinStandardHelpOptions = true,
        version = "spo4j 0.1.0-SNAPSHOT",
        description = "Segment Policy Optimization for the JVM: fused C++/CUDA RL kernels, policies on libtorch.",
        subcommands = {
            CompareCommand.class,
            SftCommand.class,
            TrainCommand.class,
            EvalCommand.class,
            CreditCommand.class,
            CommandLine.HelpCommand.class
        })
public final class Spo4jCli implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    /** Without a subcommand: print the usage and fail (exit status 2, picocli's usage-error code). */
    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return 2;
    }

    /**
     * JavaCPP reads the process's resident memory at every native allocation it registers (each libtorch tensor
     * handle), to call {@link System#gc()} when it grows past a limit: about 1.5 µs of the 3 µs a small libtorch
     * op costs from Java, and a quarter of a decode step of the built-in model. spo4j frees its native memory by
     * scope, not by garbage collection, so the command line turns that check off unless
     * {@code -Dorg.bytedeco.javacpp.maxPhysicalBytes} is given. This must run before the first JavaCPP class loads.
     */
    static final String MAX_PHYSICAL_BYTES = "org.bytedeco.javacpp.maxPhysicalBytes";

    public static void main(String[] args) {
        turnOffPhysicalMemoryCheck();
        System.exit(new CommandLine(new Spo4jCli()).execute(args));
    }

    /** Sets {@value #MAX_PHYSICAL_BYTES} to 0 unless it is given. */
    static void turnOffPhysicalMemoryCheck() {
        if (System.getProperty(MAX_PHYSICAL_BYTES) == null) System.setProperty(MAX_PHYSICAL_BYTES, "0");
    }
}
