package io.github.spo4j.cli;

import com.google.gson.GsonBuilder;
import io.github.spo4j.model.Policy;
import io.github.spo4j.model.io.AtomicFiles;
import io.github.spo4j.train.CreditAudit;
import io.github.spo4j.train.TrainingTask;
import io.github.spo4j.train.Workspace;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code spo4j credit}: how well each algorithm's advantages assign credit on a model's own responses. */
@Command(
        name = "credit",
        mixinStandardHelpOptions = true,
        description = "Scores each algorithm's token advantages against a many-rollout Monte-Carlo reference on one "
                + "batch of the model's responses: correlation, sign agreement, and the rollout tokens they cost.")
public final class CreditCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    TaskOptions taskOptions;

    @Mixin
    DeviceOptions deviceOptions;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Model directory.")
    Path model;

    @Option(
            names = "--estimators",
            split = ",",
            defaultValue = "grpo,rloo,vineppo:4,spo-chain:1:4,spo-chain:2:4," + "spo-chain:5:9",
            description = "grpo, rloo, spo-chain:K:N, spo-chain:K:N:M (M more rollouts around tied segments), "
                    + "spo-chain:K:N:M:S (at most S segments per response), vineppo:N, spo-tree:B1-B2-...:S (its own "
                    + "trees, measured only as gradients), spo-tree:B1-B2-...:S:P (segments that also end before a "
                    + "step whose likeliest token is below probability P) (default ${DEFAULT-VALUE}).")
    List<String> estimators;

    @Option(names = "--questions", defaultValue = "32", description = "Questions (default ${DEFAULT-VALUE}).")
    int questions;

    @Option(names = "--samples", defaultValue = "8", description = "Responses per question (default ${DEFAULT-VALUE}).")
    int samples;

    @Option(
            names = "--reference-rollouts",
            defaultValue = "64",
            description = "Rollouts per state of the reference (even; default ${DEFAULT-VALUE}).")
    int referenceRollouts;

    @Mixin
    ResponseLimitOption responseLimit;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the batch and the rollouts.")
    long seed;

    @Option(
            names = "--gradient-noise",
            negatable = true,
            defaultValue = "true",
            fallbackValue = "true",
            description = "Also weigh the advantages as gradients: each estimator's gradient noise scale and its "
                    + "alignment with the reference's gradient (default ${DEFAULT-VALUE}).")
    boolean gradientNoise;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the result as JSON.")
    Path json;

    @Override
    public Integer call() throws Exception {
        return Commands.run(spec.commandLine().getErr(), () -> {
            if (referenceRollouts < 2 || referenceRollouts % 2 != 0) {
                throw new IllegalArgumentException(
                        "--reference-rollouts must be even and >= 2, got " + referenceRollouts);
            }
            if (questions < 1) throw new IllegalArgumentException("--questions must be >= 1, got " + questions);
            if (samples < 2) throw new IllegalArgumentException("--samples must be >= 2, got " + samples);
            responseLimit.check();
            List<CreditAudit.Estimator> parsed = new ArrayList<>();
            for (String e : estimators) parsed.add(CreditAudit.Estimator.parse(e));
            TrainingTask task = taskOptions.task(Workspace.loadTokenizer(model));
            CreditAudit.Config d = CreditAudit.Config.defaults();
            CreditAudit.Config config = new CreditAudit.Config(
                    questions,
                    samples,
                    referenceRollouts,
                    d.temperature(),
                    d.topP(),
                    responseLimit.resolve(task),
                    d.rho(),
                    seed,
                    d.maxStreams(),
                    d.kvBlockSize(),
                    d.kvBlocks(),
                    gradientNoise);
            CreditAudit.Result r;
            try (Policy policy = Policy.load(model, deviceOptions.resolve())) {
                r = CreditAudit.run(policy, task, config, parsed);
            }
            print(spec.commandLine().getOut(), r);
            if (json != null) {
                AtomicFiles.write(
                        json,
                        new GsonBuilder()
                                .setPrettyPrinting()
                                .serializeSpecialFloatingPointValues()
                                .create()
                                .toJson(r)
                                .getBytes(StandardCharsets.UTF_8));
            }
            return 0;
        });
    }

    /** The result as a markdown section for a report. */
    static String markdown(CreditAudit.Result r) {
        StringBuilder md = new StringBuilder("## Credit assignment on the base (spo4j credit)\n\n");
        md.append(String.format(
                "%d responses (mean reward %.3f, %.1f tokens each); %d decision tokens (p < 0.9, "
                        + "%.1f%% of tokens). Reference: every cutpoint a boundary, reliability %.3f.%n%n",
                r.responses(),
                r.meanReward(),
                r.meanResponseTokens(),
                r.decisionTokens(),
                100 * r.decisionFraction(),
                r.referenceReliability()));
        md.append(String.format(
                "| estimator | correlation with the reference | right sign (%d tokens with \\|A*\\| ≥ "
                        + "0.25) | no credit (of those) | rollout tokens per response |%n| --- | ---: | ---: | ---: | ---: |%n",
                r.clearTokens()));
        for (CreditAudit.Row row : r.rows()) {
            if (Double.isNaN(row.extraTokensPerResponse())) continue; // SPO-tree: not the batch's responses
            md.append(String.format(
                    "| %s | %.3f | %.1f%% | %.1f%% | %.1f |%n",
                    row.estimator(),
                    row.correlation(),
                    100 * row.signAgreement(),
                    100 * row.noCredit(),
                    row.extraTokensPerResponse()));
        }
        if (Double.isNaN(r.referenceNoiseScale())) return md.toString();
        md.append(String.format(
                "%nThe advantages as gradients (decision tokens, centred): the noise scale B in questions (a step on "
                        + "b questions has a cosine of about √(b/(b+B)) with the expected gradient), the alignment of "
                        + "the expected gradient with the reference's, and the cosine with the reference's gradient on "
                        + "the same responses; ± jackknife standard errors over the questions; and the tokens generated "
                        + "per question for its episodes (responses and rollouts, or SPO-tree's tree). The reference's "
                        + "B: %s.%n%n| estimator | noise scale B (questions) | alignment with the reference | cosine on "
                        + "the same responses | tokens per question |%n| --- | ---: | ---: | ---: | ---: |%n",
                plusMinus(r.referenceNoiseScale(), r.referenceNoiseScaleError(), 1)));
        for (CreditAudit.Row row : r.rows()) {
            md.append(String.format(
                    "| %s | %s | %s | %s | %.0f |%n",
                    row.estimator(),
                    plusMinus(row.noiseScale(), row.noiseScaleError(), 1),
                    plusMinus(row.gradientAlignment(), row.gradientAlignmentError(), 2),
                    orNa(row.sameResponsesCosine(), 3),
                    row.tokensPerQuestion()));
        }
        return md.toString();
    }

    /** {@code value} at {@code digits} decimals, "n/a" for NaN. */
    static String orNa(double value, int digits) {
        return Double.isNaN(value) ? "n/a" : String.format("%." + digits + "f", value);
    }

    /** {@code value ± error} at {@code digits} decimals; ∞ for an unbounded noise scale, "n/a" for NaN. */
    static String plusMinus(double value, double error, int digits) {
        if (Double.isNaN(value)) return "n/a";
        if (Double.isInfinite(value)) return "∞";
        String v = String.format("%." + digits + "f", value);
        return Double.isFinite(error) ? v + " ± " + String.format("%." + digits + "f", error) : v + " ± ?";
    }

    static void print(PrintWriter out, CreditAudit.Result r) {
        out.printf(
                "%d responses, mean reward %.3f, %.1f tokens each; %d decision tokens (p < 0.9, %.1f%% of tokens)%n",
                r.responses(), r.meanReward(), r.meanResponseTokens(), r.decisionTokens(), 100 * r.decisionFraction());
        out.printf(
                "reference: every cutpoint a boundary, reliability %.3f, %.0f rollout tokens per response; "
                        + "%d clear tokens (|A*| >= 0.25)%n%n",
                r.referenceReliability(), r.referenceTokensPerResponse(), r.clearTokens());
        out.printf(
                "%-22s %12s %11s %10s %23s%n",
                "estimator", "correlation", "right sign", "no credit", "rollout tokens/response");
        out.printf(
                "%-22s %12s %11s %10s %23s%n",
                "---------", "-----------", "----------", "---------", "-----------------------");
        for (CreditAudit.Row row : r.rows()) {
            if (Double.isNaN(row.extraTokensPerResponse())) continue; // SPO-tree: not the batch's responses
            out.printf(
                    "%-22s %12.3f %10.1f%% %9.1f%% %23.1f%n",
                    row.estimator(),
                    row.correlation(),
                    100 * row.signAgreement(),
                    100 * row.noCredit(),
                    row.extraTokensPerResponse());
        }
        if (!Double.isNaN(r.referenceNoiseScale())) {
            out.printf(
                    "%nas gradients (decision tokens, centred; ± jackknife over questions): noise scale B in questions, "
                            + "alignment of the expected gradient with the reference's, cosine on the same responses, "
                            + "tokens generated per question; the reference's B %s%n%n",
                    plusMinus(r.referenceNoiseScale(), r.referenceNoiseScaleError(), 1));
            out.printf(
                    "%-22s %18s %18s %15s %19s%n",
                    "estimator", "noise scale B", "alignment", "same-responses", "tokens/question");
            out.printf(
                    "%-22s %18s %18s %15s %19s%n",
                    "---------", "-------------", "---------", "--------------", "---------------");
            for (CreditAudit.Row row : r.rows()) {
                out.printf(
                        "%-22s %18s %18s %15s %19.0f%n",
                        row.estimator(),
                        plusMinus(row.noiseScale(), row.noiseScaleError(), 1),
                        plusMinus(row.gradientAlignment(), row.gradientAlignmentError(), 2),
                        orNa(row.sameResponsesCosine(), 3),
                        row.tokensPerQuestion());
            }
        }
        out.flush();
    }
}
