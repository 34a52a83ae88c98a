package io.github.spo4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.model.Policy;
import org.junit.jupiter.api.Test;

/** Small policies run each phase on one thread, larger ones spread; the JVM properties override. */
class ThreadsTest {
    @Test
    void theChoiceFollowsThePolicysSize() {
        int cores = Threads.cores();
        try (Policy tiny = Policy.random(Workspace.builtInModel(32, 64, 2), 1);
                Policy medium = Policy.random(Workspace.builtInModel(32, 256, 2), 1);
                Policy large = Policy.random(Workspace.builtInModel(32, 512, 6), 1)) {
            assertTrue(tiny.parameterCount() < Threads.TRAINING_PARALLEL_PARAMETERS);
            assertEquals(1, Threads.samplingThreads(tiny));
            assertEquals(1, Threads.trainingThreads(tiny));
            assertTrue(medium.parameterCount() >= Threads.TRAINING_PARALLEL_PARAMETERS
                    && medium.parameterCount() < Threads.SAMPLING_PARALLEL_PARAMETERS);
            assertEquals(1, Threads.samplingThreads(medium));
            assertEquals(cores, Threads.trainingThreads(medium));
            assertTrue(large.parameterCount() >= Threads.SAMPLING_PARALLEL_PARAMETERS);
            assertEquals(cores, Threads.samplingThreads(large));
            assertEquals(cores, Threads.trainingThreads(large));
        }
    }

    @Test
    void propertiesOverrideAndBadOnesAreNamed() {
        try (Policy tiny = Policy.random(Workspace.builtInModel(32, 64, 2), 1)) {
            System.setProperty("spo4j.threads.sampling", "3");
            System.setProperty("spo4j.threads.training", " 2 ");
            assertEquals(3, Threads.samplingThreads(tiny));
            assertEquals(2, Threads.trainingThreads(tiny));
            for (String bad : new String[] {"0", "-1", "two", ""}) {
                System.setProperty("spo4j.threads.training", bad);
                IllegalArgumentException e =
                        assertThrows(IllegalArgumentException.class, () -> Threads.trainingThreads(tiny));
                assertEquals(
                        "-Dspo4j.threads.training must be a thread count >= 1, got \"" + bad + "\"", e.getMessage());
            }
        } finally {
            System.clearProperty("spo4j.threads.sampling");
            System.clearProperty("spo4j.threads.training");
        }
    }
}
