using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Totoro.Ml.Kernels;

/// <summary>Which SIMD width the GEMM micro-kernel uses.</summary>
internal enum GemmPath
{
    Scalar,
    Vector256,
    Vector512,
}

/// <summary>
/// Row-major single-precision GEMM: C = op(A)·op(B) (+ C when accumulating), op(X) = X or Xᵀ.
/// A register-blocked micro-kernel (8 or 4 rows × 2 vectors of C held in registers) walks K in blocks
/// small enough that a packed B panel stays in L1 while every row block of A streams past it
/// (a panel that only one row block reads is used in place).
/// Transposed A needs no copy (the kernel broadcasts single elements, so the stride is free);
/// B is packed per panel, which also absorbs the transpose of Bᵀ.
/// </summary>
internal static class Gemm
{
    /// <summary>Picked once from the hardware; read-only afterwards.</summary>
    public static readonly GemmPath Selected =
        Vector512.IsHardwareAccelerated ? GemmPath.Vector512
        : Vector256.IsHardwareAccelerated ? GemmPath.Vector256
        : GemmPath.Scalar;

    /// <summary>Rows of the largest micro-kernel (Vector512 path); the others take 4 rows, then single rows.</summary>
    private const int MaxRows = 8;

    // 256 rows of a 32-wide panel = 32 KiB: the panel stays in L1 while the row blocks of A pass.
    private const int Kc = 256;

    // From this K on, dot products beat packing Bᵀ even for wide operands; below it they win only when
    // m or n is too small to fill the 8×32 kernel (a conv weight gradient with few filters or taps).
    private const int DotMinK = 1024;

    // 512 floats per row: 4 rows of A in L1, the rows of B of one block (a few hundred) in L2.
    private const int DotBlockK = 512;

    /// <summary>C[m,n] (+)= op(A)[m,k] · op(B)[k,n] with the kernel chosen for this machine.</summary>
    public static void Multiply(
        bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb,
        Span<float> c, int ldc, bool accumulate) =>
        Multiply(Selected, transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate);

