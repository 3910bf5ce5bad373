package io.github.backprop4j.cli;

import io.github.backprop4j.core.LearningRateSchedule;

import java.util.Locale;

/**
 * {@code --lr-schedule} and {@code --warmup} as a core {@link LearningRateSchedule}: {@code constant},
 * {@code step:N[:GAMMA]} (the rate times GAMMA, default 0.1, every N steps) or {@code cosine[:T[:MIN]]}
 * (half a cosine from the rate down to MIN, default 0, over T steps, default the whole run, warm-up
 * included); {@code --warmup W} adds W steps of linear warm-up to any of them. Steps are optimizer
 * updates, one per batch.
 */
final class ScheduleOption {

    /** PyTorch's StepLR default. */
    static final float DEFAULT_GAMMA = 0.1f;

    private ScheduleOption() {
    }

    /** The schedule {@code text} names (null: constant); {@code runSteps} is cosine's default T. */
    static LearningRateSchedule parse(String text, long runSteps) {
        if (text == null) return LearningRateSchedule.constant();
        String[] parts = text.strip().toLowerCase(Locale.ROOT).split(":", -1);
        String usage = "expected constant, step:N[:GAMMA] or cosine[:T[:MIN]]";
        try {
            return switch (parts[0]) {
                case "constant" -> {
                    if (parts.length != 1) throw new CliException("--lr-schedule " + text + ": constant takes no values");
                    yield LearningRateSchedule.constant();
                }
                case "step" -> {
                    if (parts.length < 2 || parts.length > 3)
                        throw new CliException("--lr-schedule " + text + ": step needs its period, step:N or step:N:GAMMA");
                    yield LearningRateSchedule.step(steps(parts[1], text, "N"),
                            parts.length == 3 ? number(parts[2], text, "GAMMA") : DEFAULT_GAMMA);
                }
                case "cosine" -> {
                    if (parts.length > 3) throw new CliException("--lr-schedule " + text + ": " + usage);
                    int total = parts.length >= 2 ? steps(parts[1], text, "T") : (int) Math.min(runSteps, Integer.MAX_VALUE);
                    yield LearningRateSchedule.cosine(total, parts.length == 3 ? number(parts[2], text, "MIN") : 0f);
                }
                default -> throw new CliException("unknown --lr-schedule '" + text + "': " + usage);
            };
        } catch (IllegalArgumentException e) {
            throw new CliException("--lr-schedule " + text + ": " + e.getMessage());
        }
    }

    /** {@code schedule} after {@code steps} of linear warm-up. */
    static LearningRateSchedule withWarmup(LearningRateSchedule schedule, int steps) {
        try {
            return schedule.withWarmup(steps);
        } catch (IllegalArgumentException e) {
            throw new CliException("--warmup " + steps + ": " + e.getMessage());
        }
    }

    /** Refuses a schedule that does not suit the optimizer's rate (a cosine minimum above it). */
    static void checkBase(LearningRateSchedule schedule, float learningRate) {
        try {
            schedule.checkBase(learningRate);
        } catch (IllegalArgumentException e) {
            throw new CliException("--lr-schedule: " + e.getMessage());
        }
    }

    /**
     * Refuses a run that would take steps at rate 0: past its T steps a cosine to 0 leaves the weights
     * as they are, so those epochs would be lost work. {@code stepsDone}: by the run being resumed (0
     * for a new run); {@code what} names the schedule's origin for the message.
     */
    static void checkCovers(LearningRateSchedule s, long stepsDone, long stepsPerEpoch, int epochs, String what) {
        if (s.kind() != LearningRateSchedule.Kind.COSINE || s.minLearningRate() > 0) return;
        long asked = stepsPerEpoch * epochs, left = Math.max(0, s.totalSteps() - stepsDone);
        if (asked <= left) return;
        long fit = left / stepsPerEpoch;
        String fitting = "ask for at most " + fit + (fit == 1 ? " epoch" : " epochs");
        String remedy;
        if (stepsDone > 0) remedy = fit > 0 ? fitting : "the schedule has ended, so this run cannot train further";
        else remedy = (fit > 0 ? fitting + ", or " : "") + "give the cosine a longer T (one epoch is " + stepsPerEpoch
                + " steps) or a MIN above 0";
        throw new CliException(what + ": the learning rate follows a cosine to 0 over " + s.totalSteps() + " steps"
                + (stepsDone > 0 ? ", of which " + stepsDone + " are done" : "") + "; --epochs " + epochs + " (" + asked
                + " steps) would train " + (asked - left) + " steps at rate 0, which change nothing: " + remedy);
    }

    /** E.g. "cosine from 0.001 to 0.0 over 1200 steps, after 100 steps of linear warm-up". */
    static String describe(LearningRateSchedule s) {
        String shape = switch (s.kind()) {
            case CONSTANT -> "constant";
            case STEP -> "times " + s.gamma() + " every " + s.period() + " steps";
            case COSINE -> "cosine to " + s.minLearningRate() + " over " + s.totalSteps() + " steps";
        };
        return shape + (s.warmupSteps() > 0 ? ", after " + s.warmupSteps() + " steps of linear warm-up" : "");
    }

    private static int steps(String value, String text, String name) {
        try {
            int n = Integer.parseInt(value.strip());
            if (n < 1) throw new CliException("--lr-schedule " + text + ": " + name + " must be >= 1 step, got " + n);
            return n;
        } catch (NumberFormatException e) {
            throw new CliException("--lr-schedule " + text + ": " + name + " '" + value + "' is not a whole number of steps");
        }
    }

    private static float number(String value, String text, String name) {
        try {
            float v = Float.parseFloat(value.strip());
            if (!Float.isFinite(v)) throw new NumberFormatException();
            return v;
        } catch (NumberFormatException e) {
            throw new CliException("--lr-schedule " + text + ": " + name + " '" + value + "' is not a finite number");
        }
    }
}
