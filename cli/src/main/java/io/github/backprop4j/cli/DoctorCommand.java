package io.github.backprop4j.cli;

import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.BackendOptions;
import io.github.backprop4j.core.Backends;
import io.github.backprop4j.core.spi.Availability;
import io.github.backprop4j.core.spi.BackendProvider;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;

/** Lists every backend provider on the class path with its probe result. */
@Command(name = "doctor", mixinStandardHelpOptions = true,
        description = "List every backend on the class path: available or not, why, and the device.")
final class DoctorCommand implements Callable<Integer> {

    @CommandLine.Option(names = {"-v", "--verbose"}, description = "Stack traces on errors.")
    boolean verbose;

    @CommandLine.Option(names = "--versions", description = "Also open each available backend and print its driver and "
            + "runtime versions (OpenCL tunes its SGEMM tiling on a device's first use).")
    boolean versions;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        List<BackendProvider> providers = Backends.providers();
        out.println("java " + Runtime.version() + " (" + System.getProperty("java.vendor") + "), "
                + Runtime.getRuntime().availableProcessors() + " cores, vector module "
                + (ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent() ? "loaded" : "NOT loaded"));
        if (providers.isEmpty()) {
            out.println("no backends on the class path");
            return 1;
        }
        String requested = Backends.requestedName();
        String best = null;
        out.printf("%-8s %-8s %-12s %s%n", "backend", "priority", "status", "device / reason");
        for (BackendProvider p : providers) {
            Availability a;
            try {
                a = p.probe();
            } catch (RuntimeException | LinkageError e) {
                a = Availability.unavailable("probe failed: " + e);
            }
            if (a.available() && best == null) best = p.name();
            out.printf("%-8s %-8d %-12s %s%n", p.name(), p.priority(), a.available() ? "available" : "unavailable",
                    a.available() ? a.device() : a.reason());
            if (versions && a.available()) {
                try (Backend b = Backends.open(p, BackendOptions.defaults())) {
                    out.printf("%-8s %-8s %-12s %s%n", "", "", "versions", b.runtimeVersion());
                } catch (RuntimeException | LinkageError e) {
                    out.printf("%-8s %-8s %-12s %s%n", "", "", "open failed", Errors.describe(e));
                }
            }
        }
        out.println(requested != null ? "selected by " + Backends.PROPERTY + " / " + Backends.ENVIRONMENT + ": " + requested
                : "default backend: " + (best == null ? "none available" : best));
        out.flush();
        return best == null ? 1 : 0;
    }
}