    public static void Multiply(
        GemmPath path, bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb,
        Span<float> c, int ldc, bool accumulate)
    {
        Validate(transA, m, k, a.Length, lda, nameof(a));
        Validate(transB, k, n, b.Length, ldb, nameof(b));
        Validate(false, m, n, c.Length, ldc, nameof(c));
        if (m == 0 || n == 0)
        {
            return;
        }

        if (k == 0)
        {
            if (!accumulate)
            {
                for (var i = 0; i < m; i++)
                {
                    c.Slice(i * ldc, n).Clear();
                }
            }

            return;
        }

        if (path == GemmPath.Vector512 && transB && !transA && k >= 64 && (k >= DotMinK || Math.Min(m, n) < 32))
        {
            DotProducts(m, n, k, a, lda, b, ldb, c, ldc, accumulate);
            return;
        }

        if (path != GemmPath.Scalar && transB && PreferTransposed(path, m, n))
        {
            Transposed(path, transA, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
            return;
        }

        switch (path)
        {
            case GemmPath.Vector512:
                Blocked(16, transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
                break;
            case GemmPath.Vector256:
                Blocked(8, transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
                break;
            default:
                Scalar(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
                break;
        }
    }

    private static void Validate(bool trans, int rows, int cols, int length, int ld, string name)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        var (storedRows, storedCols) = trans ? (cols, rows) : (rows, cols);
        if (storedRows == 0 || storedCols == 0)
        {
            return;
        }

        if (ld < storedCols)
        {
            throw new ArgumentException($"leading dimension {ld} is smaller than the row length {storedCols}", name);
        }

        if ((long)(storedRows - 1) * ld + storedCols > length)
        {
            throw new ArgumentException($"span of {length} elements is too short for a {storedRows}x{storedCols} matrix with leading dimension {ld}", name);
        }
    }

    /// <summary>
    /// The kernel computes whole panels, so the cost is m × (n rounded up to a panel); flipping the problem
    /// costs n × (m rounded up). On a tie, flip when it packs the smaller operand (m·k instead of n·k).
    /// </summary>
    private static bool PreferTransposed(GemmPath path, int m, int n)
    {
        var nr = path == GemmPath.Vector512 ? 32 : 16;
        var direct = (long)m * ((n + nr - 1) / nr * nr);
        var flipped = (long)n * ((m + nr - 1) / nr * nr);
        return flipped < direct || (flipped == direct && n > m);
    }

    /// <summary>
    /// Transposed B must be packed, costing n·k copies; when A is the smaller operand, compute
    /// Cᵀ = op(B)ᵀ·op(A)ᵀ instead (which packs A) and transpose the m·n result into C.
    /// </summary>
    private static void Transposed(
        GemmPath path, bool transA, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb,
        Span<float> c, int ldc, bool accumulate)
    {
        var scratch = ArrayPool<float>.Shared.Rent(m * n);
        try
        {
            var ct = scratch.AsSpan(0, m * n);
            Multiply(path, false, !transA, n, m, k, b, ldb, a, lda, ct, m, accumulate: false);
            for (var i = 0; i < m; i++)
            {
                var row = c.Slice(i * ldc, n);
                for (var j = 0; j < n; j++)
                {
                    row[j] = accumulate ? row[j] + ct[j * m + i] : ct[j * m + i];
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
        }
    }

    /// <summary>
    /// A·Bᵀ with a long K (a convolution's weight gradient sums over batch × plane): both operands are
    /// contiguous along K, so 4×4 tiles of dot products run straight off them with no packing; K is cut into
    /// blocks whose rows of A and B fit in L2. Edge tiles repeat the last row or column and discard the copies.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void DotProducts(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate)
    {
        var sums = stackalloc float[16];
        fixed (float* pa = a, pb = b, pc = c)
        {
            for (var k0 = 0; k0 < k; k0 += DotBlockK)
            {
                var kc = Math.Min(DotBlockK, k - k0);
                var acc = accumulate || k0 > 0;
                for (var i0 = 0; i0 < m; i0 += 4)
                {
                    var a0 = pa + (long)i0 * lda + k0;
                    var a1 = pa + (long)Math.Min(i0 + 1, m - 1) * lda + k0;
                    var a2 = pa + (long)Math.Min(i0 + 2, m - 1) * lda + k0;
                    var a3 = pa + (long)Math.Min(i0 + 3, m - 1) * lda + k0;
                    for (var j0 = 0; j0 < n; j0 += 4)
                    {
                        var b0 = pb + (long)j0 * ldb + k0;
                        var b1 = pb + (long)Math.Min(j0 + 1, n - 1) * ldb + k0;
                        var b2 = pb + (long)Math.Min(j0 + 2, n - 1) * ldb + k0;
                        var b3 = pb + (long)Math.Min(j0 + 3, n - 1) * ldb + k0;
                        DotTile(kc, a0, a1, a2, a3, b0, b1, b2, b3, sums);
                        for (var r = 0; r < Math.Min(4, m - i0); r++)
                        {
                            var row = pc + (long)(i0 + r) * ldc + j0;
                            for (var q = 0; q < Math.Min(4, n - j0); q++)
                            {
                                row[q] = acc ? row[q] + sums[r * 4 + q] : sums[r * 4 + q];
                            }
                        }
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void DotTile(int kc, float* a0, float* a1, float* a2, float* a3, float* b0, float* b1, float* b2, float* b3, float* sums)
    {
        Vector512<float> s00 = default, s01 = default, s02 = default, s03 = default;
        Vector512<float> s10 = default, s11 = default, s12 = default, s13 = default;
        Vector512<float> s20 = default, s21 = default, s22 = default, s23 = default;
        Vector512<float> s30 = default, s31 = default, s32 = default, s33 = default;
        var p = 0;
        for (; p <= kc - 16; p += 16)
        {
            var x0 = Vector512.Load(b0 + p);
            var x1 = Vector512.Load(b1 + p);
            var x2 = Vector512.Load(b2 + p);
            var x3 = Vector512.Load(b3 + p);
            var y = Vector512.Load(a0 + p);
            s00 = Vector512.FusedMultiplyAdd(y, x0, s00);
            s01 = Vector512.FusedMultiplyAdd(y, x1, s01);
            s02 = Vector512.FusedMultiplyAdd(y, x2, s02);
            s03 = Vector512.FusedMultiplyAdd(y, x3, s03);
            y = Vector512.Load(a1 + p);
            s10 = Vector512.FusedMultiplyAdd(y, x0, s10);
            s11 = Vector512.FusedMultiplyAdd(y, x1, s11);
            s12 = Vector512.FusedMultiplyAdd(y, x2, s12);
            s13 = Vector512.FusedMultiplyAdd(y, x3, s13);
            y = Vector512.Load(a2 + p);
            s20 = Vector512.FusedMultiplyAdd(y, x0, s20);
            s21 = Vector512.FusedMultiplyAdd(y, x1, s21);
            s22 = Vector512.FusedMultiplyAdd(y, x2, s22);
            s23 = Vector512.FusedMultiplyAdd(y, x3, s23);
            y = Vector512.Load(a3 + p);
            s30 = Vector512.FusedMultiplyAdd(y, x0, s30);
            s31 = Vector512.FusedMultiplyAdd(y, x1, s31);
            s32 = Vector512.FusedMultiplyAdd(y, x2, s32);
            s33 = Vector512.FusedMultiplyAdd(y, x3, s33);
        }

        sums[0] = Vector512.Sum(s00); sums[1] = Vector512.Sum(s01); sums[2] = Vector512.Sum(s02); sums[3] = Vector512.Sum(s03);
        sums[4] = Vector512.Sum(s10); sums[5] = Vector512.Sum(s11); sums[6] = Vector512.Sum(s12); sums[7] = Vector512.Sum(s13);
        sums[8] = Vector512.Sum(s20); sums[9] = Vector512.Sum(s21); sums[10] = Vector512.Sum(s22); sums[11] = Vector512.Sum(s23);
        sums[12] = Vector512.Sum(s30); sums[13] = Vector512.Sum(s31); sums[14] = Vector512.Sum(s32); sums[15] = Vector512.Sum(s33);
        for (; p < kc; p++)
        {
            float y0 = a0[p], y1 = a1[p], y2 = a2[p], y3 = a3[p];
            float x0 = b0[p], x1 = b1[p], x2 = b2[p], x3 = b3[p];
            sums[0] += y0 * x0; sums[1] += y0 * x1; sums[2] += y0 * x2; sums[3] += y0 * x3;
            sums[4] += y1 * x0; sums[5] += y1 * x1; sums[6] += y1 * x2; sums[7] += y1 * x3;
            sums[8] += y2 * x0; sums[9] += y2 * x1; sums[10] += y2 * x2; sums[11] += y2 * x3;
            sums[12] += y3 * x0; sums[13] += y3 * x1; sums[14] += y3 * x2; sums[15] += y3 * x3;
        }
    }

    private static void Scalar(
        bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb,
        Span<float> c, int ldc, bool accumulate)
    {
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < n; j++)
            {
                var sum = 0f;
                for (var p = 0; p < k; p++)
                {
                    var av = transA ? a[p * lda + i] : a[i * lda + p];
                    var bv = transB ? b[j * ldb + p] : b[p * ldb + j];
                    sum += av * bv;
                }

                c[i * ldc + j] = accumulate ? c[i * ldc + j] + sum : sum;
            }
        }
    }

    /// <param name="lanes">Floats per vector; a panel of B is two vectors wide.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Blocked(
        int lanes, bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb,
        Span<float> c, int ldc, bool accumulate)
    {
        var nr = 2 * lanes;
        var rsA = transA ? 1 : lda;
        var csA = transA ? lda : 1;

        // Every (K block, panel) of B is copied into a contiguous, zero-padded kc × nr buffer first:
        // rows of B in place can be a page apart (the batched im2col matrix), costing a TLB miss per row.
        var panel = ArrayPool<float>.Shared.Rent(Kc * nr);
        var tile = stackalloc float[MaxRows * 32];
        try
        {
            fixed (float* pa = a, pb = b, pc = c, pp = panel)
            {
                for (var k0 = 0; k0 < k; k0 += Kc)
                {
                    var kc = Math.Min(Kc, k - k0);
                    var acc = accumulate || k0 > 0;
                    for (var j0 = 0; j0 < n; j0 += nr)
                    {
                        var width = Math.Min(nr, n - j0);

                        // A panel that only one row block reads is not worth a copy, unless it must be transposed or padded.
                        var inPlace = !transB && width == nr && m <= MaxRows;
                        float* bPanel;
                        int bStride;
                        if (inPlace)
                        {
                            bPanel = pb + (long)k0 * ldb + j0;
                            bStride = ldb;
                        }
                        else
                        {
                            PackPanel(transB, b, ldb, k0, kc, j0, width, nr, panel);
                            bPanel = pp;
                            bStride = nr;
                        }

                        var i0 = 0;
                        while (i0 < m)
                        {
                            var left = m - i0;
                            var rows = left >= MaxRows && lanes == 16 ? MaxRows : left >= 4 ? 4 : left >= 2 && lanes == 16 ? 2 : 1;
                            var aBlock = pa + (long)i0 * rsA + (long)k0 * csA;
                            var cBlock = pc + (long)i0 * ldc + j0;
                            if (width == nr)
                            {
                                Tile(lanes, rows, kc, aBlock, rsA, csA, bPanel, bStride, cBlock, ldc, acc);
                            }
                            else
                            {
                                // Ragged right edge: run the full-width kernel on a scratch tile, copy the valid columns.
                                for (var r = 0; r < rows; r++)
                                {
                                    for (var j = 0; j < nr; j++)
                                    {
                                        tile[r * nr + j] = acc && j < width ? cBlock[(long)r * ldc + j] : 0f;
                                    }
                                }

                                Tile(lanes, rows, kc, aBlock, rsA, csA, bPanel, bStride, tile, nr, acc);
                                for (var r = 0; r < rows; r++)
                                {
                                    new ReadOnlySpan<float>(tile + r * nr, width).CopyTo(new Span<float>(cBlock + (long)r * ldc, width));
                                }
                            }

                            i0 += rows;
                        }
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(panel);
        }
    }

    /// <summary>Copies op(B)[k0..k0+kc, j0..j0+width) into rows of nr floats, zero-padded past width.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackPanel(bool transB, ReadOnlySpan<float> b, int ldb, int k0, int kc, int j0, int width, int nr, float[] panel)
    {
        var dst = panel.AsSpan(0, kc * nr);
        if (transB)
        {
            if (width < nr)
            {
                dst.Clear();
            }

            // Read each stored row of Bᵀ contiguously; writes land nr apart in the panel.
            for (var j = 0; j < width; j++)
            {
                var src = b.Slice((j0 + j) * ldb + k0, kc);
                for (var p = 0; p < kc; p++)
                {
                    dst[p * nr + j] = src[p];
                }
            }
        }
        else
        {
            for (var p = 0; p < kc; p++)
            {
                var row = dst.Slice(p * nr, nr);
                b.Slice((k0 + p) * ldb + j0, width).CopyTo(row);
                row[width..].Clear();
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Tile(int lanes, int rows, int kc, float* a, int rsA, int csA, float* b, int ldb, float* c, int ldc, bool acc)
    {
        if (lanes == 16)
        {
            switch (rows)
            {
                case MaxRows:
                    Kernel512x8(kc, a, rsA, csA, b, ldb, c, ldc, acc);
                    break;
                case 4:
                    Kernel512x4(kc, a, rsA, csA, b, ldb, c, ldc, acc);
                    break;
                case 2:
                    Kernel512x2(kc, a, rsA, csA, b, ldb, c, ldc, acc);
                    break;
                default:
                    Kernel512x1(kc, a, csA, b, ldb, c, acc);
                    break;
            }
        }
        else if (rows == 4)
        {
            Kernel256x4(kc, a, rsA, csA, b, ldb, c, ldc, acc);
        }
        else
        {
            Kernel256x1(kc, a, csA, b, ldb, c, acc);
        }
    }

    /// <summary>8 rows × 32 columns: 16 accumulators (of 32 registers) hide the FMA latency better than 8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Kernel512x8(int kc, float* a, int rsA, int csA, float* b, int ldb, float* c, int ldc, bool acc)
    {
        Vector512<float> c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71;
        if (acc)
        {
            c00 = Vector512.Load(c); c01 = Vector512.Load(c + 16);
            c10 = Vector512.Load(c + ldc); c11 = Vector512.Load(c + ldc + 16);
            c20 = Vector512.Load(c + 2L * ldc); c21 = Vector512.Load(c + 2L * ldc + 16);
            c30 = Vector512.Load(c + 3L * ldc); c31 = Vector512.Load(c + 3L * ldc + 16);
            c40 = Vector512.Load(c + 4L * ldc); c41 = Vector512.Load(c + 4L * ldc + 16);
            c50 = Vector512.Load(c + 5L * ldc); c51 = Vector512.Load(c + 5L * ldc + 16);
            c60 = Vector512.Load(c + 6L * ldc); c61 = Vector512.Load(c + 6L * ldc + 16);
            c70 = Vector512.Load(c + 7L * ldc); c71 = Vector512.Load(c + 7L * ldc + 16);
        }
        else
        {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = Vector512<float>.Zero;
            c40 = c41 = c50 = c51 = c60 = c61 = c70 = c71 = Vector512<float>.Zero;
        }

        long r1 = rsA, r2 = 2L * rsA, r3 = 3L * rsA, r4 = 4L * rsA, r5 = 5L * rsA, r6 = 6L * rsA, r7 = 7L * rsA;
        for (var p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var av = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(av, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(av, b1, c01);
            av = Vector512.Create(a[r1]);
            c10 = Vector512.FusedMultiplyAdd(av, b0, c10);
            c11 = Vector512.FusedMultiplyAdd(av, b1, c11);
            av = Vector512.Create(a[r2]);
            c20 = Vector512.FusedMultiplyAdd(av, b0, c20);
            c21 = Vector512.FusedMultiplyAdd(av, b1, c21);
            av = Vector512.Create(a[r3]);
            c30 = Vector512.FusedMultiplyAdd(av, b0, c30);
            c31 = Vector512.FusedMultiplyAdd(av, b1, c31);
            av = Vector512.Create(a[r4]);
            c40 = Vector512.FusedMultiplyAdd(av, b0, c40);
            c41 = Vector512.FusedMultiplyAdd(av, b1, c41);
            av = Vector512.Create(a[r5]);
            c50 = Vector512.FusedMultiplyAdd(av, b0, c50);
            c51 = Vector512.FusedMultiplyAdd(av, b1, c51);
            av = Vector512.Create(a[r6]);
            c60 = Vector512.FusedMultiplyAdd(av, b0, c60);
            c61 = Vector512.FusedMultiplyAdd(av, b1, c61);
            av = Vector512.Create(a[r7]);
            c70 = Vector512.FusedMultiplyAdd(av, b0, c70);
            c71 = Vector512.FusedMultiplyAdd(av, b1, c71);
            a += csA;
            b += ldb;
        }

        c00.Store(c); c01.Store(c + 16);
        c10.Store(c + ldc); c11.Store(c + ldc + 16);
        c20.Store(c + 2L * ldc); c21.Store(c + 2L * ldc + 16);
        c30.Store(c + 3L * ldc); c31.Store(c + 3L * ldc + 16);
        c40.Store(c + 4L * ldc); c41.Store(c + 4L * ldc + 16);
        c50.Store(c + 5L * ldc); c51.Store(c + 5L * ldc + 16);
        c60.Store(c + 6L * ldc); c61.Store(c + 6L * ldc + 16);
        c70.Store(c + 7L * ldc); c71.Store(c + 7L * ldc + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Kernel512x4(int kc, float* a, int rsA, int csA, float* b, int ldb, float* c, int ldc, bool acc)
    {
        float* c0 = c, c1 = c + ldc, c2 = c + 2L * ldc, c3 = c + 3L * ldc;
        Vector512<float> c00, c01, c10, c11, c20, c21, c30, c31;
        if (acc)
        {
            c00 = Vector512.Load(c0); c01 = Vector512.Load(c0 + 16);
            c10 = Vector512.Load(c1); c11 = Vector512.Load(c1 + 16);
            c20 = Vector512.Load(c2); c21 = Vector512.Load(c2 + 16);
            c30 = Vector512.Load(c3); c31 = Vector512.Load(c3 + 16);
        }
        else
        {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = Vector512<float>.Zero;
        }

        long r1 = rsA, r2 = 2L * rsA, r3 = 3L * rsA;
        for (var p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var a0 = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(a0, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(a0, b1, c01);
            var a1 = Vector512.Create(a[r1]);
            c10 = Vector512.FusedMultiplyAdd(a1, b0, c10);
            c11 = Vector512.FusedMultiplyAdd(a1, b1, c11);
            var a2 = Vector512.Create(a[r2]);
            c20 = Vector512.FusedMultiplyAdd(a2, b0, c20);
            c21 = Vector512.FusedMultiplyAdd(a2, b1, c21);
            var a3 = Vector512.Create(a[r3]);
            c30 = Vector512.FusedMultiplyAdd(a3, b0, c30);
            c31 = Vector512.FusedMultiplyAdd(a3, b1, c31);
            a += csA;
            b += ldb;
        }

        c00.Store(c0); c01.Store(c0 + 16);
        c10.Store(c1); c11.Store(c1 + 16);
        c20.Store(c2); c21.Store(c2 + 16);
        c30.Store(c3); c31.Store(c3 + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Kernel512x2(int kc, float* a, int rsA, int csA, float* b, int ldb, float* c, int ldc, bool acc)
    {
        var c00 = acc ? Vector512.Load(c) : Vector512<float>.Zero;
        var c01 = acc ? Vector512.Load(c + 16) : Vector512<float>.Zero;
        var c10 = acc ? Vector512.Load(c + ldc) : Vector512<float>.Zero;
        var c11 = acc ? Vector512.Load(c + ldc + 16) : Vector512<float>.Zero;
        for (var p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var a0 = Vector512.Create(a[0]);
            var a1 = Vector512.Create(a[rsA]);
            c00 = Vector512.FusedMultiplyAdd(a0, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(a0, b1, c01);
            c10 = Vector512.FusedMultiplyAdd(a1, b0, c10);
            c11 = Vector512.FusedMultiplyAdd(a1, b1, c11);
            a += csA;
            b += ldb;
        }

        c00.Store(c);
        c01.Store(c + 16);
        c10.Store(c + ldc);
        c11.Store(c + ldc + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Kernel512x1(int kc, float* a, int csA, float* b, int ldb, float* c, bool acc)
    {
        var c0 = acc ? Vector512.Load(c) : Vector512<float>.Zero;
        var c1 = acc ? Vector512.Load(c + 16) : Vector512<float>.Zero;
        for (var p = 0; p < kc; p++)
        {
            var av = Vector512.Create(*a);
            c0 = Vector512.FusedMultiplyAdd(av, Vector512.Load(b), c0);
            c1 = Vector512.FusedMultiplyAdd(av, Vector512.Load(b + 16), c1);
            a += csA;
            b += ldb;
        }

        c0.Store(c);
        c1.Store(c + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Kernel256x4(int kc, float* a, int rsA, int csA, float* b, int ldb, float* c, int ldc, bool acc)
    {
        float* c0 = c, c1 = c + ldc, c2 = c + 2L * ldc, c3 = c + 3L * ldc;
        Vector256<float> c00, c01, c10, c11, c20, c21, c30, c31;
        if (acc)
        {
            c00 = Vector256.Load(c0); c01 = Vector256.Load(c0 + 8);
            c10 = Vector256.Load(c1); c11 = Vector256.Load(c1 + 8);
            c20 = Vector256.Load(c2); c21 = Vector256.Load(c2 + 8);
            c30 = Vector256.Load(c3); c31 = Vector256.Load(c3 + 8);
        }
        else
        {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = Vector256<float>.Zero;
        }

        long r1 = rsA, r2 = 2L * rsA, r3 = 3L * rsA;
        for (var p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var a0 = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(a0, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(a0, b1, c01);
            var a1 = Vector256.Create(a[r1]);
            c10 = Vector256.FusedMultiplyAdd(a1, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(a1, b1, c11);
            var a2 = Vector256.Create(a[r2]);
            c20 = Vector256.FusedMultiplyAdd(a2, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(a2, b1, c21);
            var a3 = Vector256.Create(a[r3]);
            c30 = Vector256.FusedMultiplyAdd(a3, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(a3, b1, c31);
            a += csA;
            b += ldb;
        }

        c00.Store(c0); c01.Store(c0 + 8);
        c10.Store(c1); c11.Store(c1 + 8);
        c20.Store(c2); c21.Store(c2 + 8);
        c30.Store(c3); c31.Store(c3 + 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Kernel256x1(int kc, float* a, int csA, float* b, int ldb, float* c, bool acc)
    {
        var c0 = acc ? Vector256.Load(c) : Vector256<float>.Zero;
        var c1 = acc ? Vector256.Load(c + 8) : Vector256<float>.Zero;
        for (var p = 0; p < kc; p++)
        {
            var av = Vector256.Create(*a);
            c0 = Vector256.FusedMultiplyAdd(av, Vector256.Load(b), c0);
            c1 = Vector256.FusedMultiplyAdd(av, Vector256.Load(b + 8), c1);
            a += csA;
            b += ldb;
        }

        c0.Store(c);
        c1.Store(c + 8);
    }
}
