package io.github.backprop4j.cuda;

/** A device buffer: one cuMemAlloc'd block of {@code bytes} at {@code address}, row-major floats. */
record CudaBuffer(long address, long bytes) {
}
