package io.github.backprop4j.cli;

import picocli.CommandLine;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Which options a run uses, in one table per command: an option the user gave that this run would not
 * use is an error naming it and saying when it applies, never silently dropped. Every option of
 * {@code train}, {@code eval} and {@code predict} has a rule here (a test checks it), so a new option cannot be
 * forgotten.
 */
final class OptionRules {

    /** A new run, or one continuing a checkpoint. */
    enum Start { NEW, RESUMED }

    /** Which rows eval looks at. */
    enum Rows { HELD_OUT, ALL }

    /**
     * What a run is, as far as the options are concerned: how it starts, where its data comes from,
     * its optimizer's name (train) and the rows it evaluates (eval).
     */
    record Run(Start start, Common.DataSource data, String optimizer, Rows rows) {
        static Run train(Start start, Common.DataSource data, String optimizer) {
            return new Run(start, data, optimizer, Rows.HELD_OUT);
        }

        static Run eval(Common.DataSource data, Rows rows) {
            return new Run(Start.NEW, data, "", rows);
        }

        boolean resumed() {
            return start == Start.RESUMED;
        }
    }

    /** The runs an option applies to; {@code otherwise} completes "OPTION ..." for a run it does not apply to. */
    record Rule(Predicate<Run> applies, Function<Run, String> otherwise) {
        Rule(Predicate<Run> applies, String otherwise) {
            this(applies, run -> otherwise);
        }
    }

    private static final Predicate<Run> ALWAYS = r -> true;
    private static final String FROM_CHECKPOINT = "does not apply with --resume: the checkpoint records it and a "
            + "resumed run continues exactly as recorded (start a new run to change it)";

    static final Map<String, Rule> TRAIN = new LinkedHashMap<>();
    static final Map<String, Rule> EVAL = new LinkedHashMap<>();
    static final Map<String, Rule> PREDICT = new LinkedHashMap<>();

    static {
        Rule csvOnly = new Rule(r -> r.data().csv(), "applies to CSV data only (--csv, or a checkpoint trained on a CSV "
                + "file)");
        Rule notWithCsv = new Rule(r -> r.data() != Common.DataSource.CSV_GIVEN, "cannot be combined with --csv: give one "
                + "data source");
        for (String always : new String[] {"--help", "--version", "--verbose", "--backend", "--precision", "--csv"}) {
            TRAIN.put(always, new Rule(ALWAYS, ""));
            EVAL.put(always, new Rule(ALWAYS, ""));
        }
        TRAIN.put("--data", notWithCsv);
        TRAIN.put("--label-column", csvOnly);
        TRAIN.put("--target-columns", csvOnly);
        TRAIN.put("--test-fraction", csvOnly);
        TRAIN.put("--task", new Rule(r -> !r.resumed() && r.data().csv(),
                r -> r.resumed() ? FROM_CHECKPOINT : csvOnly.otherwise().apply(r) + "; IDX labels are classes"));
        for (String recorded : new String[] {"--layers", "--activation", "--dropout", "--optimizer", "--batch", "--seed",
                "--lr-schedule", "--warmup", "--clip-norm", "--validation-fraction", "--early-stopping"})
            TRAIN.put(recorded, new Rule(r -> !r.resumed(), FROM_CHECKPOINT));
        TRAIN.put("--momentum", new Rule(r -> !r.resumed() && List.of("momentum", "nesterov").contains(r.optimizer()),
                r -> r.resumed() ? FROM_CHECKPOINT : "applies to --optimizer momentum and nesterov only"));
        TRAIN.put("--weight-decay", new Rule(r -> !r.resumed() && r.optimizer().equals("adamw"),
                r -> r.resumed() ? FROM_CHECKPOINT : "applies to --optimizer adamw only"));
        // with --resume, --lr is a documented override of the recorded learning rate
        for (String always : new String[] {"--lr", "--epochs", "--checkpoint", "--resume", "--charts", "--report",
                "--diagnostic-rows", "--resident", "--loss-check-interval", "--no-progress"})
            TRAIN.put(always, new Rule(ALWAYS, ""));

        for (String always : new String[] {"--help", "--version", "--verbose", "--backend", "--precision", "--csv",
                "--checkpoint", "--output"})
            PREDICT.put(always, new Rule(ALWAYS, ""));
        PREDICT.put("--data", notWithCsv);

        EVAL.put("--checkpoint", new Rule(ALWAYS, ""));
        EVAL.put("--report", new Rule(ALWAYS, ""));
        EVAL.put("--data", notWithCsv);
        EVAL.put("--label-column", csvOnly);
        EVAL.put("--target-columns", csvOnly);
        EVAL.put("--all-rows", csvOnly);
        EVAL.put("--test-fraction", new Rule(r -> r.data().csv() && r.rows() == Rows.HELD_OUT,
                "applies to CSV data only, and not with --all-rows (which evaluates every row)"));
    }

    private OptionRules() {
    }

    /** Throws a {@link CliException} for the first option the user gave that {@code run} does not use. */
    static void check(CommandLine.ParseResult given, Map<String, Rule> rules, Run run) {
        for (CommandLine.Model.OptionSpec o : given.matchedOptions()) {
            String name = o.longestName();
            Rule rule = rules.get(name);
            if (rule == null) throw new IllegalStateException("no rule for option " + name + " (OptionRules)");
            if (!rule.applies().test(run)) throw new CliException(name + " " + rule.otherwise().apply(run));
        }
    }

    /** Options of {@code spec} without a rule in {@code rules} (a test keeps this empty). */
    static Set<String> missing(CommandLine.Model.CommandSpec spec, Map<String, Rule> rules) {
        Set<String> out = new java.util.TreeSet<>();
        for (CommandLine.Model.OptionSpec o : spec.options()) if (!rules.containsKey(o.longestName())) out.add(o.longestName());
        return out;
    }
}
