package io.github.backprop4j.cuda;

import io.github.backprop4j.core.BackendException;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUresult;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * {@code Device.replay} as CUDA graphs, private to this backend: the first call of a key runs its body
 * eagerly (cuBLAS and cuBLASLt finish their lazy set-up outside any capture); the second captures the
 * body on the stream into a graph, instantiates and launches it; later calls launch the graph. The ops
 * have no host-side effects (the optimizer's step count is device state), so a launch is all a replay
 * needs. A body that cannot be captured runs op by op from then on (logged once). Freeing any device
 * buffer discards every recording, since a graph holds raw pointers.
 */
final class CudaGraphs {

    private static final int CU_STREAM_CAPTURE_MODE_THREAD_LOCAL = 1;

    /** Thrown inside a capture when the body needs something a graph cannot hold. */
    static final class Unrecordable extends RuntimeException {
        Unrecordable(String why) {
            super(why, null, false, false);
        }
    }

    /** One key's step: once captured, the graph. */
    private static final class Recording {
        CUgraph graph;
        CUgraphExec exec;
        String unrecordable;
    }

    private final CudaDriver driver;
    private final CudaDriver.Stream stream;
    private final Map<Object, Recording> recordings = new IdentityHashMap<>();
    private Recording collecting;
    private boolean capturing;

    CudaGraphs(CudaDriver driver, CudaDriver.Stream stream) {
        this.driver = driver;
        this.stream = stream;
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
            CudaDevice.check(driver.graphLaunch(r.exec, stream), "cuGraphLaunch");
        }
    }

    /**
     * Captures the body. Whatever it throws (an Error too), the capture is ended and its graph
     * discarded before anything else happens: a stream left capturing refuses all later work.
     */
    private void capture(Object key, Recording r, Runnable body) {
        CudaDevice.check(driver.streamBeginCapture(stream, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL), "cuStreamBeginCapture");
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
        if (failure == null && !graphMade) failure = new Unrecordable("cuStreamEndCapture: " + CudaDevice.errorName(rc));
        CUgraphExec exec = new CUgraphExec();
        if (failure == null) {
            rc = driver.graphInstantiate(exec, graph);
            if (rc != CUresult.CUDA_SUCCESS) failure = new Unrecordable("cuGraphInstantiate: " + CudaDevice.errorName(rc));
        }
        if (failure != null) {
            if (graphMade) driver.graphDestroy(graph);
            // Nothing captured ran (a capture only records): do the work op by op.
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
        CudaDevice.check(driver.graphLaunch(exec, stream), "cuGraphLaunch");
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
            if (rc != 0 && first == null) first = "cuGraphExecDestroy: " + CudaDevice.errorName(rc);
            rc = r.graph == null ? 0 : driver.graphDestroy(r.graph);
            if (rc != 0 && first == null) first = "cuGraphDestroy: " + CudaDevice.errorName(rc);
        }
        recordings.clear();
        return first;
    }
}
