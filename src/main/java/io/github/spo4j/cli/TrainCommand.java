package io.github.spo4j.cli;

import io.github.spo4j.model.Policy;
import io.github.spo4j.report.EvalPoint;
import io.github.spo4j.report.MetricsFiles;
import io.github.spo4j.report.Progress;
import io.github.spo4j.spo.Algorithm;
import io.github.spo4j.train.TrainConfig;
import io.github.spo4j.train.TrainingRun;
import io.github.spo4j.train.TrainingTask;
import io.github.spo4j.train.Workspace;
import io.github.spo4j.train.distributed.Collective;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code spo4j train}: one RL run from a base model directory. */
@Command(
        name = "train",
        mixinStandardHelpOptions = true,
        description = "One RL run (grpo, grpo-mask, rloo, spo-chain, spo-tree, vineppo) from a base model directory, "
                + "with evaluations, checkpoints and --resume. Knobs start from the algorithm's preset (SPO_SPEC); "
                + "set them with --config FILE (a flat JSON object) and --set KNOB=VALUE. --knobs lists them.")
public final class TrainCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    TaskOptions taskOptions;

    @Mixin
    DeviceOptions deviceOptions;

    @Mixin
    RankOptions rankOptions;

    @Option(names = "--algorithm", defaultValue = "spo-tree", description = "The algorithm (default ${DEFAULT-VALUE}).")
    String algorithm;

    @Option(
            names = "--base",
            paramLabel = "DIR",
            description = "Model directory to start from (spo4j sft, or Hugging Face).")
    Path base;

    @Option(names = "--out", paramLabel = "DIR", description = "Run directory (checkpoint, metrics, final model).")
    Path out;

    @Option(names = "--config", paramLabel = "FILE", description = "JSON object of knobs (may name the algorithm).")
    Path config;

    @Option(
            names = "--set",
            paramLabel = "KNOB=VALUE",
            description = "Sets a knob; repeatable, applied after --config.")
    Map<String, String> set = new LinkedHashMap<>();

    @Option(names = "--resume", description = "Continue the run checkpointed in --out.")
    boolean resume;

    @Option(names = "--knobs", description = "List the knobs with their values for the algorithm and exit.")
    boolean listKnobs;

    @Option(names = "--quiet", description = "No progress bars.")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        return Commands.run(spec.commandLine().getErr(), () -> {
            Progress.setEnabled(!quiet);
            TrainConfig c = config != null
                    ? configFile(config, TrainConfig.algorithmNamed(algorithm))
                    : TrainConfig.preset(TrainConfig.algorithmNamed(algorithm));
            c = c.with(set, false);
            if (listKnobs) {
                Map<String, String> help = TrainConfig.knobHelp();
                c.knobs()
                        .forEach((k, v) -> spec.commandLine().getOut().printf("  %-22s %-14s %s%n", k, v, help.get(k)));
                return 0;
            }
            if (base == null) throw new IllegalArgumentException("--base is required (a model directory: spo4j sft)");
            if (out == null) throw new IllegalArgumentException("--out is required");
            if (rankOptions.launchesLocalRanks()) return rankOptions.launch(spec);
            TrainingTask task = taskOptions.task(Workspace.loadTokenizer(base));
            try (Collective world = rankOptions.join();
                    Policy basePolicy = Policy.load(base, deviceOptions.resolve())) {
                boolean lead = world.rank() == 0;
                List<EvalPoint> points = Runs.run(
                        TrainConfig.nameOf(c.algorithm().algorithm()), task, basePolicy, c, out, resume, world, p -> {
                            if (!lead) return;
                            MetricsFiles.writeJsonl(out.resolve("metrics.jsonl"), p);
                            MetricsFiles.writeCsv(out.resolve("metrics.csv"), p);
                        });
                EvalPoint last = points.get(points.size() - 1);
                if (lead) {
                    spec.commandLine()
                            .getOut()
                            .printf(
                                    "%s: test accuracy %.1f%% → %.1f%% after %d iterations, %d tokens "
                                            + "generated%s; model in %s%n",
                                    TrainConfig.nameOf(c.algorithm().algorithm()),
                                    100 * points.get(0).greedyAccuracy(),
                                    100 * last.greedyAccuracy(),
                                    last.iteration(),
                                    last.generatedTokens(),
                                    world.worldSize() > 1 ? " over " + world.worldSize() + " ranks" : "",
                                    out.resolve(TrainingRun.CHECKPOINT));
                }
            }
            return 0;
        });
    }

    /** The knobs of a --config file; its errors name it. */
    private static TrainConfig configFile(Path file, Algorithm defaultAlgorithm) throws IOException {
        String json;
        try {
            json = Files.readString(file, StandardCharsets.UTF_8);
        } catch (CharacterCodingException e) {
            throw new IOException("--config " + file + " is not valid UTF-8 text", e);
        }
        try {
            return TrainConfig.fromJson(json, defaultAlgorithm);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--config " + file + ": " + e.getMessage(), e);
        }
    }
}
