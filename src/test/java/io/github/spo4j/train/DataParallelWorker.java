package io.github.spo4j.train;

import io.github.spo4j.kernels.loss.Aggregation;
import io.github.spo4j.model.Policy;
import io.github.spo4j.spo.Algorithm;
import io.github.spo4j.train.distributed.Collective;
import io.github.spo4j.train.distributed.Launch;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;

/**
 * One rank of {@link DataParallelTest}'s runs (one process when torchrun's variables are absent): trains ALGORITHM
 * for ITERATIONS iterations of {@link TrainerTest#tiny}'s settings (smaller micro-batches, so a step has several) on
 * {@link TinyArithmetic}'s task and base (a fourth argument, seq-mean-token-mean, sets an aggregation whose micro-batches the ranks deal
 * out whole rather than split), then rank 0 writes OUT/episodes.txt (every iteration's episodes: tokens, advantages, π_old) and
 * OUT/weights.bin and OUT/base.bin (the trained and the starting parameters, float32).
 */
public final class DataParallelWorker {
    private DataParallelWorker() {}

    public static void main(String[] args) throws IOException {
        Algorithm algorithm = TrainConfig.algorithmNamed(args[0]);
        int iterations = Integer.parseInt(args[1]);
        Path out = Path.of(args[2]);
        TrainConfig config = TrainerTest.tiny(algorithm)
                .with(Map.of("iterations", Integer.toString(iterations), "micro-batch", "6", "minibatch", "24"), true);
        // SPO-chain with tie refinement: a second estimator call whose states depend on the first call's values.
        if (algorithm == Algorithm.SPO_CHAIN) config = config.with("tie-rollouts", "2");
        if (args.length > 3 && args[3].equals("seq-mean-token-mean")) {
            // An aggregation the ranks cannot split: micro-batches are dealt out whole.
            config = config.withAlgorithm(config.algorithm()
                    .withLoss(config.algorithm().loss().toBuilder()
                            .pgAggregation(Aggregation.SEQ_MEAN_TOKEN_MEAN)
                            .build()));
        }
        try (Collective world = Collective.connect(Launch.fromEnvironment(System.getenv()), Duration.ofSeconds(60));
                TinyArithmetic tiny = TinyArithmetic.create()) {
            Policy base = tiny.base();
            try (Trainer trainer = new Trainer(tiny.task(), base, config, world)) {
                StringBuilder episodes = new StringBuilder();
                while (!trainer.finished()) {
                    Trainer.IterationStats s = trainer.step();
                    episodes.append("iteration ")
                            .append(s.iteration())
                            .append(" tokens ")
                            .append(s.generatedTokens())
                            .append(" reward ")
                            .append(s.meanReward())
                            .append('\n');
                    for (Episode e : trainer.lastEpisodes()) {
                        episodes.append(Arrays.toString(e.query()))
                                .append(" -> ")
                                .append(Arrays.toString(e.response()))
                                .append(" A ")
                                .append(Arrays.toString(e.advantages()))
                                .append(" old ")
                                .append(Arrays.toString(e.oldLogp()))
                                .append(" ref ")
                                .append(Arrays.toString(e.refLogp()))
                                .append('\n');
                    }
                }
                if (world.rank() == 0) {
                    Files.createDirectories(out);
                    Files.writeString(out.resolve("episodes.txt"), episodes, StandardCharsets.UTF_8);
                    write(trainer.policy(), out.resolve("weights.bin"));
                    write(base, out.resolve("base.bin"));
                }
                System.out.println("DONE rank " + world.rank());
            }
        }
    }

    /** The parameters, float32 big-endian, in the policy's order. */
    private static void write(Policy policy, Path file) throws IOException {
        try (DataOutputStream w = new DataOutputStream(Files.newOutputStream(file))) {
            for (var p : policy.namedParameters().values()) {
                float[] v = new float[(int) p.numel()];
                p.contiguous().data_ptr_float().get(v);
                for (float x : v) w.writeFloat(x);
            }
        }
    }
}
