using System.Buffers;
using System.Buffers.Binary;
using Totoro.Ml.Serialization;

namespace Totoro.Tests.Ml.Serialization;

public class UpdateCodecTests
{
    private const ulong Architecture = 0xBEEF;

    [FsCheck.NUnit.Property(Replay = "20261121,19", MaxTest = 60)]
    public void Float32_round_trip_is_exact(int seed, ushort lengthSeed)
    {
        var rng = new Random(seed);
        var values = Values(rng, lengthSeed % 5000);
        values[0] = float.MaxValue;
        values[1] = -float.Epsilon;
        values[2] = -0f;

        var decoded = RoundTrip(values, PayloadEncoding.Float32, 0);

        Assert.That(decoded.Values.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(values.Select(BitConverter.SingleToInt32Bits)));
        Assert.That(decoded.Header, Is.EqualTo(new UpdateHeader(Architecture, 42, values.Length, PayloadEncoding.Float32, 0)));
    }

    [Test]
    public void Float16_error_is_bounded()
    {
        var values = Values(new Random(5), 100_000);

        var decoded = RoundTrip(values, PayloadEncoding.Float16, 0).Values;

        var (maxAbs, relativeL2) = Errors(values, decoded);
        TestContext.Out.WriteLine($"fp16 on U(-1,1): max abs error {maxAbs:E3}, relative L2 error {relativeL2:E3}");
        Assert.That(maxAbs, Is.LessThanOrEqualTo(Math.Pow(2, -12)), "half an ulp of binary16 at |x| < 1");
        Assert.That(relativeL2, Is.LessThanOrEqualTo(3e-4));
    }

    [TestCase(64)]
    [TestCase(256)]
    [TestCase(4096)]
    public void Int8_error_is_bounded_by_half_a_step_per_chunk(int chunk)
    {
        var values = Values(new Random(chunk), 100_003);

        var decoded = RoundTrip(values, PayloadEncoding.Int8, chunk).Values;

        double worstRatio = 0;
        for (int start = 0; start < values.Length; start += chunk)
        {
            int length = Math.Min(chunk, values.Length - start);
            double step = values.AsSpan(start, length).ToArray().Max(Math.Abs) / 127.0;
            for (int i = start; i < start + length; i++)
            {
                worstRatio = Math.Max(worstRatio, Math.Abs(values[i] - decoded[i]) / step);
            }
        }

        var (maxAbs, relativeL2) = Errors(values, decoded);
        TestContext.Out.WriteLine($"int8 chunk {chunk} on U(-1,1): max abs error {maxAbs:E3}, relative L2 error {relativeL2:E3}, worst error / step {worstRatio:F4}");
        Assert.That(worstRatio, Is.LessThanOrEqualTo(0.5 + 1e-4));
        Assert.That(relativeL2, Is.LessThanOrEqualTo(6e-3));
    }

    [Test]
    public void Int8_all_zero_chunk_decodes_to_zeros()
    {
        var decoded = RoundTrip(new float[300], PayloadEncoding.Int8, 128).Values;

        Assert.That(decoded, Is.All.EqualTo(0f));
    }

    [FsCheck.NUnit.Property(Replay = "20261121,21", MaxTest = 40)]
    public void Decoding_any_split_into_segments_equals_decoding_one_span(int seed, byte encodingSeed)
    {
        var rng = new Random(seed);
        var encoding = (PayloadEncoding)(1 + (encodingSeed % 3));
        var values = Values(rng, rng.Next(0, 3000));
        var bytes = Encode(values, encoding, encoding == PayloadEncoding.Int8 ? 1 + rng.Next(300) : 0);

        Assert.That(UpdateCodec.TryDecode(bytes, CodecLimits.Default, out var whole, out _), Is.True);
        Assert.That(UpdateCodec.TryDecode(Split(bytes, rng), CodecLimits.Default, out var pieces, out var error), Is.True, error?.Detail);

        Assert.That(pieces!.Values, Is.EqualTo(whole!.Values));
    }

    [Test]
    public void Decoder_fed_one_byte_at_a_time_matches()
    {
        var values = Values(new Random(8), 700);
        var bytes = Encode(values, PayloadEncoding.Int8, 97);
        var decoder = new UpdateDecoder(CodecLimits.Default);

        foreach (byte b in bytes)
        {
            Assert.That(decoder.Feed([b]), Is.Null);
        }

        Assert.That(decoder.TryComplete(out var update, out _), Is.True);
        Assert.That(UpdateCodec.TryDecode(bytes, CodecLimits.Default, out var whole, out _), Is.True);
        Assert.That(update!.Values, Is.EqualTo(whole!.Values));
    }

