package io.github.backprop4j.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.backprop4j.core.Model;
import io.github.backprop4j.core.Task;

import java.util.Locale;

/**
 * A {@link Model.Evaluation} as the commands show it: the metrics of the task (accuracy for classifiers;
 * accuracy and ROC AUC for binary ones; MSE, MAE and R² in the targets' units for regression) beside the
 * loss, in a line, in an epoch's columns and in JSON under keys prefixed by the data's name.
 */
final class Scores {

    private Scores() {
    }

    /** E.g. "test accuracy 0.9350, test loss 0.2011" or "test MSE 0.1234, MAE 0.2801, R² 0.9612, loss 0.0388". */
    static String describe(String set, Task task, Model.Evaluation e) {
        return switch (task) {
            case CLASSIFY -> String.format(Locale.ROOT, "%s accuracy %.4f, %s loss %.4f", set, e.accuracy(), set, e.loss());
            case BINARY -> String.format(Locale.ROOT, "%s accuracy %.4f, AUC %s, %s loss %.4f", set, e.accuracy(),
                    auc(e), set, e.loss());
            case REGRESS -> String.format(Locale.ROOT, "%s MSE %.6g, MAE %.6g, R² %s, %s loss %.4f (standardized "
                    + "targets)", set, e.mse(), e.mae(), r2(e), set, e.loss());
        };
    }

    /** The evaluation's columns of an epoch line, e.g. "test loss 0.2011  test acc 0.9350". */
    static String epochColumns(String set, Task task, Model.Evaluation e) {
        String name = set.equals("validation") ? "val" : set;
        return switch (task) {
            case CLASSIFY -> String.format(Locale.ROOT, "%s loss %.4f  %s acc %.4f", name, e.loss(), name, e.accuracy());
            case BINARY -> String.format(Locale.ROOT, "%s loss %.4f  %s acc %.4f  %s auc %s", name, e.loss(), name,
                    e.accuracy(), name, auc(e));
            case REGRESS -> String.format(Locale.ROOT, "%s loss %.4f  %s R² %s", name, e.loss(), name, r2(e));
        };
    }

    /** The task's metrics as {@code SET_loss}, {@code SET_accuracy}, {@code SET_auc}, {@code SET_mse}, ...; null where undefined. */
    static void put(ObjectNode o, String set, Task task, Model.Evaluation e) {
        o.put(set + "_loss", e.loss());
        switch (task) {
            case CLASSIFY -> o.put(set + "_accuracy", e.accuracy());
            case BINARY -> o.put(set + "_accuracy", e.accuracy()).put(set + "_auc", defined(e.auc()));
            case REGRESS -> o.put(set + "_mse", e.mse()).put(set + "_mae", e.mae()).put(set + "_r2", defined(e.r2()));
        }
    }

    /** AUC is undefined on rows of one class. */
    private static String auc(Model.Evaluation e) {
        return Double.isNaN(e.auc()) ? "n/a (one class only)" : String.format(Locale.ROOT, "%.4f", e.auc());
    }

    /** R² is undefined on rows whose target does not vary. */
    private static String r2(Model.Evaluation e) {
        return Double.isNaN(e.r2()) ? "n/a (constant targets)" : String.format(Locale.ROOT, "%.4f", e.r2());
    }

    private static Double defined(double v) {
        return Double.isNaN(v) ? null : v;
    }
}
