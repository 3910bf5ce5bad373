package io.github.backprop4j.cli;

import io.github.backprop4j.core.Checkpoint;
import io.github.backprop4j.core.Network;
import io.github.backprop4j.core.OnnxExport;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code backprop4j export}: a checkpoint as a standard ONNX model, with its normalization and class names. */
@Command(name = "export", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Export a checkpoint as a standard ONNX model (opset " + OnnxExport.OPSET + ") to serve with "
                + "ONNX Runtime or any ONNX runtime.",
                "The model takes raw features (IDX pixel values 0-255, or the CSV's feature columns), normalizes them "
                        + "as training did, and outputs the class probabilities; class names are in its metadata."})
final class ExportCommand implements Callable<Integer> {

    @Option(names = "--checkpoint", required = true, paramLabel = "FILE", description = "Checkpoint written by train.")
    Path checkpoint;
    @Option(names = "--onnx", required = true, paramLabel = "FILE", description = "ONNX file to write (atomically).")
    Path onnx;
    @Option(names = {"-v", "--verbose"}, description = "Stack traces on errors.")
    boolean verbose;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        if (Files.isDirectory(onnx)) throw new CliException("--onnx " + onnx + " is a directory; name the file to write");
        if (Files.exists(onnx) && Files.exists(checkpoint) && Files.isSameFile(onnx, checkpoint))
            throw new CliException("--onnx " + onnx + " is the checkpoint itself; writing it would destroy the checkpoint");
        Checkpoint saved = Checkpoint.readWithoutOptimizerState(checkpoint);
        Network net = saved.network();
        OnnxExport export = OnnxExport.of(saved)   // the recorded normalization and class names go with it
                .metadata("normalization_kind", saved.normalization().kind());
        saved.training().ifPresent(t -> export.metadata("epochs_trained", Integer.toString(t.epochsDone())));
        export.write(onnx);   // AtomicFiles names the file and the reason; Main makes it one line, exit 2
        out.printf("checkpoint %s (%s, %s)%n", checkpoint, net.describe(), saved.training()
                .map(t -> t.epochsDone() + " epochs").orElse("a model saved without training state"));
        out.printf(Locale.ROOT, "onnx       %s (ONNX opset %d, IR version %d, %.2f MB)%n", onnx, OnnxExport.OPSET,
                OnnxExport.IR_VERSION, Files.size(onnx) / 1e6);
        out.printf("input      '%s' [%s, %d] float32: raw features, %s%n", OnnxExport.INPUT, OnnxExport.BATCH,
                net.inputs(), saved.normalization().isIdentity() ? "fed to the first layer as they are"
                        : "normalized inside the model (" + saved.normalization().kind() + ")");
        List<String> classes = saved.classNames();
        String holds = switch (export.task()) {
            case CLASSIFY -> "class probabilities" + (classes.isEmpty() ? "" : ", classes " + String.join(", ", classes));
            case BINARY -> "probability of the positive class" + (classes.isEmpty() ? "" : " (" + classes.getLast() + ")");
            case REGRESS -> "predicted values";
        };
        out.printf("output     '%s' [%s, %d] float32: %s%n", export.outputName(), OnnxExport.BATCH, net.outputs(), holds);
        out.flush();
        return 0;
    }
}
