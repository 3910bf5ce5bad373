package io.github.backprop4j.cuda;

import io.github.backprop4j.core.BackendException;
import io.github.backprop4j.core.Optimizer;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUresult;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code Backend.replay} as CUDA graphs: the first call of a key runs its body eagerly (cuBLAS and
 * cuBLASLt finish their lazy set-up outside any capture) and notes the optimizer states its updates
 * advance; the second captures the body on the stream into a graph, instantiates and launches it;
 * later calls launch the graph and advance the noted states on the host. A body that cannot be
 * captured runs op by op from then on (logged once).
 */
final class CudaGraphs {

    private static final int CU_STREAM_CAPTURE_MODE_THREAD_LOCAL = 1;

    /** What a replayed step's updates do on the host around the launch of its graph. */
    interface Updates {
        /** Before the launch: make the device's view of each state match the host's (Adam's step). */
        void beforeLaunch(List<Optimizer.State> states);

        /** After the launch: advance each state as its update would have. */
        void afterLaunch(List<Optimizer.State> states);
    }

    /** Thrown inside a capture when the body needs something a graph cannot hold. */
    static final class Unrecordable extends RuntimeException {
        Unrecordable(String why) {
            super(why, null, false, false);
        }
    }

    /** One key's step: the states its updates advance, and once captured, the graph. */
    private static final class Recording {
        final List<Optimizer.State> states = new ArrayList<>();
        CUgraph graph;
        CUgraphExec exec;
        String unrecordable;
    }

    private final CudaDriver driver;
    private final CudaDriver.Stream stream;
    private final Updates updates;
    private final Map<Object, Recording> recordings = new IdentityHashMap<>();
    private Recording collecting;
    private boolean capturing;

    CudaGraphs(CudaDriver driver, CudaDriver.Stream stream, Updates updates) {
        this.driver = driver;
        this.stream = stream;
        this.updates = updates;
    }

    /** Whether the stream is capturing a body now (work that needs the host must refuse). */
    boolean capturing() {
        return capturing;
    }

    /** An update ran: the state belongs to the step being collected, if any. */
    void updated(Optimizer.State state) {
        if (collecting != null) collecting.states.add(state);
    }

    void replay(Object key, Runnable body) {
        if (capturing || collecting != null) {
            body.run();
            return;
        }
        Recording r = recordings.get(key);
        if (r == null) {
            r = new Recording();
            recordings.put(key, r);
            collecting = r;
            try {
                body.run();
            } catch (Throwable t) {
                recordings.remove(key); // half collected: the next call starts afresh
                throw t;
            } finally {
                collecting = null;
            }
        } else if (r.unrecordable != null) {
            body.run();
        } else if (r.exec == null) {
            capture(key, r, body);
        } else {
            updates.beforeLaunch(r.states);
            CudaBackend.check(driver.graphLaunch(r.exec, stream), "cuGraphLaunch");
            updates.afterLaunch(r.states);
        }
    }

    /**
     * Captures the body. Whatever it throws (an Error too), the capture is ended and its graph
     * discarded before anything else happens: a stream left capturing refuses all later work.
     */
    private void capture(Object key, Recording r, Runnable body) {
        long[] stepsBefore = new long[r.states.size()];
        for (int i = 0; i < stepsBefore.length; i++) stepsBefore[i] = r.states.get(i).step();
        CudaBackend.check(driver.streamBeginCapture(stream, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL), "cuStreamBeginCapture");
        capturing = true;
        Throwable failure = null;
        try {
            body.run();
        } catch (Throwable e) {
            failure = e;
        } finally {
            capturing = false;
        }
        CUgraph graph = new CUgraph();
        int rc = driver.streamEndCapture(stream, graph);
        boolean graphMade = rc == CUresult.CUDA_SUCCESS;
        if (failure == null && !graphMade) failure = new Unrecordable("cuStreamEndCapture: " + CudaBackend.errorName(rc));
        CUgraphExec exec = new CUgraphExec();
        if (failure == null) {
            rc = driver.graphInstantiate(exec, graph);
            if (rc != CUresult.CUDA_SUCCESS) failure = new Unrecordable("cuGraphInstantiate: " + CudaBackend.errorName(rc));
        }
        if (failure != null) {
            if (graphMade) driver.graphDestroy(graph);
            // Nothing captured ran: undo the host-side step counts, then do the work op by op.
            for (int i = 0; i < stepsBefore.length; i++) r.states.get(i).setStep(stepsBefore[i]);
            if (failure instanceof Error e) throw e;
            if (!(failure instanceof RuntimeException e)) throw new IllegalStateException("the step threw " + failure, failure);
            if (!(e instanceof Unrecordable) && !(e instanceof BackendException)) throw e;
            // Not capturable: op by op from now on, if it runs that way at all.
            try {
                body.run();
            } catch (Throwable t) {
                recordings.remove(key);
                throw t;
            }
            r.unrecordable = failure.getMessage();
            System.getLogger("backprop4j.cuda").log(System.Logger.Level.INFO,
                    "step not recorded as a CUDA graph (" + r.unrecordable + "); running it op by op");
            return;
        }
        r.graph = graph;
        r.exec = exec;
        CudaBackend.check(driver.graphLaunch(exec, stream), "cuGraphLaunch");
    }

    void forget(Object key) {
        Recording r = recordings.remove(key);
        if (r != null) destroy(r);
    }

    /** Before device memory is freed: a graph holds raw pointers, and any of them may be the one freed. */
    void discardAll() {
        if (recordings.isEmpty()) return;
        driver.streamSynchronize(stream);
        for (Recording r : recordings.values()) destroy(r);
        recordings.clear();
    }

    private void destroy(Recording r) {
        if (r.exec != null) driver.graphExecDestroy(r.exec);
        if (r.graph != null) driver.graphDestroy(r.graph);
        r.exec = null;
        r.graph = null;
    }

    /** At the backend's close: destroys every graph; the first failure's description, or null. */
    String release() {
        String first = null;
        for (Recording r : recordings.values()) {
            int rc = r.exec == null ? 0 : driver.graphExecDestroy(r.exec);
            if (rc != 0 && first == null) first = "cuGraphExecDestroy: " + CudaBackend.errorName(rc);
            rc = r.graph == null ? 0 : driver.graphDestroy(r.graph);
            if (rc != 0 && first == null) first = "cuGraphDestroy: " + CudaBackend.errorName(rc);
        }
        recordings.clear();
        return first;
    }
}
