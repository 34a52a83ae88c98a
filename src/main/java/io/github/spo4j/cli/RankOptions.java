package io.github.spo4j.cli;

import io.github.spo4j.report.Progress;
import io.github.spo4j.train.distributed.Collective;
import io.github.spo4j.train.distributed.Launch;
import io.github.spo4j.train.distributed.LocalRanks;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/**
 * How {@code train} and {@code compare} run as ranks of a data-parallel run: {@code --nproc N} starts N local worker
 * JVMs of the same command and relays their output; a process started by torchrun, srun or a job with torchrun's
 * variables ({@code RANK}, {@code WORLD_SIZE}, {@code MASTER_ADDR}, {@code MASTER_PORT}) joins the run they name.
 */
final class RankOptions {
    @Option(
            names = "--nproc",
            defaultValue = "1",
            paramLabel = "N",
            description = "Data-parallel ranks to start on this machine, each a JVM with 1/N of the cores "
                    + "(default ${DEFAULT-VALUE}). Under torchrun or srun leave it out: the ranks come from RANK, "
                    + "WORLD_SIZE, MASTER_ADDR and MASTER_PORT.")
    int nproc;

    @Option(
            names = "--collective-timeout",
            defaultValue = "600",
            paramLabel = "SECONDS",
            description = "Longest wait of a rank for the others at one exchange before the run fails "
                    + "(default ${DEFAULT-VALUE}); a rank that exits is named within a second.")
    int collectiveTimeout;

    /** Gloo prints this once a rank has connected to its peers; the launcher keeps it out of the command's output. */
    private static final String GLOO_CONNECTED = "[Gloo] Rank ";

    /** The grace the other ranks get to end on their own once one has failed, before they are stopped. */
    private static final long GRACE_MILLIS = 15_000;

    /** Whether this command should start local ranks rather than run. */
    boolean launchesLocalRanks() {
        if (nproc < 1) throw new IllegalArgumentException("--nproc must be >= 1, got " + nproc);
        if (collectiveTimeout < 1) {
            throw new IllegalArgumentException("--collective-timeout must be >= 1 second, got " + collectiveTimeout);
        }
        if (nproc > 1 && Launch.fromEnvironment(System.getenv()).distributed()) {
            throw new IllegalArgumentException("--nproc starts the ranks itself, but this process is already rank "
                    + System.getenv("RANK") + " of WORLD_SIZE " + System.getenv("WORLD_SIZE")
                    + " (torchrun, srun): leave --nproc out");
        }
        return nproc > 1;
    }

    /** Joins the run the environment describes (one process without torchrun's variables). */
    Collective join() {
        return Collective.connect(Launch.fromEnvironment(System.getenv()), Duration.ofSeconds(collectiveTimeout));
    }

    /**
     * Runs this command as {@code --nproc} local ranks: the same arguments without {@code --nproc}, rank 0's output
     * and progress as this process's, the other ranks' errors prefixed with their rank. When a rank fails the others are given a
     * few seconds to fail on their own (they name the rank that stopped), then stopped.
     *
     * @return rank 0's exit status, or the first failing rank's when rank 0 succeeded
     */
    int launch(CommandSpec spec) throws IOException, InterruptedException {
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        List<String> args =
                withoutNproc(spec.root().commandLine().getParseResult().originalArgs());
        int port = LocalRanks.freePort();
        List<Process> ranks = new ArrayList<>(nproc);
        List<Thread> relays = new ArrayList<>();
        Thread stopRanks = new Thread(() -> ranks.forEach(Process::destroyForcibly));
        Runtime.getRuntime().addShutdownHook(stopRanks);
        try {
            for (int r = 0; r < nproc; r++) {
                ProcessBuilder pb = LocalRanks.worker(r, nproc, port, Spo4jCli.class.getName(), args);
                if (r == 0) {
                    // Rank 0's progress goes to this terminal; its report through this command's output.
                    pb.redirectError(ProcessBuilder.Redirect.INHERIT);
                    if (Progress.interactiveTerminal()) pb.environment().put(Progress.TERMINAL, "1");
                } else {
                    pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
                    pb.redirectInput(ProcessBuilder.Redirect.PIPE);
                }
                Process p = pb.start();
                ranks.add(p);
                relays.add(
                        r == 0
                                ? relay(p.getInputStream(), "", out)
                                : relay(p.getErrorStream(), "[rank " + r + "] ", err));
            }
            int status = await(ranks);
            for (Thread t : relays) t.join(2000);
            return status;
        } finally {
            ranks.forEach(Process::destroyForcibly);
            try {
                Runtime.getRuntime().removeShutdownHook(stopRanks);
            } catch (IllegalStateException e) {
                // the JVM is shutting down: the hook runs
            }
        }
    }

    private static int await(List<Process> ranks) throws InterruptedException {
        long deadline = Long.MAX_VALUE;
        while (true) {
            boolean running = false;
            for (Process p : ranks) {
                if (p.isAlive()) running = true;
                else if (p.exitValue() != 0 && deadline == Long.MAX_VALUE) {
                    deadline = System.currentTimeMillis() + GRACE_MILLIS;
                }
            }
            if (!running || System.currentTimeMillis() > deadline) break;
            Thread.sleep(50);
        }
        for (Process p : ranks) if (p.isAlive()) p.destroyForcibly().waitFor();
        int first = 0;
        for (Process p : ranks) {
            if (p.exitValue() != 0) {
                first = p.exitValue();
                break;
            }
        }
        return ranks.get(0).exitValue() != 0 ? ranks.get(0).exitValue() : first;
    }

    private static Thread relay(InputStream stream, String prefix, PrintWriter to) {
        Thread t = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    if (line.startsWith(GLOO_CONNECTED)) continue;
                    synchronized (to) {
                        to.println(prefix + line);
                        to.flush();
                    }
                }
            } catch (IOException e) {
                // the rank's stream closed
            }
        });
        t.setDaemon(true);
        t.start();
        return t;
    }

    static List<String> withoutNproc(List<String> args) {
        List<String> out = new ArrayList<>(args.size());
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--nproc")) i++;
            else if (!a.startsWith("--nproc=")) out.add(a);
        }
        return out;
    }
}