    [FsCheck.NUnit.Property(Replay = "20261121,23", MaxTest = 300)]
    public void Every_corrupted_byte_is_rejected_with_a_typed_error(int seed, byte encodingSeed)
    {
        var rng = new Random(seed);
        var encoding = (PayloadEncoding)(1 + (encodingSeed % 3));
        var bytes = Encode(Values(rng, 1 + rng.Next(2000)), encoding, encoding == PayloadEncoding.Int8 ? 64 : 0);
        int flips = 1 + rng.Next(3);
        for (int i = 0; i < flips; i++)
        {
            bytes[rng.Next(bytes.Length)] ^= (byte)(1 + rng.Next(255));
        }

        bool span = UpdateCodec.TryDecode(bytes, CodecLimits.Default, out _, out var spanError);
        bool stream = UpdateCodec.TryDecode(Split(bytes, rng), CodecLimits.Default, out _, out var streamError);

        Assert.That(span, Is.False);
        Assert.That(stream, Is.False);
        Assert.That(spanError, Is.Not.Null);
        Assert.That(streamError, Is.Not.Null);
    }

    [Test]
    public void Every_truncation_is_rejected_as_truncated()
    {
        var bytes = Encode(Values(new Random(9), 150), PayloadEncoding.Float16, 0);

        for (int length = 0; length < bytes.Length; length++)
        {
            var prefix = bytes.AsSpan(0, length);
            Assert.That(UpdateCodec.TryDecode(prefix, CodecLimits.Default, out _, out var spanError), Is.False);
            Assert.That(spanError!.Kind, Is.EqualTo(CodecErrorKind.Truncated), $"length {length}");

            var decoder = new UpdateDecoder(CodecLimits.Default);
            Assert.That(decoder.Feed(prefix), Is.Null);
            Assert.That(decoder.TryComplete(out _, out var streamError), Is.False);
            Assert.That(streamError!.Kind, Is.EqualTo(CodecErrorKind.Truncated), $"length {length}");
        }
    }

    [Test]
    public void Trailing_bytes_are_rejected()
    {
        var bytes = Encode(Values(new Random(10), 10), PayloadEncoding.Float32, 0);
        var longer = bytes.Append((byte)0).ToArray();
        var decoder = new UpdateDecoder(CodecLimits.Default);

        Assert.That(UpdateCodec.TryDecode(longer, CodecLimits.Default, out _, out var error), Is.False);
        Assert.That(error!.Kind, Is.EqualTo(CodecErrorKind.TrailingBytes));
        Assert.That(decoder.Feed(longer)!.Kind, Is.EqualTo(CodecErrorKind.TrailingBytes));
    }

    [Test]
    public void Header_fields_with_a_valid_checksum_are_still_checked()
    {
        Assert.That(DecodeHeader(h => h[4] = 2), Is.EqualTo(CodecErrorKind.UnsupportedVersion));
        Assert.That(DecodeHeader(h => h[6] = 9), Is.EqualTo(CodecErrorKind.UnknownEncoding));
        Assert.That(DecodeHeader(h => h[7] = 1), Is.EqualTo(CodecErrorKind.ReservedFieldSet));
        Assert.That(DecodeHeader(h => BinaryPrimitives.WriteInt32LittleEndian(h[24..], -1)), Is.EqualTo(CodecErrorKind.ElementCountTooLarge));
        Assert.That(DecodeHeader(h => BinaryPrimitives.WriteInt32LittleEndian(h[28..], 5)), Is.EqualTo(CodecErrorKind.BadChunkSize));
        Assert.That(DecodeHeader(h => h[0] = (byte)'X'), Is.EqualTo(CodecErrorKind.BadMagic));
    }

    [Test]
    public void Absurd_element_count_is_refused_before_allocating()
    {
        var header = new byte[UpdateCodec.HeaderSize + 8];
        UpdateCodec.WriteHeader(header, new UpdateHeader(Architecture, 1, 60_000_000, PayloadEncoding.Float32, 0));
        var tight = new CodecLimits(maxElementCount: 1_000_000);

        long before = GC.GetAllocatedBytesForCurrentThread();
        bool overLimit = UpdateCodec.TryDecode(header, tight, out _, out var limitError);
        bool shortInput = UpdateCodec.TryDecode(header, CodecLimits.Default, out _, out var shortError);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.That(overLimit, Is.False);
        Assert.That(limitError!.Kind, Is.EqualTo(CodecErrorKind.ElementCountTooLarge));
        Assert.That(shortInput, Is.False);
        Assert.That(shortError!.Kind, Is.EqualTo(CodecErrorKind.Truncated));
        Assert.That(allocated, Is.LessThan(64 * 1024), "the 240 MB the header claims was never allocated");
    }

