// C <- alpha * op(A) * op(B) + beta * C, row-major, op(X) = X^T when transX != 0.
//
// Each kernel has a split-K twin (GemmKernels uses them when a product has too few work-groups to fill
// the device): layer z of its grid multiplies the K range [z * kChunk, (z + 1) * kChunk) into slice z of
// a buffer of partial products, which gemm_sum_splits then adds into C.
//
// Each work-group computes a TS x TS tile of C; each work-item a WPT x WPT block of it, strided by
// RTS = TS / WPT so that both the local-memory reads and the global stores are conflict-free and
// coalesced. K advances in slices of TSK staged through local memory. The tile sizes are build
// options chosen by the backend from the device's limits (GemmKernels.heuristicTiling).
#ifndef TS
#define TS 64
#endif
#ifndef WPT
#define WPT 4
#endif
#ifndef TSK
#define TSK 16
#endif
#define RTS (TS / WPT)

// acc += the outer product of row k of the staged A and B slices, for this work-item's WPT x WPT block
#define MULTIPLY_ADD_ROW(k)                                                                           \
    {                                                                                                 \
        float a[WPT], b[WPT];                                                                         \
        for (int i = 0; i < WPT; i++) a[i] = As[k][ty + i * RTS];                                     \
        for (int j = 0; j < WPT; j++) b[j] = Bs[k][tx + j * RTS];                                     \
        for (int i = 0; i < WPT; i++)                                                                 \
            for (int j = 0; j < WPT; j++) acc[i][j] = fma(a[i], b[j], acc[i][j]);                     \
    }

