package io.github.backprop4j.cuda;

import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.Precision;
import jcuda.driver.CUcontext;
import jcuda.driver.CUevent;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUresult;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A HOST STAND-IN for the CUDA driver, cuBLAS and cuBLASLt, for testing CudaDevice's host logic on
 * machines without a GPU. It proves what the backend asks of the driver (order, chunking, contexts,
 * capture, error handling, freeing), never what a GPU does: passing here is not GPU verification.
 *
 * <p>How it models the driver:
 * <ul>
 * <li>Device and pinned host memory are real native blocks (so copies and GEMMs have somewhere to
 *     go), filled with NaN bytes when allocated, as the driver does not zero them. Every access is
 *     checked against the live blocks; a stray address is a recorded {@link #violations() violation},
 *     never a read of freed memory.</li>
 * <li>Streams are queues: asynchronous work runs only when the host waits (stream or event
 *     synchronize, or the implicit synchronization of freeing), so a backend that reuses a staging
 *     buffer or reads a download before waiting gets stale data here.</li>
 * <li>A capturing stream records its work into a graph; a graph launch enqueues the recorded work
 *     again, reading memory (including pinned host buffers) as it is at that time. Synchronizing or
 *     allocating on the capturing thread is refused and invalidates the capture, as in
 *     {@code CU_STREAM_CAPTURE_MODE_THREAD_LOCAL}.</li>
 * <li>Calls need the caller's context current on the calling thread; another one (see
 *     {@link #makeForeignContextCurrent()}) fails them with CUDA_ERROR_INVALID_CONTEXT, stricter
 *     than the driver, which would run them in the wrong context.</li>
 * <li>Our kernels run as Java ({@link StandInKernels}) and GEMMs as plain loops over the BLAS
 *     definitions; results are checked by the tests that use them, against float64 references.</li>
 * </ul>
 * Failures can be injected per call ({@link #failCall}), cuBLASLt statuses per epilogue, and the
 * leak report ({@link #leaks()}) lists whatever is still allocated, created or retained.
 */
final class HostStandInDriver implements CudaDriver {

    static final int CUBLAS_STATUS_SUCCESS = 0;
    static final int CUBLAS_STATUS_INVALID_VALUE = 7;
    static final int CUBLAS_STATUS_NOT_SUPPORTED = 15;

    private static final Object FOREIGN_CONTEXT = new Object() {
        @Override
        public String toString() {
            return "another library's context";
        }
    };

    private final long totalBytes;
    private final int devices;
    private final Arena tokens = Arena.ofShared();
    private final TreeMap<Long, Block> deviceBlocks = new TreeMap<>();
    private final TreeMap<Long, Block> pinnedBlocks = new TreeMap<>();
    private long deviceBytesInUse;
    private long pinnedBytesInUse;
    private long peakPinnedBytes;
    private long largestPinnedBlock;

    private final Map<CUcontext, Integer> contextOrdinals = new IdentityHashMap<>();
    private final int[] retains;
    private final ThreadLocal<Object> current = new ThreadLocal<>();

    private final Map<Stream, StreamState> streams = new IdentityHashMap<>();
    private final Map<CUevent, EventState> events = new IdentityHashMap<>();
    private final Map<CUgraph, List<Op>> graphs = new IdentityHashMap<>();
    private final Map<CUgraphExec, List<Op>> execs = new IdentityHashMap<>();
    private boolean kernelsLoaded;
    private boolean checkedAtLastRelease;

    private final Map<Long, StreamHolder> cublasHandles = new HashMap<>();
    private final Map<Long, String> ltHandles = new HashMap<>();
    private final Map<Long, Map<Integer, Long>> ltDescs = new HashMap<>();
    private final Map<Long, long[]> ltLayouts = new HashMap<>();
    private final Map<Long, String> ltPreferences = new HashMap<>();
    private final Map<Integer, Integer> heuristicStatus = new HashMap<>();
    private final Map<Integer, Integer> matmulStatus = new HashMap<>();

    private final Map<String, Integer> calls = new TreeMap<>();
    private final Map<String, int[]> failures = new HashMap<>();
    private final List<String> violations = new ArrayList<>();

    /** One device of {@code totalBytes}. */
    HostStandInDriver(long totalBytes) {
        this(totalBytes, 1);
    }

    HostStandInDriver(long totalBytes, int devices) {
        this.totalBytes = totalBytes;
        this.devices = devices;
        this.retains = new int[devices];
    }

    // =============================================================================================
    // What tests read and set
    // =============================================================================================

    /**
     * From now on the last release of the primary context (the backend's close) throws an
     * AssertionError if anything leaked or any violation was seen: what the conformance suites use.
     */
    void checkAtLastRelease() {
        checkedAtLastRelease = true;
    }

    /** A CUDA backend on device 0 of this stand-in. */
    Backend open() {
        return open(PinnedStaging.DEFAULT_CHUNK_BYTES);
    }

    /** A CUDA backend on device 0 of this stand-in whose transfers go through pinned chunks of {@code chunkBytes}. */
    Backend open(long chunkBytes) {
        return Backend.of("cuda", Precision.FP32, openDevice(chunkBytes));
    }

    /** The CUDA device itself, without the handle, on device 0 of this stand-in. */
    CudaDevice openDevice(long chunkBytes) {
        return new CudaDevice(this, 0, Precision.FP32, CudaDevice.Fusion.DEFAULT, chunkBytes);
    }

    /** How often each call was made (driver entry point names, e.g. "cuMemAlloc"). */
    synchronized int calls(String name) {
        return calls.getOrDefault(name, 0);
    }

    synchronized Map<String, Integer> callCounts() {
        return new TreeMap<>(calls);
    }

    /** Misuse seen: stray addresses, wrong context, illegal calls during capture, unknown handles. */
    synchronized List<String> violations() {
        return new ArrayList<>(violations);
    }

    /** Everything still allocated, created or retained. */
    synchronized List<String> leaks() {
        List<String> l = new ArrayList<>();
        deviceBlocks.values().forEach(b -> l.add("device memory " + b));
        pinnedBlocks.values().forEach(b -> l.add("pinned host memory " + b));
        for (int d = 0; d < devices; d++) if (retains[d] != 0) l.add("primary context " + d + " retained " + retains[d] + "×");
        if (!streams.isEmpty()) l.add(streams.size() + " stream(s)");
        if (!events.isEmpty()) l.add(events.size() + " event(s)");
        if (!graphs.isEmpty()) l.add(graphs.size() + " graph(s)");
        if (!execs.isEmpty()) l.add(execs.size() + " graph exec(s)");
        if (kernelsLoaded) l.add("kernel modules");
        if (!cublasHandles.isEmpty()) l.add(cublasHandles.size() + " cuBLAS handle(s)");
        if (!ltHandles.isEmpty()) l.add(ltHandles.size() + " cuBLASLt handle(s)");
        if (!ltDescs.isEmpty()) l.add(ltDescs.size() + " cuBLASLt matmul desc(s)");
        if (!ltLayouts.isEmpty()) l.add(ltLayouts.size() + " cuBLASLt layout(s)");
        if (!ltPreferences.isEmpty()) l.add(ltPreferences.size() + " cuBLASLt preference(s)");
        return l;
    }

    synchronized long deviceBytesInUse() {
        return deviceBytesInUse;
    }

    synchronized long pinnedBytesInUse() {
        return pinnedBytesInUse;
    }

    /** The most pinned host memory held at once, and the largest single pinned block, since creation. */
    synchronized long peakPinnedBytes() {
        return peakPinnedBytes;
    }

    synchronized long largestPinnedBlock() {
        return largestPinnedBlock;
    }

    /** The {@code occurrence}-th call (1 = the next) of {@code name} from now returns {@code rc} instead of running. */
    synchronized void failCall(String name, int occurrence, int rc) {
        failures.put(name, new int[]{calls(name) + occurrence, rc});
    }

    /** cublasLtMatmulAlgoGetHeuristic for this epilogue returns {@code status}. */
    synchronized void heuristicStatus(int epilogue, int status) {
        heuristicStatus.put(epilogue, status);
    }

    /** cublasLtMatmul with this epilogue returns {@code status} (after a successful heuristic), doing nothing. */
    synchronized void matmulStatus(int epilogue, int status) {
        matmulStatus.put(epilogue, status);
    }

    /** What another library does on this thread: makes its own context current. */
    void makeForeignContextCurrent() {
        current.set(FOREIGN_CONTEXT);
    }

    /** Runs every queued operation, as if the device caught up. */
    synchronized void drain() {
        for (StreamState s : streams.values()) s.runUntil(s.enqueued);
    }

    // =============================================================================================
    // Bookkeeping
    // =============================================================================================

    /** One native block standing in for device or pinned host memory. */
    private record Block(long address, long bytes, Arena arena, MemorySegment segment, Object context) {
        @Override
        public String toString() {
            return bytes + " bytes at 0x" + Long.toHexString(address);
        }
    }

    /** A queued or recorded operation; a graph holds the same objects and replays them. */
    private record Op(String what, Runnable body) {
    }

    private final class StreamState {
        final Object context;
        final ArrayDeque<Op> pending = new ArrayDeque<>();
        long enqueued;
        long completed;
        List<Op> capture;
        Thread captureThread;
        String invalidated;

        StreamState(Object context) {
            this.context = context;
        }

        void runUntil(long sequence) {
            while (completed < sequence && !pending.isEmpty()) {
                Op op = pending.poll();
                completed++;
                try {
                    op.body().run();
                } catch (RuntimeException e) {
                    violation(op.what() + " failed on the stream: " + e);
                }
            }
        }
    }

    private record EventState(StreamState stream, long sequence) {
    }

    /** Which stream a cuBLAS handle enqueues on. */
    private static final class StreamHolder {
        Stream stream;
    }

    private synchronized void violation(String what) {
        violations.add(what + " (thread " + Thread.currentThread().getName() + ")");
    }

    /** Counts the call; returns an injected failure code, or 0. */
    private synchronized int enter(String name) {
        int n = calls.merge(name, 1, Integer::sum);
        int[] f = failures.get(name);
        if (f != null && f[0] == n) {
            failures.remove(name);
            return f[1];
        }
        return 0;
    }

    /** The context current on this thread, or CUDA_ERROR_INVALID_CONTEXT's reason. */
    private Object currentContext() {
        return current.get();
    }

    private boolean contextIsOurs(String call) {
        Object c = current.get();
        if (c instanceof Integer) return true;
        violation(call + " with " + (c == null ? "no context" : c) + " current");
        return false;
    }

    private StreamState stream(Stream s, String call) {
        StreamState st = streams.get(s);
        if (st == null) violation(call + " on an unknown or destroyed stream");
        else if (!Objects.equals(st.context, currentContext())) {
            violation(call + " on a stream of context " + st.context + " while " + currentContext() + " is current");
            return null;
        }
        return st;
    }

    private StreamState capturingOnThisThread() {
        for (StreamState s : streams.values())
            if (s.capture != null && s.captureThread == Thread.currentThread()) return s;
        return null;
    }

    /** A call the capture mode forbids on a capturing thread: refused, and the capture is invalidated. */
    private boolean refusedDuringCapture(String call) {
        StreamState s = capturingOnThisThread();
        if (s == null) return false;
        if (s.invalidated == null) s.invalidated = call + " during stream capture";
        return true;
    }

    private void enqueue(StreamState s, String what, Runnable body) {
        Op op = new Op(what, body);
        if (s.capture != null) {
            s.capture.add(op);
        } else {
            s.pending.add(op);
            s.enqueued++;
        }
    }

    /** The live block holding [address, address + bytes), or null (a violation). */
    private synchronized MemorySegment range(TreeMap<Long, Block> blocks, long address, long bytes, String what) {
        Map.Entry<Long, Block> e = blocks.floorEntry(address);
        if (e == null || bytes < 0 || address + bytes > e.getValue().address() + e.getValue().bytes()) {
            violation(what + ": [0x" + Long.toHexString(address) + ", +" + bytes + ") is not inside one live "
                    + (blocks == deviceBlocks ? "device" : "pinned host") + " block");
            return null;
        }
        Block b = e.getValue();
        return b.segment().asSlice(address - b.address(), bytes);
    }

    /** Device memory [address, address + floats·4) as a segment for the kernels; null (a violation) if stray. */
    MemorySegment deviceFloats(long address, long floats, String what) {
        return range(deviceBlocks, address, floats * Float.BYTES, what);
    }

    private long allocate(TreeMap<Long, Block> blocks, long bytes) {
        Arena arena = Arena.ofShared();
        MemorySegment seg = arena.allocate(Math.max(bytes, 1), 256);
        seg.fill((byte) 0xFF); // NaN floats: memory the driver hands out is not zeroed
        Block b = new Block(seg.address(), bytes, arena, seg, currentContext());
        blocks.put(b.address(), b);
        return b.address();
    }

    /** Freeing synchronizes implicitly, as cuMemFree and cuMemFreeHost do. */
    private int free(TreeMap<Long, Block> blocks, long address, String call) {
        drain();
        Block b = blocks.remove(address);
        if (b == null) {
            violation(call + " of 0x" + Long.toHexString(address) + ", which is not a live block");
            return CUresult.CUDA_ERROR_INVALID_VALUE;
        }
        b.arena().close();
        if (blocks == deviceBlocks) deviceBytesInUse -= b.bytes();
        else pinnedBytesInUse -= b.bytes();
        return CUresult.CUDA_SUCCESS;
    }

    // =============================================================================================
    // Device, context
    // =============================================================================================

    @Override
    public synchronized int retainPrimaryContext(int ordinal, CUcontext context) {
        int rc = enter("cuDevicePrimaryCtxRetain");
        if (rc != 0) return rc;
        if (ordinal < 0 || ordinal >= devices) return CUresult.CUDA_ERROR_INVALID_DEVICE;
        contextOrdinals.put(context, ordinal);
        retains[ordinal]++;
        return CUresult.CUDA_SUCCESS;
    }

    @Override
    public synchronized int releasePrimaryContext(int ordinal) {
        int rc = enter("cuDevicePrimaryCtxRelease");
        if (rc != 0) return rc;
        if (retains[ordinal] == 0) {
            violation("cuDevicePrimaryCtxRelease of a context that is not retained");
            return CUresult.CUDA_ERROR_INVALID_CONTEXT;
        }
        retains[ordinal]--;
        if (checkedAtLastRelease && retains[ordinal] == 0 && (!leaks().isEmpty() || !violations.isEmpty()))
            throw new AssertionError("host stand-in at the backend's close: leaks " + leaks() + ", violations " + violations);
        return CUresult.CUDA_SUCCESS;
    }

    @Override
    public synchronized int setCurrentContext(CUcontext context) {
        int rc = enter("cuCtxSetCurrent");
        if (rc != 0) return rc;
        Integer ordinal = contextOrdinals.get(context);
        if (ordinal == null) return CUresult.CUDA_ERROR_INVALID_CONTEXT;
        current.set(ordinal);
        return CUresult.CUDA_SUCCESS;
    }

    @Override
    public synchronized int memGetInfo(long[] free, long[] total) {
        int rc = enter("cuMemGetInfo");
        if (rc != 0) return rc;
        if (!contextIsOurs("cuMemGetInfo")) return CUresult.CUDA_ERROR_INVALID_CONTEXT;
        free[0] = totalBytes - deviceBytesInUse;
        total[0] = totalBytes;
        return CUresult.CUDA_SUCCESS;
    }

    @Override
    public String describeDevice(int ordinal) {
        return "host stand-in device " + ordinal + " (not a GPU)";
    }

    @Override
    public int multiprocessors(int ordinal) {
        return 2;
    }

    @Override
    public String runtimeVersion() {
        return "host stand-in driver (no CUDA)";
    }

    // =============================================================================================
    // Memory
    // =============================================================================================

    @Override
    public synchronized int memAlloc(long[] address, long bytes) {
        int rc = enter("cuMemAlloc");
        if (rc != 0) return rc;
        if (!contextIsOurs("cuMemAlloc")) return CUresult.CUDA_ERROR_INVALID_CONTEXT;
        if (refusedDuringCapture("cuMemAlloc")) return CUresult.CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
        if (bytes <= 0) return CUresult.CUDA_ERROR_INVALID_VALUE;
        if (bytes > totalBytes - deviceBytesInUse) return CUresult.CUDA_ERROR_OUT_OF_MEMORY;
        address[0] = allocate(deviceBlocks, bytes);
        deviceBytesInUse += bytes;
        return CUresult.CUDA_SUCCESS;
    }

    @Override
    public synchronized int memFree(long address) {
        int rc = enter("cuMemFree");
        if (rc != 0) return rc;
        if (!contextIsOurs("cuMemFree")) return CUresult.CUDA_ERROR_INVALID_CONTEXT;
        if (refusedDuringCapture("cuMemFree")) return CUresult.CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
        return free(deviceBlocks, address, "cuMemFree");
    }

    @Override
    public synchronized int memsetD32Async(long address, int value, long count, Stream stream) {
        int rc = enter("cuMemsetD32Async");
        if (rc != 0) return rc;
        StreamState s = stream(stream, "cuMemsetD32Async");
        if (s == null) return CUresult.CUDA_ERROR_INVALID_CONTEXT;
        if (range(deviceBlocks, address, count * 4, "cuMemsetD32Async") == null) return CUresult.CUDA_ERROR_INVALID_VALUE;
        enqueue(s, "cuMemsetD32Async", () -> {
            MemorySegment m = range(deviceBlocks, address, count * 4, "cuMemsetD32Async (running)");
            if (m != null) for (long i = 0; i < count; i++) m.set(JAVA_INT, i * 4, value);
        });
        return CUresult.CUDA_SUCCESS;
    }

    @Override
    public synchronized int memAllocHost(long[] address, long bytes) {
        int rc = enter("cuMemAllocHost");
        if (rc != 0) return rc;
        if (!contextIsOurs("cuMemAllocHost")) return CUresult.CUDA_ERROR_INVALID_CONTEXT;
        if (refusedDuringCapture("cuMemAllocHost")) return CUresult.CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
        if (bytes <= 0) return CUresult.CUDA_ERROR_INVALID_VALUE;
        address[0] = allocate(pinnedBlocks, bytes);
        pinnedBytesInUse += bytes;
        peakPinnedBytes = Math.max(peakPinnedBytes, pinnedBytesInUse);
        largestPinnedBlock = Math.max(largestPinnedBlock, bytes);
        return CUresult.CUDA_SUCCESS;
    }

    @Override
    public synchronized int memFreeHost(long address) {
        int rc = enter("cuMemFreeHost");
        if (rc != 0) return rc;
        if (!contextIsOurs("cuMemFreeHost")) return CUresult.CUDA_ERROR_INVALID_CONTEXT;
        if (refusedDuringCapture("cuMemFreeHost")) return CUresult.CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
        return free(pinnedBlocks, address, "cuMemFreeHost");
    }

    /** Pinned host memory as a segment, for tests that look at a staging buffer. */
    synchronized MemorySegment pinned(long address, long bytes) {
        return range(pinnedBlocks, address, bytes, "test read of pinned memory");
    }

    @Override
    public synchronized int memcpyHtoDAsync(long device, long host, long bytes, Stream stream) {
        int rc = enter("cuMemcpyHtoDAsync");
        if (rc != 0) return rc;
        return copy(stream, "cuMemcpyHtoDAsync", pinnedBlocks, host, deviceBlocks, device, bytes);
    }

    @Override
    public synchronized int memcpyDtoHAsync(long host, long device, long bytes, Stream stream) {
        int rc = enter("cuMemcpyDtoHAsync");
        if (rc != 0) return rc;
        return copy(stream, "cuMemcpyDtoHAsync", deviceBlocks, device, pinnedBlocks, host, bytes);
    }

    private int copy(Stream stream, String call, TreeMap<Long, Block> fromBlocks, long from, TreeMap<Long, Block> toBlocks,
                     long to, long bytes) {
        StreamState s = stream(stream, call);
        if (s == null) return CUresult.CUDA_ERROR_INVALID_CONTEXT;
        if (range(fromBlocks, from, bytes, call + " source") == null || range(toBlocks, to, bytes, call + " destination") == null)
            return CUresult.CUDA_ERROR_INVALID_VALUE;
        enqueue(s, call + " of " + bytes + " bytes", () -> {
            MemorySegment src = range(fromBlocks, from, bytes, call + " source (running)");
            MemorySegment dst = range(toBlocks, to, bytes, call + " destination (running)");
            if (src != null && dst != null) dst.copyFrom(src);
        });
        return CUresult.CUDA_SUCCESS;
    }

    // =============================================================================================
    // Streams, events
    // =============================================================================================

    @Override
    public synchronized int streamCreate(Stream stream, int flags) {
        int rc = enter("cuStreamCreate");
        if (rc != 0) return rc;
        if (!contextIsOurs("cuStreamCreate")) return CUresult.CUDA_ERROR_INVALID_CONTEXT;
        streams.put(stream, new StreamState(currentContext()));
        return CUresult.CUDA_SUCCESS;
    }

    @Override
    public synchronized int streamDestroy(Stream stream) {
        int rc = enter("cuStreamDestroy");
        if (rc != 0) return rc;
        StreamState s = stream(stream, "cuStreamDestroy");
        if (s == null) return CUresult.CUDA_ERROR_INVALID_HANDLE;
        if (s.capture != null) violation("cuStreamDestroy of a stream that is still capturing");
        s.runUntil(s.enqueued);
        streams.remove(stream);
        return CUresult.CUDA_SUCCESS;
    }

    @Override
    public synchronized int streamSynchronize(Stream stream) {
        int rc = enter("cuStreamSynchronize");
        if (rc != 0) return rc;
        StreamState s = stream(stream, "cuStreamSynchronize");
        if (s == null) return CUresult.CUDA_ERROR_INVALID_CONTEXT;
        if (refusedDuringCapture("cuStreamSynchronize")) return CUresult.CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
        s.runUntil(s.enqueued);
        return CUresult.CUDA_SUCCESS;
    }

    @Override
    public synchronized int eventCreate(CUevent event, int flags) {
        int rc = enter("cuEventCreate");
        if (rc != 0) return rc;
        if (!contextIsOurs("cuEventCreate")) return CUresult.CUDA_ERROR_INVALID_CONTEXT;
        events.put(event, new EventState(null, 0));
        return CUresult.CUDA_SUCCESS;
    }

    @Override
    public synchronized int eventDestroy(CUevent event) {
        return destroyHandle("cuEventDestroy", events, event);
    }

    /** Destroys a driver object (event, graph, graph exec) under the caller's context. */
    private int destroyHandle(String call, Map<?, ?> registry, Object handle) {
        int rc = enter(call);
        if (rc != 0) return rc;
        if (!contextIsOurs(call)) return CUresult.CUDA_ERROR_INVALID_CONTEXT;
        if (registry.remove(handle) != null) return CUresult.CUDA_SUCCESS;
        violation(call + " of an unknown or destroyed handle");
        return CUresult.CUDA_ERROR_INVALID_HANDLE;
    }

    @Override
    public synchronized int eventRecord(CUevent event, Stream stream) {
        int rc = enter("cuEventRecord");
        if (rc != 0) return rc;
        StreamState s = stream(stream, "cuEventRecord");
        if (s == null) return CUresult.CUDA_ERROR_INVALID_CONTEXT;
        if (!events.containsKey(event)) {
            violation("cuEventRecord of an unknown event");
            return CUresult.CUDA_ERROR_INVALID_HANDLE;
        }
        if (s.capture != null) {
            violation("cuEventRecord on a capturing stream (the backend never needs it)");
            return CUresult.CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
        }
        events.put(event, new EventState(s, s.enqueued));
        return CUresult.CUDA_SUCCESS;
    }

    @Override
    public synchronized int eventSynchronize(CUevent event) {
        int rc = enter("cuEventSynchronize");
        if (rc != 0) return rc;
        if (!contextIsOurs("cuEventSynchronize")) return CUresult.CUDA_ERROR_INVALID_CONTEXT;
        EventState e = events.get(event);
        if (e == null) {
            violation("cuEventSynchronize of an unknown event");
            return CUresult.CUDA_ERROR_INVALID_HANDLE;
        }
        if (refusedDuringCapture("cuEventSynchronize")) return CUresult.CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
        if (e.stream() != null) e.stream().runUntil(e.sequence());
        return CUresult.CUDA_SUCCESS;
    }

    // =============================================================================================
    // Graphs
    // =============================================================================================

    @Override
    public synchronized int streamBeginCapture(Stream stream, int mode) {
        int rc = enter("cuStreamBeginCapture");
        if (rc != 0) return rc;
        StreamState s = stream(stream, "cuStreamBeginCapture");
        if (s == null) return CUresult.CUDA_ERROR_INVALID_CONTEXT;
        if (s.capture != null) return CUresult.CUDA_ERROR_ILLEGAL_STATE;
        s.capture = new ArrayList<>();
        s.captureThread = Thread.currentThread();
        s.invalidated = null;
        return CUresult.CUDA_SUCCESS;
    }

    /** Whether {@code stream} is capturing now (what cuStreamIsCapturing would say). */
    synchronized boolean isCapturing(Stream stream) {
        StreamState s = streams.get(stream);
        return s != null && s.capture != null;
    }

    @Override
    public synchronized int streamEndCapture(Stream stream, CUgraph graph) {
        int rc = enter("cuStreamEndCapture");
        if (rc != 0) return rc;
        StreamState s = stream(stream, "cuStreamEndCapture");
        if (s == null) return CUresult.CUDA_ERROR_INVALID_CONTEXT;
        if (s.capture == null) return CUresult.CUDA_ERROR_ILLEGAL_STATE;
        List<Op> recorded = s.capture;
        String invalid = s.invalidated;
        s.capture = null;
        s.captureThread = null;
        s.invalidated = null;
        if (invalid != null) return CUresult.CUDA_ERROR_STREAM_CAPTURE_INVALIDATED;
        graphs.put(graph, recorded);
        return CUresult.CUDA_SUCCESS;
    }

    @Override
    public synchronized int graphInstantiate(CUgraphExec exec, CUgraph graph) {
        int rc = enter("cuGraphInstantiate");
        if (rc != 0) return rc;
        if (!contextIsOurs("cuGraphInstantiate")) return CUresult.CUDA_ERROR_INVALID_CONTEXT;
        List<Op> g = graphs.get(graph);
        if (g == null) {
            violation("cuGraphInstantiate of an unknown graph");
            return CUresult.CUDA_ERROR_INVALID_HANDLE;
        }
        execs.put(exec, List.copyOf(g));
        return CUresult.CUDA_SUCCESS;
    }

    @Override
    public synchronized int graphLaunch(CUgraphExec exec, Stream stream) {
        int rc = enter("cuGraphLaunch");
        if (rc != 0) return rc;
        StreamState s = stream(stream, "cuGraphLaunch");
        if (s == null) return CUresult.CUDA_ERROR_INVALID_CONTEXT;
        List<Op> ops = execs.get(exec);
        if (ops == null) {
            violation("cuGraphLaunch of an unknown or destroyed graph exec");
            return CUresult.CUDA_ERROR_INVALID_HANDLE;
        }
        for (Op op : ops) enqueue(s, "graph: " + op.what(), op.body());
        return CUresult.CUDA_SUCCESS;
    }

    @Override
    public synchronized int graphExecDestroy(CUgraphExec exec) {
        return destroyHandle("cuGraphExecDestroy", execs, exec);
    }

    @Override
    public synchronized int graphDestroy(CUgraph graph) {
        return destroyHandle("cuGraphDestroy", graphs, graph);
    }

    // =============================================================================================
    // Kernels
    // =============================================================================================

    @Override
    public synchronized void loadKernels() {
        enter("cuModuleLoadData");
        contextIsOurs("cuModuleLoadData");
        kernelsLoaded = true;
    }

    @Override
    public synchronized void unloadKernels() {
        enter("cuModuleUnload");
        contextIsOurs("cuModuleUnload");
        kernelsLoaded = false;
    }

    @Override
    public synchronized int launch(String name, int blocks, int blockX, int blockY, Stream stream, Object... args) {
        int rc = enter("cuLaunchKernel");
        if (rc != 0) return rc;
        enter("kernel " + name);
        StreamState s = stream(stream, "cuLaunchKernel(" + name + ")");
        if (s == null) return CUresult.CUDA_ERROR_INVALID_CONTEXT;
        if (!kernelsLoaded) {
            violation("cuLaunchKernel(" + name + ") without loaded modules");
            return CUresult.CUDA_ERROR_INVALID_HANDLE;
        }
        if (blocks <= 0 || blockX <= 0 || blockY <= 0 || blockX * blockY > 1024) {
            violation("cuLaunchKernel(" + name + ") with grid " + blocks + " and block " + blockX + "×" + blockY);
            return CUresult.CUDA_ERROR_INVALID_VALUE;
        }
        String mismatch = StandInKernels.mismatch(name, args);
        if (mismatch != null) {
            violation("cuLaunchKernel: " + mismatch);
            return CUresult.CUDA_ERROR_INVALID_VALUE;
        }
        Object[] copy = args.clone();
        enqueue(s, "kernel " + name, () -> StandInKernels.run(name, blocks, blockX * blockY, copy, this));
        return CUresult.CUDA_SUCCESS;
    }

    // =============================================================================================
    // cuBLAS
    // =============================================================================================

    /** A cuBLAS object: a fresh token address registered with its state and written to {@code out}. */
    private <T> int create(String call, Map<Long, T> registry, T state, MemorySegment out) {
        int rc = enter(call);
        if (rc != 0) return rc;
        long token = tokens.allocate(16, 16).address();
        registry.put(token, state);
        out.set(ADDRESS, 0, MemorySegment.ofAddress(token));
        return CUBLAS_STATUS_SUCCESS;
    }

    private int destroy(String call, Map<Long, ?> registry, MemorySegment object) {
        int rc = enter(call);
        if (rc != 0) return rc;
        if (registry.remove(object.address()) != null) return CUBLAS_STATUS_SUCCESS;
        violation(call + " of an unknown object");
        return CUBLAS_STATUS_INVALID_VALUE;
    }

    private StreamState blasStream(long handle, String call) {
        StreamHolder h = cublasHandles.get(handle);
        if (h == null) {
            violation(call + " with an unknown cuBLAS handle");
            return null;
        }
        if (h.stream == null) {
            violation(call + " before cublasSetStream (the legacy default stream would be used)");
            return null;
        }
        return stream(h.stream, call);
    }

    @Override
    public synchronized int cublasCreate(MemorySegment handleOut) {
        return create("cublasCreate_v2", cublasHandles, new StreamHolder(), handleOut);
    }

    @Override
    public synchronized int cublasDestroy(MemorySegment handle) {
        return destroy("cublasDestroy_v2", cublasHandles, handle);
    }

    @Override
    public synchronized int cublasSetStream(MemorySegment handle, Stream stream) {
        int rc = enter("cublasSetStream_v2");
        if (rc != 0) return rc;
        StreamHolder h = cublasHandles.get(handle.address());
        if (h == null || !streams.containsKey(stream)) return CUBLAS_STATUS_INVALID_VALUE;
        h.stream = stream;
        return CUBLAS_STATUS_SUCCESS;
    }

    @Override
    public synchronized int cublasSetMathMode(MemorySegment handle, int mode) {
        int rc = enter("cublasSetMathMode");
        if (rc != 0) return rc;
        return cublasHandles.containsKey(handle.address()) ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_INVALID_VALUE;
    }

    @Override
    public synchronized int cublasSetWorkspace(MemorySegment handle, long workspace, long bytes) {
        int rc = enter("cublasSetWorkspace_v2");
        if (rc != 0) return rc;
        if (!cublasHandles.containsKey(handle.address())) return CUBLAS_STATUS_INVALID_VALUE;
        return range(deviceBlocks, workspace, bytes, "cublasSetWorkspace_v2") == null ? CUBLAS_STATUS_INVALID_VALUE
                : CUBLAS_STATUS_SUCCESS;
    }

    @Override
    public synchronized int cublasSgemm(MemorySegment handle, int opA, int opB, int m, int n, int k, MemorySegment alpha,
                                        long a, int lda, long b, int ldb, MemorySegment beta, long c, int ldc) {
        int rc = enter("cublasSgemm_v2");
        if (rc != 0) return rc;
        StreamState s = blasStream(handle.address(), "cublasSgemm_v2");
        if (s == null) return CUBLAS_STATUS_INVALID_VALUE;
        // host pointer mode: the scalars are read when the call is made
        float al = alpha.get(JAVA_FLOAT, 0), be = beta.get(JAVA_FLOAT, 0);
        StandInBlas.Gemm g = new StandInBlas.Gemm(opA, opB, m, n, k, a, lda, b, ldb, c, ldc);
        if (!g.inBounds(this, "cublasSgemm_v2")) return CUBLAS_STATUS_INVALID_VALUE;
        enqueue(s, "cublasSgemm_v2", () -> g.run(this, al, be, StandInBlas.Epilogue.NONE, 0));
        return CUBLAS_STATUS_SUCCESS;
    }

    // =============================================================================================
    // cuBLASLt
    // =============================================================================================

    @Override
    public synchronized int ltCreate(MemorySegment handleOut) {
        return create("cublasLtCreate", ltHandles, "cublasLt", handleOut);
    }

    @Override
    public synchronized int ltDestroy(MemorySegment handle) {
        return destroy("cublasLtDestroy", ltHandles, handle);
    }

    @Override
    public synchronized int ltMatmulDescCreate(MemorySegment descOut, int computeType, int scaleType) {
        Map<Integer, Long> attributes = new HashMap<>();
        attributes.put(Cublas.DESC_EPILOGUE, (long) StandInBlas.EPILOGUE_DEFAULT);
        return create("cublasLtMatmulDescCreate", ltDescs, attributes, descOut);
    }

    @Override
    public synchronized int ltMatmulDescDestroy(MemorySegment desc) {
        return destroy("cublasLtMatmulDescDestroy", ltDescs, desc);
    }

    @Override
    public synchronized int ltMatmulDescSetAttribute(MemorySegment desc, int attribute, MemorySegment value, long size) {
        int rc = enter("cublasLtMatmulDescSetAttribute");
        if (rc != 0) return rc;
        Map<Integer, Long> attributes = ltDescs.get(desc.address());
        if (attributes == null || (size != 4 && size != 8)) return CUBLAS_STATUS_INVALID_VALUE;
        MemorySegment v = value.reinterpret(size);
        attributes.put(attribute, size == 4 ? v.get(JAVA_INT, 0) : v.get(JAVA_LONG, 0));
        return CUBLAS_STATUS_SUCCESS;
    }

    @Override
    public synchronized int ltMatrixLayoutCreate(MemorySegment layoutOut, int type, long rows, long cols, long ld) {
        if (type != Cublas.CUDA_R_32F || ld < rows) {
            violation("cublasLtMatrixLayoutCreate(type " + type + ", " + rows + "×" + cols + ", ld " + ld + ")");
            return CUBLAS_STATUS_INVALID_VALUE;
        }
        return create("cublasLtMatrixLayoutCreate", ltLayouts, new long[]{rows, cols, ld}, layoutOut);
    }

    @Override
    public synchronized int ltMatrixLayoutDestroy(MemorySegment layout) {
        return destroy("cublasLtMatrixLayoutDestroy", ltLayouts, layout);
    }

    @Override
    public synchronized int ltPreferenceCreate(MemorySegment preferenceOut) {
        return create("cublasLtMatmulPreferenceCreate", ltPreferences, "preference", preferenceOut);
    }

    @Override
    public synchronized int ltPreferenceDestroy(MemorySegment preference) {
        return destroy("cublasLtMatmulPreferenceDestroy", ltPreferences, preference);
    }

    @Override
    public synchronized int ltPreferenceSetAttribute(MemorySegment preference, int attribute, MemorySegment value,
                                                     long size) {
        int rc = enter("cublasLtMatmulPreferenceSetAttribute");
        if (rc != 0) return rc;
        return ltPreferences.containsKey(preference.address()) ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_INVALID_VALUE;
    }

    @Override
    public synchronized int ltAlgoGetHeuristic(MemorySegment handle, MemorySegment desc, MemorySegment aLayout,
                                               MemorySegment bLayout, MemorySegment cLayout, MemorySegment dLayout,
                                               MemorySegment preference, int requested, MemorySegment results,
                                               MemorySegment returned) {
        int rc = enter("cublasLtMatmulAlgoGetHeuristic");
        if (rc != 0) return rc;
        Map<Integer, Long> attributes = ltDescs.get(desc.address());
        if (!ltHandles.containsKey(handle.address()) || attributes == null || !ltLayouts.containsKey(aLayout.address())
                || !ltLayouts.containsKey(bLayout.address()) || !ltLayouts.containsKey(dLayout.address()))
            return CUBLAS_STATUS_INVALID_VALUE;
        int epilogue = attributes.get(Cublas.DESC_EPILOGUE).intValue();
        int status = heuristicStatus.getOrDefault(epilogue, StandInBlas.Epilogue.of(epilogue) == null
                ? CUBLAS_STATUS_NOT_SUPPORTED : CUBLAS_STATUS_SUCCESS);
        if (status != CUBLAS_STATUS_SUCCESS) return status;
        MemorySegment r = results.reinterpret(Cublas.HEURISTIC_RESULT_BYTES * requested);
        r.fill((byte) 0); // algo blob, workspaceSize 0, state SUCCESS
        returned.reinterpret(4).set(JAVA_INT, 0, 1);
        return CUBLAS_STATUS_SUCCESS;
    }

    @Override
    public synchronized int ltMatmul(MemorySegment handle, MemorySegment desc, MemorySegment alpha, long a,
                                     MemorySegment aLayout, long b, MemorySegment bLayout, MemorySegment beta, long c,
                                     MemorySegment cLayout, long d, MemorySegment dLayout, MemorySegment algo,
                                     long workspace, long workspaceBytes, Stream stream) {
        int rc = enter("cublasLtMatmul");
        if (rc != 0) return rc;
        Map<Integer, Long> attributes = ltDescs.get(desc.address());
        long[] la = ltLayouts.get(aLayout.address()), lb = ltLayouts.get(bLayout.address()),
                lc = ltLayouts.get(cLayout.address()), ld = ltLayouts.get(dLayout.address());
        if (!ltHandles.containsKey(handle.address()) || attributes == null || la == null || lb == null || lc == null
                || ld == null)
            return CUBLAS_STATUS_INVALID_VALUE;
        int epilogue = attributes.get(Cublas.DESC_EPILOGUE).intValue();
        Integer injected = matmulStatus.get(epilogue);
        if (injected != null) return injected;
        StreamState s = stream(stream, "cublasLtMatmul");
        if (s == null) return CUBLAS_STATUS_INVALID_VALUE;
        if (range(deviceBlocks, workspace, workspaceBytes, "cublasLtMatmul workspace") == null)
            return CUBLAS_STATUS_INVALID_VALUE;
        int opA = attributes.getOrDefault(Cublas.DESC_TRANSA, 0L).intValue();
        int opB = attributes.getOrDefault(Cublas.DESC_TRANSB, 0L).intValue();
        int m = (int) ld[0], n = (int) ld[1], k = (int) (opA == Cublas.OP_N ? la[1] : la[0]);
        if (c != d || lc != ld) {
            violation("cublasLtMatmul with C distinct from D (the backend always passes D for both)");
            return CUBLAS_STATUS_NOT_SUPPORTED;
        }
        StandInBlas.Epilogue e = StandInBlas.Epilogue.of(epilogue);
        if (e == null) return CUBLAS_STATUS_NOT_SUPPORTED;
        long vector = attributes.getOrDefault(Cublas.DESC_BIAS_POINTER, 0L);
        float al = alpha.get(JAVA_FLOAT, 0), be = beta.get(JAVA_FLOAT, 0);
        StandInBlas.Gemm g = new StandInBlas.Gemm(opA, opB, m, n, k, a, (int) la[2], b, (int) lb[2], d, (int) ld[2]);
        if (!g.inBounds(this, "cublasLtMatmul")) return CUBLAS_STATUS_INVALID_VALUE;
        enqueue(s, "cublasLtMatmul(" + e + ")", () -> g.run(this, al, be, e, vector));
        return CUBLAS_STATUS_SUCCESS;
    }
}
