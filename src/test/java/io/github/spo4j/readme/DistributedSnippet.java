package io.github.spo4j.readme;

import io.github.spo4j.train.distributed.Collective;
import io.github.spo4j.train.distributed.Launch;
import java.time.Duration;
import java.util.Map;

/** README, "Data-parallel training": join the run the environment describes, agree, sum. */
final class DistributedSnippet {
    private DistributedSnippet() {}

    static float[] run(Map<String, String> env, byte[] configFingerprint, float[] gradients) {
        // README begin
        try (Collective world = Collective.connect(Launch.fromEnvironment(env), Duration.ofSeconds(60))) {
            world.requireSame("config", configFingerprint); // every rank refuses a run of mixed configs
            world.allReduceSum(gradients); // in place: the sum over the ranks, the same bits on each
        }
        // README end
        return gradients;
    }
}
