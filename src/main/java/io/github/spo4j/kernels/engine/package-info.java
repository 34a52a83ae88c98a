/**
 * The shared plumbing of the kernel facades, not user API (that is the per-op facades and
 * {@link io.github.spo4j.kernels.Backend}). {@link io.github.spo4j.kernels.engine.KernelCall} is the one argument
 * abstraction: each facade method states its own checks, declares its inputs and outputs on it, and calls its
 * reference or its native entry; the call does the capacity, dtype and device checks, stages host arrays through
 * device memory on CUDA and reads and writes pointers for the reference. Around it: the generic argument checks
 * ({@link io.github.spo4j.kernels.engine.Checks}), element types and bf16, the CUDA runtime through the JavaCPP
 * presets ({@link io.github.spo4j.kernels.engine.CudaRuntime}: devices, {@link
 * io.github.spo4j.kernels.engine.DeviceMemory}, streams, events), libtorch's current stream, and the native library
 * with its status-to-exception mapping. Public only because the per-op packages share it.
 */
package io.github.spo4j.kernels.engine;
