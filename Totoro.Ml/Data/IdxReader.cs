using System.Buffers.Binary;
using System.IO.Compression;

namespace Totoro.Ml.Data;

/// <summary>Malformed or truncated IDX input.</summary>
public sealed class IdxFormatException(string message) : Exception(message);

/// <summary>
/// Reads unsigned-byte IDX files (MNIST's format: big-endian magic 0x00000801 for labels, 0x00000803 for
/// images, then the dimension sizes, then the bytes), optionally gzip-compressed (detected by the gzip magic).
/// </summary>
internal static class IdxReader
{
    public const int LabelMagic = 0x801;
    public const int ImageMagic = 0x803;

    // Larger than any real IDX file we read; a corrupt header must not make us allocate gigabytes.
    private const long MaxElements = 1L << 30;

    public static byte[] ReadLabels(Stream stream, string name) => Read(stream, name, LabelMagic, 1).Data;

    public static (int Count, int Rows, int Columns, byte[] Pixels) ReadImages(Stream stream, string name)
    {
        var (dims, data) = Read(stream, name, ImageMagic, 3);
        return (dims[0], dims[1], dims[2], data);
    }

    private static (int[] Dims, byte[] Data) Read(Stream raw, string name, int expectedMagic, int rank)
    {
        ArgumentNullException.ThrowIfNull(raw);
        using var stream = MaybeGunzip(raw, name);
        Span<byte> word = stackalloc byte[4];
        ReadExactly(stream, word, name, "magic number");
        var magic = BinaryPrimitives.ReadInt32BigEndian(word);
        if (magic != expectedMagic)
        {
            throw new IdxFormatException($"{name}: magic number 0x{magic:x8}, expected 0x{expectedMagic:x8} ({(expectedMagic == LabelMagic ? "labels" : "images")}, unsigned bytes, {rank} dimension(s))");
        }

        var dims = new int[rank];
        long total = 1;
        for (var d = 0; d < rank; d++)
        {
            ReadExactly(stream, word, name, $"size of dimension {d}");
            dims[d] = BinaryPrimitives.ReadInt32BigEndian(word);
            if (dims[d] <= 0)
            {
                throw new IdxFormatException($"{name}: dimension {d} has size {dims[d]}");
            }

            total *= dims[d];
            if (total > MaxElements)
            {
                throw new IdxFormatException($"{name}: header declares more than {MaxElements} elements");
            }
        }

        var data = new byte[total];
        ReadExactly(stream, data, name, $"{total} data bytes");
        if (stream.ReadByte() != -1)
        {
            throw new IdxFormatException($"{name}: trailing bytes after the {total} declared data bytes");
        }

        return (dims, data);
    }

    private static Stream MaybeGunzip(Stream raw, string name)
    {
        var buffered = new BufferedStream(raw, 1 << 16);
        Span<byte> head = stackalloc byte[2];
        var peek = buffered.CanSeek ? buffered.Read(head) : 0;
        if (buffered.CanSeek)
        {
            buffered.Seek(-peek, SeekOrigin.Current);
        }

        if (peek == 2 && head[0] == 0x1f && head[1] == 0x8b)
        {
            return new GzipGuard(new GZipStream(buffered, CompressionMode.Decompress), name);
        }

        return buffered;
    }

    private static void ReadExactly(Stream stream, Span<byte> buffer, string name, string what)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = stream.Read(buffer[read..]);
            if (n == 0)
            {
                throw new IdxFormatException($"{name}: file ends while reading the {what} ({read} of {buffer.Length} bytes)");
            }

            read += n;
        }
    }

    /// <summary>Turns the decompressor's InvalidDataException into our format error, naming the file.</summary>
    private sealed class GzipGuard(Stream inner, string name) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            try
            {
                return inner.Read(buffer);
            }
            catch (InvalidDataException e)
            {
                throw new IdxFormatException($"{name}: corrupt gzip data ({e.Message})");
            }
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
