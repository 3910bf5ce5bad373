// Batch assembly for a data set resident on the device: dst row r <- src row order[offset + r].
// The shuffled order is uploaded once per epoch (as floats, exact for indices below 2^24), so a step
// moves no data across PCIe at all.
#include "common.cuh"

extern "C" __global__ void gather_rows(const float* src, const float* order, int offset, int rows, int cols,
                                       float* dst) {
    const long long n = (long long)rows * cols;
    FOR_EACH_INDEX(i, n) {
        const int r = (int)(i / cols), c = (int)(i % cols);
        const long long from = (long long)order[offset + r];
        dst[i] = src[from * cols + c];
    }
}
