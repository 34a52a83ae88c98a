/**
 * The shared plumbing of the kernel facades: argument checks, Java-array and JavaCPP-pointer staging, libtorch
 * tensor arguments, CUDA device copies, element types, and the native library with its status-to-exception
 * mapping. Public so that the per-op packages can share it; not part of the user API, which is the per-op facades
 * and {@link io.github.spo4j.kernels.Backend}.
 */
package io.github.spo4j.kernels.engine;
