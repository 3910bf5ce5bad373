// Device.gatherRows: dst row r <- src row order[offset + r], for a data set resident on the device.
// The shuffled order is uploaded once per epoch (as floats, exact for indices below 2^24), so a step
// moves no data across PCIe at all. An index outside src gives a NaN row, never an out-of-bounds read.
#include "common.cuh"

extern "C" __global__ void gather_rows(const float* src, int src_rows, const float* order, int offset, int rows,
                                       int cols, float* dst) {
    const long long n = (long long)rows * cols;
    FOR_EACH_INDEX(i, n) {
        const int r = (int)(i / cols), c = (int)(i % cols);
        const float from = order[offset + r];
        dst[i] = (from >= 0.0f && from < (float)src_rows) ? src[(long long)from * cols + c] : __int_as_float(0x7fc00000);
    }
}
