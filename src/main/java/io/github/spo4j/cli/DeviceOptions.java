package io.github.spo4j.cli;

import io.github.spo4j.model.Device;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code --device}: where the policy, its reference, optimizer state and KV pool live and the kernels run. */
final class DeviceOptions {
    @Option(
            names = "--device",
            paramLabel = "cpu|cuda|cuda:N",
            description = "Where the policy, its optimizer state and KV cache live and the kernels run (default: cuda"
                    + " when libtorch and spo4j's kernels both see a GPU, else cpu). Under torchrun or --nproc, cuda"
                    + " without an index is the GPU of the rank's LOCAL_RANK (modulo the GPUs seen).")
    String device;

    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    private Device resolved;

    /** The device asked for, checked to be usable here (once per command); a GPU is named on stderr. */
    Device resolve() {
        if (resolved == null) {
            resolved = resolve(device, System.getenv("LOCAL_RANK"));
            if (resolved.isCuda() && command != null) {
                command.commandLine().getErr().println(command.name() + ": device " + resolved.describe());
            }
        }
        return resolved;
    }

    static Device resolve(String spec, String localRank) {
        Device d;
        try {
            d = spec == null ? Device.auto() : Device.parse(spec);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--" + e.getMessage(), e);
        }
        boolean indexed = spec != null && spec.contains(":");
        if (d.isCuda() && !indexed && localRank != null && !localRank.isBlank()) {
            int count = Device.cudaDeviceCount();
            if (count > 0) d = Device.cuda(Integer.parseInt(localRank.strip()) % count);
        }
        try {
            return d.requireAvailable();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--" + e.getMessage(), e);
        }
    }
}
