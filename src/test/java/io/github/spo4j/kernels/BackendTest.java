package io.github.spo4j.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.kernels.loss.PolicyLoss;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class BackendTest {
    @AfterEach
    void clearOverride() {
        System.clearProperty(Backend.PROPERTY);
    }

    @Test
    void autoPicksTheFastestAvailable() {
        Backend expected = Backend.CUDA.isAvailable() ? Backend.CUDA : Backend.CPU;
        assertTrue(Backend.CPU.isAvailable(), "the native CPU library must load in the test build");
        assertEquals(expected, Backend.auto());
        assertEquals(Backend.CPU, Backend.autoHost());
    }

    @Test
    void propertyOverridesTheChoice() {
        System.setProperty(Backend.PROPERTY, "Reference");
        assertEquals(Backend.REFERENCE, Backend.auto());
        assertEquals(Backend.REFERENCE, PolicyLoss.create().backend());
        System.setProperty(Backend.PROPERTY, "bogus");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, Backend::auto);
        assertTrue(e.getMessage().contains("spo4j.backend"));
    }

    @Test
    void forcingCudaWithoutADeviceFailsClearly() {
        if (Backend.CUDA.isAvailable()) return;
        System.setProperty(Backend.PROPERTY, "cuda");
        IllegalStateException e = assertThrows(IllegalStateException.class, Backend::auto);
        assertTrue(e.getMessage().contains("CUDA"), e.getMessage());
    }
}