    [Test]
    public void Expected_element_count_is_enforced()
    {
        var bytes = Encode(Values(new Random(11), 100), PayloadEncoding.Float32, 0);

        Assert.That(UpdateCodec.TryDecode(bytes, new CodecLimits(expectedElementCount: 99), out _, out var error), Is.False);
        Assert.That(error!.Kind, Is.EqualTo(CodecErrorKind.ElementCountMismatch));
    }

    [Test]
    public void Decoding_into_a_callers_buffer_reuses_it_and_checks_its_length()
    {
        var values = Values(new Random(14), 500);
        var bytes = Encode(values, PayloadEncoding.Float32, 0);
        var buffer = new float[500];

        Assert.That(UpdateCodec.TryDecode(bytes, CodecLimits.Default, out var decoded, out _, buffer), Is.True);
        Assert.That(decoded!.Values, Is.SameAs(buffer));
        Assert.That(buffer, Is.EqualTo(values));
        Assert.That(UpdateCodec.TryDecode(bytes, CodecLimits.Default, out _, out var error, new float[499]), Is.False);
        Assert.That(error!.Kind, Is.EqualTo(CodecErrorKind.ElementCountMismatch));
    }

    [Test]
    public void Encoder_refuses_unrepresentable_values_and_writes_nothing()
    {
        var writer = new ArrayBufferWriter<byte>();
        float[] nan = [1, float.NaN];
        float[] big = [1, 70_000];

        var nanError = UpdateCodec.Encode(writer, new UpdateHeader(Architecture, 1, 2, PayloadEncoding.Float32, 0), nan);
        var rangeError = UpdateCodec.Encode(writer, new UpdateHeader(Architecture, 1, 2, PayloadEncoding.Float16, 0), big);
        var lengthError = UpdateCodec.Encode(writer, new UpdateHeader(Architecture, 1, 3, PayloadEncoding.Float32, 0), big);
        var halfNan = UpdateCodec.Encode(writer, new UpdateHeader(Architecture, 1, 2, PayloadEncoding.Float16, 0), nan);
        var halfInfinity = UpdateCodec.Encode(writer, new UpdateHeader(Architecture, 1, 2, PayloadEncoding.Float16, 0), [float.NegativeInfinity, 0]);
        var int8Nan = UpdateCodec.Encode(writer, new UpdateHeader(Architecture, 1, 2, PayloadEncoding.Int8, 16), nan);

        Assert.That(nanError!.Kind, Is.EqualTo(CodecErrorKind.NonFiniteValue));
        Assert.That(rangeError!.Kind, Is.EqualTo(CodecErrorKind.ValueOutOfRange));
        Assert.That(lengthError!.Kind, Is.EqualTo(CodecErrorKind.ElementCountMismatch));
        Assert.That(halfNan!.Kind, Is.EqualTo(CodecErrorKind.NonFiniteValue));
        Assert.That(halfInfinity!.Kind, Is.EqualTo(CodecErrorKind.NonFiniteValue));
        Assert.That(int8Nan!.Kind, Is.EqualTo(CodecErrorKind.NonFiniteValue));
        Assert.That(writer.WrittenCount, Is.Zero);
    }

    [Test]
    public void Decoder_refuses_a_non_finite_payload_even_with_a_valid_checksum()
    {
        var payload = new byte[8];
        BinaryPrimitives.WriteSingleLittleEndian(payload, 1f);
        BinaryPrimitives.WriteSingleLittleEndian(payload.AsSpan(4), float.PositiveInfinity);
        var bytes = new byte[UpdateCodec.HeaderSize + 8 + UpdateCodec.TrailerSize];
        UpdateCodec.WriteHeader(bytes, new UpdateHeader(Architecture, 1, 2, PayloadEncoding.Float32, 0));
        payload.CopyTo(bytes, UpdateCodec.HeaderSize);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(UpdateCodec.HeaderSize + 8), Crc32C.Compute(payload));

