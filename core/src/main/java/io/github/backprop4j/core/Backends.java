package io.github.backprop4j.core;

import io.github.backprop4j.core.spi.Availability;
import io.github.backprop4j.core.spi.BackendProvider;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.ServiceLoader;
import java.util.stream.Collectors;

/**
 * Finds backends on the class path ({@link ServiceLoader}) and opens one: the entry point to a
 * {@link Backend}.
 *
 * <p>Choice: an explicit name wins; otherwise the system property {@code backprop4j.backend}, then the
 * environment variable {@code BACKPROP4J_BACKEND}; otherwise the available provider with the highest
 * priority. A backend that was asked for by name and is unavailable is an error carrying the probe's
 * reason, never a silent fallback.
 *
 * <pre>
 * try (Backend backend = Backends.best()) { ... }              // cuda &gt; opencl &gt; cpu, or as requested
 * try (Backend cpu = Backends.open("cpu")) { ... }
 * for (BackendProvider p : Backends.providers()) System.out.println(p.name() + ": " + p.probe().reason());
 * </pre>
 */
public final class Backends {

    /** The system property naming the backend to open. */
    public static final String PROPERTY = "backprop4j.backend";
    /** The environment variable naming the backend to open, when the property is not set. */
    public static final String ENVIRONMENT = "BACKPROP4J_BACKEND";

    private Backends() {
    }

    /**
     * Every provider on the class path, highest priority first.
     *
     * @return the providers, available or not
     */
    public static List<BackendProvider> providers() {
        List<BackendProvider> all = unranked();
        all.sort(Comparator.comparingInt(BackendProvider::priority).reversed()
                .thenComparing(BackendProvider::name));
        return all;
    }

    private static List<BackendProvider> unranked() {
        List<BackendProvider> all = new ArrayList<>();
        ServiceLoader.load(BackendProvider.class, Backends.class.getClassLoader()).forEach(all::add);
        return all;
    }

    /**
     * The provider with this name.
     *
     * @param name e.g. "cpu"
     * @return the provider
     * @throws BackendException listing the known names, for an unknown one
     */
    public static BackendProvider provider(String name) {
        // by name only: ranking would ask every provider for its priority, and OpenCL's enumerates its
        // devices, which costs a CPU-only start ~100 ms (PoCL) for a backend it never opens
        return named(unranked(), name);
    }

    static BackendProvider named(List<BackendProvider> all, String name) {
        String wanted = name.trim().toLowerCase(Locale.ROOT);
        return all.stream().filter(p -> p.name().equals(wanted)).findFirst().orElseThrow(() ->
                new BackendException("unknown backend '" + name + "': the class path has "
                        + (all.isEmpty() ? "no backends (add backprop4j-cpu, -cuda or -opencl)"
                        : all.stream().map(BackendProvider::name).sorted().collect(Collectors.joining(", ")))));
    }

    /**
     * The backend named by {@link #PROPERTY} or {@link #ENVIRONMENT}.
     *
     * @return the name, or null when neither is set
     */
    public static String requestedName() {
        String p = System.getProperty(PROPERTY);
        if (p != null && !p.isBlank()) return p.trim();
        String e = System.getenv(ENVIRONMENT);
        if (e != null && !e.isBlank()) return e.trim();
        return null;
    }

    /**
     * Opens the requested backend (property / environment) or else the best available one, with the
     * default options.
     *
     * @return the open backend, to close when done
     * @throws BackendException when none is available (with every probe's reason) or the requested one is not
     */
    public static Backend best() {
        return best(BackendOptions.defaults());
    }

    /**
     * As {@link #best()}, with options.
     *
     * @param options device, precision and threads
     * @return the open backend
     */
    public static Backend best(BackendOptions options) {
        String requested = requestedName();
        if (requested != null) return open(requested, options);
        List<String> reasons = new ArrayList<>();
        for (BackendProvider p : providers()) {
            Availability a = p.probe();
            if (a.available()) return open(p, options);
            reasons.add(p.name() + ": " + a.reason());
        }
        throw new BackendException("no backend is available" + (reasons.isEmpty()
                ? ": the class path has no backends (add backprop4j-cpu, -cuda or -opencl)"
                : " (" + String.join("; ", reasons) + ")"));
    }

    /**
     * Opens the backend with this name.
     *
     * @param name    e.g. "opencl"
     * @param options device, precision and threads
     * @return the open backend
     * @throws BackendException carrying the probe's reason, when it is unavailable
     */
    public static Backend open(String name, BackendOptions options) {
        BackendProvider p = provider(name);
        Availability a = p.probe();
        if (!a.available())
            throw new BackendException("backend '" + p.name() + "' is unavailable: " + a.reason());
        return open(p, options);
    }

    /**
     * Opens the provider's device and wraps it in the validating {@link Backend} handle.
     *
     * @param provider a provider (not probed again)
     * @param options  device, precision and threads
     * @return the open backend
     */
    public static Backend open(BackendProvider provider, BackendOptions options) {
        return Backend.of(provider.name(), options.precision(), provider.open(options));
    }

    /**
     * Opens the backend with this name and the default options.
     *
     * @param name e.g. "cpu"
     * @return the open backend
     */
    public static Backend open(String name) {
        return open(name, BackendOptions.defaults());
    }
}