// the body of gemm and gemm_split_k; As[k][m] and Bs[k][n] are TSK x (TS + 1) in local memory, the +1
// column keeping transposed stores bank-spread
inline void gemm_tiles(const int M, const int N, const int K, const float alpha,
                       __global const float* restrict A, const int lda, const int transA,
                       __global const float* restrict B, const int ldb, const int transB,
                       const float beta, __global float* restrict C,
                       __local float (*As)[TS + 1], __local float (*Bs)[TS + 1])
{
    const int tx = get_local_id(0), ty = get_local_id(1);
    const int tid = ty * RTS + tx;
    const int col0 = get_group_id(0) * TS, row0 = get_group_id(1) * TS;

    float acc[WPT][WPT];
    for (int i = 0; i < WPT; i++)
        for (int j = 0; j < WPT; j++) acc[i][j] = 0.0f;

    for (int k0 = 0; k0 < K; k0 += TSK) {
        // Stage op(A)[row0.., k0..] and op(B)[k0.., col0..] four floats at a time along each operand's
        // contiguous dimension (vload4 needs only float alignment), so neighbouring work-items read
        // neighbouring 16-byte words; a quad that crosses the matrix edge is read element by element.
#if (TS % 4 == 0) && (TSK % 4 == 0)
        for (int l = tid; l < TS * TSK / 4; l += RTS * RTS) {
            float4 v;
            if (transA) {                       // A is K x M: contiguous along m
                const int m = (l % (TS / 4)) * 4, k = l / (TS / 4);
                const int gm = row0 + m, gk = k0 + k;
                if (gk < K && gm + 3 < M) v = vload4(0, A + gk * lda + gm);
                else v = (float4)(gk < K && gm < M ? A[gk * lda + gm] : 0.0f,
                                  gk < K && gm + 1 < M ? A[gk * lda + gm + 1] : 0.0f,
                                  gk < K && gm + 2 < M ? A[gk * lda + gm + 2] : 0.0f, 0.0f);
                As[k][m] = v.x; As[k][m + 1] = v.y; As[k][m + 2] = v.z; As[k][m + 3] = v.w;
            } else {                            // A is M x K: contiguous along k
                const int k = (l % (TSK / 4)) * 4, m = l / (TSK / 4);
                const int gm = row0 + m, gk = k0 + k;
                if (gm < M && gk + 3 < K) v = vload4(0, A + gm * lda + gk);
                else v = (float4)(gm < M && gk < K ? A[gm * lda + gk] : 0.0f,
                                  gm < M && gk + 1 < K ? A[gm * lda + gk + 1] : 0.0f,
                                  gm < M && gk + 2 < K ? A[gm * lda + gk + 2] : 0.0f, 0.0f);
                As[k][m] = v.x; As[k + 1][m] = v.y; As[k + 2][m] = v.z; As[k + 3][m] = v.w;
            }
            if (transB) {                       // B is N x K: contiguous along k
                const int k = (l % (TSK / 4)) * 4, n = l / (TSK / 4);
                const int gn = col0 + n, gk = k0 + k;
                if (gn < N && gk + 3 < K) v = vload4(0, B + gn * ldb + gk);
                else v = (float4)(gn < N && gk < K ? B[gn * ldb + gk] : 0.0f,
                                  gn < N && gk + 1 < K ? B[gn * ldb + gk + 1] : 0.0f,
                                  gn < N && gk + 2 < K ? B[gn * ldb + gk + 2] : 0.0f, 0.0f);
                Bs[k][n] = v.x; Bs[k + 1][n] = v.y; Bs[k + 2][n] = v.z; Bs[k + 3][n] = v.w;
            } else {                            // B is K x N: contiguous along n
                const int n = (l % (TS / 4)) * 4, k = l / (TS / 4);
                const int gn = col0 + n, gk = k0 + k;
                if (gk < K && gn + 3 < N) v = vload4(0, B + gk * ldb + gn);
                else v = (float4)(gk < K && gn < N ? B[gk * ldb + gn] : 0.0f,
                                  gk < K && gn + 1 < N ? B[gk * ldb + gn + 1] : 0.0f,
                                  gk < K && gn + 2 < N ? B[gk * ldb + gn + 2] : 0.0f, 0.0f);
                Bs[k][n] = v.x; Bs[k][n + 1] = v.y; Bs[k][n + 2] = v.z; Bs[k][n + 3] = v.w;
            }
        }
#else
        for (int l = tid; l < TS * TSK; l += RTS * RTS) {
            int m, k;
            if (transA) { m = l % TS; k = l / TS; } else { k = l % TSK; m = l / TSK; }
            int gm = row0 + m, gk = k0 + k;
            As[k][m] = (gm < M && gk < K) ? (transA ? A[gk * lda + gm] : A[gm * lda + gk]) : 0.0f;
            int n;
            if (transB) { k = l % TSK; n = l / TSK; } else { n = l % TS; k = l / TS; }
            int gn = col0 + n;
            gk = k0 + k;
            Bs[k][n] = (gn < N && gk < K) ? (transB ? B[gn * ldb + gk] : B[gk * ldb + gn]) : 0.0f;
        }
#endif
        barrier(CLK_LOCAL_MEM_FENCE);
        // A whole slice runs a loop of constant length (unrolled); the last, short one only its rows,
        // so that a small K (an output layer's 10) does not multiply TSK - K rows of zeros.
        if (K - k0 >= TSK) {
            for (int k = 0; k < TSK; k++) MULTIPLY_ADD_ROW(k);
        } else {
            for (int k = 0; k < K - k0; k++) MULTIPLY_ADD_ROW(k);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    for (int i = 0; i < WPT; i++) {
        int r = row0 + ty + i * RTS;
        if (r >= M) continue;
        for (int j = 0; j < WPT; j++) {
            int c = col0 + tx + j * RTS;
            if (c >= N) continue;
            // beta == 0 overwrites, so stale NaNs in C never leak through 0 * NaN
            C[r * N + c] = beta == 0.0f ? alpha * acc[i][j] : alpha * acc[i][j] + beta * C[r * N + c];
        }
    }
}

__kernel __attribute__((reqd_work_group_size(RTS, RTS, 1)))
void gemm(const int M, const int N, const int K, const float alpha,
          __global const float* restrict A, const int lda, const int transA,
          __global const float* restrict B, const int ldb, const int transB,
          const float beta, __global float* restrict C)
{
    __local float As[TSK][TS + 1];
    __local float Bs[TSK][TS + 1];
    gemm_tiles(M, N, K, alpha, A, lda, transA, B, ldb, transB, beta, C, As, Bs);
}

__kernel __attribute__((reqd_work_group_size(RTS, RTS, 1)))
void gemm_split_k(const int M, const int N, const int K, const int kChunk,
                  __global const float* restrict A, const int lda, const int transA,
                  __global const float* restrict B, const int ldb, const int transB,
                  __global float* restrict partial)
{
    __local float As[TSK][TS + 1];
    __local float Bs[TSK][TS + 1];
    const int z = get_group_id(2), kBegin = z * kChunk;
    gemm_tiles(M, N, min(kChunk, K - kBegin), 1.0f, A + (transA ? kBegin * lda : kBegin), lda, transA,
               B + (transB ? kBegin : kBegin * ldb), ldb, transB, 0.0f, partial + z * M * N, As, Bs);
}

// The same product for a C with few columns or rows (an output layer's 10 classes, up to the
// launcher's limit): the tiled kernel above would pad that side to TS and mostly multiply zeros. Here C
// is seen as R rows of W outputs, C[r][j] at C[r * csr + j * csj], with
//   R x K operand L (the long one): L[r][p] at L[r * ldl + p] (gemm_narrow_along_k) or at
//     L[p * ldl + r] (gemm_narrow_along_r);
//   K x W operand S (the short one): S[p][j] at S[j * lds + p] when sAlongK, else at S[p * lds + j].
// C = op(A) op(B) with n <= m is L = op(A), S = op(B), csr = n, csj = 1; otherwise it is computed as its
// transpose op(B)^T op(A)^T, so L = op(B)^T, S = op(A)^T, csr = 1, csj = n.
//
// Work-group (x, y) owns G * NRW rows of C (G work-items, the launcher's choice) and its columns
// y * NW .. y * NW + NW; work-item t owns rows t, t + G, ... and keeps their sums in NRW float16
// registers: NRW independent multiply-add chains, each step one element of L per row times one row of
// S. The vectors are explicit so that a CPU compiler uses its vector unit without having to unroll
// anything. L is read straight from global memory: along R, neighbouring work-items read neighbouring
// words (coalesced on a GPU); along K each walks its own rows, which stay in cache for the NTK steps of
// a slice. The group stages NTK x NW of S (zero past K and W) in local memory per slice.
#define NW 16
#define NRW 8
#define NTK 32

// acc[i] += L[row i][k0 + p] * S[k0 + p][..], for each of this work-item's NRW rows
#define NARROW_MULTIPLY_ADD_ROW(p)                                                                    \
    {                                                                                                 \
        const int kk = k0 + (p);                                                                      \
        const float16 s = Ss[p];                                                                      \
        for (int i = 0; i < NRW; i++) {                                                               \
            const int r = r0 + i * G;                                                                 \
            const float a = r < R ? (lAlongK ? L[r * ldl + kk] : L[kk * ldl + r]) : 0.0f;             \
            acc[i] = fma((float16)(a), s, acc[i]);                                                    \
        }                                                                                             \
    }

inline void gemm_narrow_rows(const int R, const int W, const int K, const float alpha,
                             __global const float* restrict L, const int ldl, const int lAlongK,
                             __global const float* restrict S, const int lds, const int sAlongK,
                             const float beta, __global float* restrict C, const int csr, const int csj,
                             __local float16* Ss)
{
    const int lr = get_local_id(0), G = get_local_size(0);
    const int r0 = get_group_id(0) * G * NRW + lr;   // this work-item's rows: r0 + i * G
    const int j0 = get_group_id(1) * NW;              // and columns j0 .. j0 + NW
    __local float* Sf = (__local float*) Ss;          // Ss[p] holds S[p][0 .. NW)

    float16 acc[NRW];
    for (int i = 0; i < NRW; i++) acc[i] = (float16)(0.0f);

    for (int k0 = 0; k0 < K; k0 += NTK) {
        for (int e = lr; e < NTK * NW; e += G) {
            const int p = e / NW, j = j0 + e % NW;
            Sf[e] = (j < W && k0 + p < K) ? (sAlongK ? S[j * lds + k0 + p] : S[(k0 + p) * lds + j]) : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        // As in gemm: a whole slice in a loop of constant length, the last one only up to K.
        if (K - k0 >= NTK) {
            for (int p = 0; p < NTK; p++) NARROW_MULTIPLY_ADD_ROW(p);
        } else {
            for (int p = 0; p < K - k0; p++) NARROW_MULTIPLY_ADD_ROW(p);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    for (int i = 0; i < NRW; i++) {
        const int r = r0 + i * G;
        if (r >= R) break;
        float out[NW];
        vstore16(acc[i], 0, out);
        for (int j = 0; j < NW && j0 + j < W; j++) {
            __global float* c = C + r * csr + (j0 + j) * csj;
            // beta == 0 overwrites, so stale NaNs in C never leak through 0 * NaN
            *c = beta == 0.0f ? alpha * out[j] : alpha * out[j] + beta * *c;
        }
    }
}

// Two entry points, so that the compiler sees L's layout as a constant.
#define GEMM_NARROW_ENTRY(name, lAlongK)                                                              \
__kernel void name(const int R, const int W, const int K, const float alpha,                          \
                   __global const float* restrict L, const int ldl,                                   \
                   __global const float* restrict S, const int lds, const int sAlongK,                \
                   const float beta, __global float* restrict C, const int csr, const int csj)        \
{                                                                                                     \
    __local float16 Ss[NTK];                                                                          \
    gemm_narrow_rows(R, W, K, alpha, L, ldl, lAlongK, S, lds, sAlongK, beta, C, csr, csj, Ss);        \
}
GEMM_NARROW_ENTRY(gemm_narrow_along_k, 1)
GEMM_NARROW_ENTRY(gemm_narrow_along_r, 0)

#define GEMM_NARROW_SPLIT_K_ENTRY(name, lAlongK)                                                       \
__kernel void name(const int R, const int W, const int K, const int kChunk,                           \
                   __global const float* restrict L, const int ldl,                                   \
                   __global const float* restrict S, const int lds, const int sAlongK,                \
                   __global float* restrict partial, const int csr, const int csj)                    \
{                                                                                                     \
    __local float16 Ss[NTK];                                                                          \
    const int z = get_group_id(2), kBegin = z * kChunk;                                               \
    gemm_narrow_rows(R, W, min(kChunk, K - kBegin), 1.0f, L + (lAlongK ? kBegin : kBegin * ldl), ldl,  \
                     lAlongK, S + (sAlongK ? kBegin : kBegin * lds), lds, sAlongK, 0.0f,              \
                     partial + z * R * W, csr, csj, Ss);                                              \
}
GEMM_NARROW_SPLIT_K_ENTRY(gemm_narrow_along_k_split_k, 1)
GEMM_NARROW_SPLIT_K_ENTRY(gemm_narrow_along_r_split_k, 0)

// C <- alpha * (the sum of a split product's partial products) + beta * C, over C's count elements; the
// splits are added in order, so the result does not depend on the launch
__kernel void gemm_sum_splits(const int count, const int splits, const float alpha,
                              __global const float* restrict partial, const float beta, __global float* restrict C)
{
    const int i = get_global_id(0);
    if (i >= count) return;
    float sum = 0.0f;
    for (int z = 0; z < splits; z++) sum += partial[z * count + i];
    // beta == 0 overwrites, so stale NaNs in C never leak through 0 * NaN
    C[i] = beta == 0.0f ? alpha * sum : alpha * sum + beta * C[i];
}
