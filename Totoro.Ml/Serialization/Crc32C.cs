using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Totoro.Ml.Serialization;

/// <summary>
/// CRC-32C (Castagnoli), the checksum of iSCSI, ext4 and gRPC's compression tests: check value of
/// "123456789" is 0xE3069283. <see cref="BitOperations.Crc32C(uint, ulong)"/> uses the CPU's CRC32
/// instruction; its latency (3 cycles) would cap one dependency chain near 10 GB/s, so large inputs run
/// three independent lanes and splice them with a precomputed "append LaneBytes zero bytes" operator.
/// Hot loops here and in the other kernels skip tiered compilation (AggressiveOptimization): called in
/// pieces, they otherwise spend the first rounds in unoptimized code (measured 0.2 GB/s vs 10+).
/// (System.IO.Hashing is not on this machine's package mirror.)
/// </summary>
internal static class Crc32C
{
    /// <summary>Callers that checksum in pieces use multiples of this (3 lanes) so no piece ends in a slow single-lane tail.</summary>
    public const int BlockBytes = 3 * LaneBytes;

    private const int LaneBytes = 4096;

    /// <summary>Four byte-indexed tables of the linear map "state after LaneBytes zero bytes".</summary>
    private static readonly uint[] ShiftTables = BuildShiftTables();

    /// <summary>The CRC of a complete message.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => ~Append(~0u, data);

    /// <summary>
    /// Continues a running CRC register (start with ~0u, finish with ~register) over more bytes, so a
    /// payload that arrives in pieces is checked without buffering it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static uint Append(uint register, ReadOnlySpan<byte> data)
    {
        while (data.Length >= BlockBytes)
        {
            uint a = register, b = 0, c = 0;
            ref byte lanes = ref MemoryMarshal.GetReference(data);
            for (int i = 0; i < LaneBytes; i += 8)
            {
                a = BitOperations.Crc32C(a, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref lanes, i)));
                b = BitOperations.Crc32C(b, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref lanes, i + LaneBytes)));
                c = BitOperations.Crc32C(c, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref lanes, i + (2 * LaneBytes))));
            }

            // The register is linear in (state, data): CRC(A‖B) = shift(CRC(A)) ⊕ CRC₀(B), with CRC₀ started at 0.
            register = Shift(Shift(a) ^ b) ^ c;
            data = data[BlockBytes..];
        }

        while (data.Length >= 8)
        {
            register = BitOperations.Crc32C(register, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }

        foreach (byte value in data)
        {
            register = BitOperations.Crc32C(register, value);
        }

        return register;
    }

    private static uint Shift(uint state) =>
        ShiftTables[state & 0xFF]
        ^ ShiftTables[256 + ((state >> 8) & 0xFF)]
        ^ ShiftTables[512 + ((state >> 16) & 0xFF)]
        ^ ShiftTables[768 + (state >> 24)];

    private static uint[] BuildShiftTables()
    {
        // The shift is linear, so it is fixed by its value on the 32 unit vectors; tables follow by XOR.
        Span<uint> basis = stackalloc uint[32];
        for (int bit = 0; bit < 32; bit++)
        {
            uint state = 1u << bit;
            for (int i = 0; i < LaneBytes; i += 8)
            {
                state = BitOperations.Crc32C(state, 0ul);
            }

            basis[bit] = state;
        }

        var tables = new uint[1024];
        for (int table = 0; table < 4; table++)
        {
            for (int value = 0; value < 256; value++)
            {
                uint result = 0;
                for (int bit = 0; bit < 8; bit++)
                {
                    if ((value & (1 << bit)) != 0)
                    {
                        result ^= basis[(table * 8) + bit];
                    }
                }

                tables[(table * 256) + value] = result;
            }
        }

        return tables;
    }
}