        Assert.That(UpdateCodec.TryDecode(bytes, CodecLimits.Default, out _, out var error), Is.False);
        Assert.That(error!.Kind, Is.EqualTo(CodecErrorKind.NonFiniteValue));
    }

    [TestCase(float.PositiveInfinity)]
    [TestCase(float.NaN)]
    [TestCase(-1f)]
    [TestCase(float.MaxValue)]
    public void Decoder_refuses_a_forged_int8_scale_even_with_a_valid_checksum(float scale)
    {
        var payload = new byte[4 + 2];
        BinaryPrimitives.WriteSingleLittleEndian(payload, scale);
        payload[4] = 0x80;
        payload[5] = 0x7F;
        var bytes = new byte[UpdateCodec.HeaderSize + payload.Length + UpdateCodec.TrailerSize];
        UpdateCodec.WriteHeader(bytes, new UpdateHeader(Architecture, 1, 2, PayloadEncoding.Int8, 2));
        payload.CopyTo(bytes, UpdateCodec.HeaderSize);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(UpdateCodec.HeaderSize + payload.Length), Crc32C.Compute(payload));

        Assert.That(UpdateCodec.TryDecode(bytes, CodecLimits.Default, out _, out var error), Is.False);
        Assert.That(error!.Kind, Is.EqualTo(CodecErrorKind.ValueOutOfRange));
    }

    [Test]
    public void Encoded_length_is_what_the_encoder_writes()
    {
        foreach (var (encoding, chunk) in new[] { (PayloadEncoding.Float32, 0), (PayloadEncoding.Float16, 0), (PayloadEncoding.Int8, 100) })
        {
            var bytes = Encode(Values(new Random(12), 1001), encoding, chunk);
            Assert.That(bytes.Length, Is.EqualTo(UpdateCodec.EncodedLength(new UpdateHeader(Architecture, 42, 1001, encoding, chunk))));
        }
    }

    private static float[] Values(Random rng, int length)
    {
        var values = new float[Math.Max(length, 3)];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)((rng.NextDouble() * 2) - 1);
        }

        return values;
    }

    private static byte[] Encode(float[] values, PayloadEncoding encoding, int chunk)
    {
        var writer = new ArrayBufferWriter<byte>();
        var error = UpdateCodec.Encode(writer, new UpdateHeader(Architecture, 42, values.Length, encoding, chunk), values);
        Assert.That(error, Is.Null, error?.Detail);
        return writer.WrittenSpan.ToArray();
    }

    private static DecodedUpdate RoundTrip(float[] values, PayloadEncoding encoding, int chunk)
    {
        var bytes = Encode(values, encoding, chunk);
        Assert.That(UpdateCodec.TryDecode(bytes, CodecLimits.Default, out var decoded, out var error), Is.True, error?.Detail);
        return decoded!;
    }

    private static (double MaxAbs, double RelativeL2) Errors(float[] expected, float[] actual)
    {
        double maxAbs = 0, diff = 0, norm = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double e = actual[i] - (double)expected[i];
            maxAbs = Math.Max(maxAbs, Math.Abs(e));
            diff += e * e;
            norm += (double)expected[i] * expected[i];
        }

        return (maxAbs, Math.Sqrt(diff / norm));
    }

    private static CodecErrorKind DecodeHeader(SpanAction mutate)
    {
        var bytes = Encode(Values(new Random(13), 16), PayloadEncoding.Float32, 0);
        mutate(bytes.AsSpan(0, UpdateCodec.HeaderSize));
        if (bytes[0] == (byte)'T')
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(32), Crc32C.Compute(bytes.AsSpan(0, 32)));
        }

        Assert.That(UpdateCodec.TryDecode(bytes, CodecLimits.Default, out _, out var error), Is.False);
        return error!.Kind;
    }

    private delegate void SpanAction(Span<byte> header);

    /// <summary>The bytes as a chain of segments of random sizes, as a pipe would deliver them.</summary>
    private static ReadOnlySequence<byte> Split(byte[] bytes, Random rng)
    {
        Segment? first = null, last = null;
        int start = 0;
        while (start < bytes.Length)
        {
            int length = Math.Min(bytes.Length - start, 1 + rng.Next(200));
            var segment = new Segment(bytes.AsMemory(start, length), last?.RunningIndex + last?.Memory.Length ?? 0);
            if (last is null)
            {
                first = segment;
            }
            else
            {
                last.Next = segment;
            }

            last = segment;
            start += length;
        }

        return first is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(first, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public new Segment? Next
        {
            get => (Segment?)base.Next;
            set => base.Next = value;
        }
    }
}
