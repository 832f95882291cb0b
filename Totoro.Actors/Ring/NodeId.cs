using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Totoro.Actors.Ring;

/// <summary>
/// A 128-bit overlay identifier. Stored as two 64-bit halves rather than a <see cref="UInt128"/> field so that
/// the struct has 8-byte alignment: <see cref="PeerEntry"/> then packs into 24 bytes instead of 32.
/// </summary>
public readonly record struct NodeId : IComparable<NodeId>
{
    private readonly ulong high;
    private readonly ulong low;

    public NodeId(UInt128 value)
    {
        high = (ulong)(value >> 64);
        low = (ulong)value;
    }

    public UInt128 Value => new(high, low);

    /// <summary>The key of a name: the first 16 bytes of SHA-256(UTF-8 name), big-endian.</summary>
    public static NodeId FromName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(name), hash);
        return new NodeId(BinaryPrimitives.ReadUInt128BigEndian(hash));
    }

    public static NodeId Parse(string hex) =>
        new(UInt128.Parse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture));

    /// <summary>Clockwise distance from this id to <paramref name="other"/>, wrapping around 2^128.</summary>
    public UInt128 ClockwiseTo(NodeId other) => other.Value - Value;

    /// <summary>Counter-clockwise distance from this id to <paramref name="other"/>, wrapping around 2^128.</summary>
    public UInt128 CounterClockwiseTo(NodeId other) => Value - other.Value;

    /// <summary>Numeric ring distance: the shorter way round.</summary>
    public UInt128 DistanceTo(NodeId other)
    {
        var clockwise = ClockwiseTo(other);
        var counter = CounterClockwiseTo(other);
        return clockwise < counter ? clockwise : counter;
    }

    /// <summary>
    /// True when this id is strictly closer to <paramref name="key"/> than <paramref name="other"/> under the
    /// total order (ring distance, then id value). The tie-break makes "the numerically closest node" unique.
    /// </summary>
    public bool IsCloserTo(NodeId key, NodeId other)
    {
        var mine = DistanceTo(key);
        var theirs = other.DistanceTo(key);
        return mine != theirs ? mine < theirs : Value < other.Value;
    }

    public int CompareTo(NodeId other) => Value.CompareTo(other.Value);

    public static bool operator <(NodeId left, NodeId right) => left.Value < right.Value;

    public static bool operator >(NodeId left, NodeId right) => left.Value > right.Value;

    public static bool operator <=(NodeId left, NodeId right) => left.Value <= right.Value;

    public static bool operator >=(NodeId left, NodeId right) => left.Value >= right.Value;

    public override string ToString() => Value.ToString("x32", CultureInfo.InvariantCulture);

    /// <summary>The first <paramref name="digits"/> hex characters: enough to tell nodes apart in logs.</summary>
    public string ToShortString(int digits = 8) => ToString()[..digits];
}

/// <summary>
/// How ids are cut into digits: b bits per digit, 2^b columns per routing-table row, ceil(128/b) rows.
/// When b does not divide 128 the last digit is narrower (e.g. b = 3: 42 digits of 3 bits and one of 2).
/// </summary>
public readonly record struct IdGeometry
{
    public IdGeometry(int bitsPerDigit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bitsPerDigit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bitsPerDigit, 8);
        BitsPerDigit = bitsPerDigit;
    }

    public static IdGeometry Default { get; } = new(4);

    public int BitsPerDigit { get; }

    public int Columns => 1 << BitsPerDigit;

    public int DigitCount => (128 + BitsPerDigit - 1) / BitsPerDigit;

    /// <summary>Width of a row-<paramref name="row"/> slot block: the ids sharing <paramref name="row"/> + 1 leading digits (2^(128 − b·(row + 1)); 1 past the last digit).</summary>
    public UInt128 BlockWidth(int row) => BitsPerDigit * (row + 1) >= 128 ? UInt128.One : UInt128.One << (128 - (BitsPerDigit * (row + 1)));

    /// <summary>Digit <paramref name="position"/> of <paramref name="id"/>, position 0 being the most significant.</summary>
    public int Digit(NodeId id, int position)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(position);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(position, DigitCount);
        var start = position * BitsPerDigit;
        var width = Math.Min(BitsPerDigit, 128 - start);
        var shift = 128 - start - width;
        return (int)((id.Value >> shift) & ((UInt128.One << width) - 1));
    }

    /// <summary>Number of leading digits <paramref name="a"/> and <paramref name="b"/> share (DigitCount when equal).</summary>
    public int SharedPrefixLength(NodeId a, NodeId b)
    {
        var difference = a.Value ^ b.Value;
        return difference == UInt128.Zero
            ? DigitCount
            : (int)UInt128.LeadingZeroCount(difference) / BitsPerDigit;
    }

    /// <summary>The id as a string of base-2^b digits (hex when b = 4), for logs and tests.</summary>
    public string Format(NodeId id)
    {
        var builder = new StringBuilder(DigitCount * 2);
        for (var position = 0; position < DigitCount; position++)
        {
            if (BitsPerDigit <= 4)
            {
                builder.Append(Digit(id, position).ToString("x", CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append(Digit(id, position).ToString("x2", CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }
}
