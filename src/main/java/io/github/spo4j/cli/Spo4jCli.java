package io.github.spo4j.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The {@code spo4j} command line. Subcommands:
 * <ul>
 *   <li>{@code compare}: GRPO vs SPO-chain vs SPO-tree from one SFT base under one token budget ({@link CompareCommand});</li>
 *   <li>{@code sft}, {@code train}, {@code eval}: the warm start, one RL run, test accuracy;</li>
 *   <li>{@code credit}: each algorithm's advantages scored against a Monte-Carlo reference ({@link CreditCommand}).</li>
 * </ul>
 * The kernels' side-by-side timing is a runnable of the benchmarks module ({@code io.github.spo4j.bench.QuickBench}).
 *
 * <pre>
 *   java -jar target/spo4j.jar compare          # the main job (about 15 minutes on 2 cores)
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

    public static void main(String[] args) {
        System.exit(new CommandLine(new Spo4jCli()).execute(args));
    }
}
