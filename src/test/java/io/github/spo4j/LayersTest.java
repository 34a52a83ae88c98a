package io.github.spo4j;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The layers of README "Where things live", enforced on the library's classes: every import runs downwards,
 * cli > train > (report, rollout) > spo > tasks, and model > kernels; the binding and the kernel engine are
 * reached only through the kernel facades; the packages inside a layer form no cycles.
 */
@AnalyzeClasses(packages = "io.github.spo4j", importOptions = ImportOption.DoNotIncludeTests.class)
class LayersTest {
    @ArchTest
    static final ArchRule layersRunDownwards = layeredArchitecture()
            .consideringOnlyDependenciesInLayers()
            .layer("cli")
            .definedBy("io.github.spo4j.cli..")
            .layer("train")
            .definedBy("io.github.spo4j.train..")
            .layer("report")
            .definedBy("io.github.spo4j.report..")
            .layer("rollout")
            .definedBy("io.github.spo4j.rollout..")
            .layer("spo")
            .definedBy("io.github.spo4j.spo..")
            .layer("tasks")
            .definedBy("io.github.spo4j.tasks..")
            .layer("model")
            .definedBy("io.github.spo4j.model..")
            .layer("kernels")
            .definedBy("io.github.spo4j.kernels..")
            .whereLayer("cli")
            .mayNotBeAccessedByAnyLayer()
            .whereLayer("train")
            .mayOnlyBeAccessedByLayers("cli")
            .whereLayer("report")
            .mayOnlyBeAccessedByLayers("cli", "train")
            .whereLayer("rollout")
            .mayOnlyBeAccessedByLayers("cli", "train")
            .whereLayer("spo")
            .mayOnlyBeAccessedByLayers("cli", "train", "rollout")
            .whereLayer("tasks")
            .mayOnlyBeAccessedByLayers("cli", "train", "rollout", "spo")
            .whereLayer("model")
            .mayOnlyBeAccessedByLayers("cli", "train", "report", "rollout")
            .whereLayer("kernels")
            .mayOnlyBeAccessedByLayers("cli", "train", "rollout", "spo", "model");

    @ArchTest
    static final ArchRule onlyKernelsCallTheBinding = classes()
            .that()
            .resideInAPackage("io.github.spo4j.kernels.nativebind..")
            .should()
            .onlyBeAccessed()
            .byAnyPackage("io.github.spo4j.kernels..");

    @ArchTest
    static final ArchRule onlyKernelsUseTheEngine = classes()
            .that()
            .resideInAPackage("io.github.spo4j.kernels.engine..")
            .should()
            .onlyBeAccessed()
            .byAnyPackage("io.github.spo4j.kernels..");

    @ArchTest
    static final ArchRule layersFormNoCycles =
            slices().matching("io.github.spo4j.(*)..").should().beFreeOfCycles();

    /** The ops and their engine: an op may use another's types (attention plans over a KV cache), never in a circle. */
    @ArchTest
    static final ArchRule kernelPackagesFormNoCycles =
            slices().matching("io.github.spo4j.kernels.(*)..").should().beFreeOfCycles();

    /** Data, partitions, advantages and replay build on each other one way; the root holds what they share. */
    @ArchTest
    static final ArchRule spoPackagesFormNoCycles =
            slices().matching("io.github.spo4j.spo.(*)..").should().beFreeOfCycles();
}
