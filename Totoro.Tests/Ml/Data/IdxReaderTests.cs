using System.Buffers.Binary;
using System.IO.Compression;
using Totoro.Ml.Data;

namespace Totoro.Tests.Ml.Data;

public sealed class IdxReaderTests
{
    private static byte[] Idx(int magic, int[] dims, int dataBytes)
    {
        var buffer = new byte[4 + 4 * dims.Length + dataBytes];
        BinaryPrimitives.WriteInt32BigEndian(buffer, magic);
        for (var d = 0; d < dims.Length; d++)
        {
            BinaryPrimitives.WriteInt32BigEndian(buffer.AsSpan(4 + 4 * d), dims[d]);
        }

        for (var i = 0; i < dataBytes; i++)
        {
            buffer[4 + 4 * dims.Length + i] = (byte)(i * 31);
        }

        return buffer;
    }

    private static byte[] Gzip(byte[] raw)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(raw);
        }

        return output.ToArray();
    }

    [TestCase(false)]
    [TestCase(true)]
    public void Reads_images_plain_or_gzipped(bool compressed)
    {
        var raw = Idx(0x803, [2, 3, 4], 24);
        var (count, rows, columns, pixels) = IdxReader.ReadImages(new MemoryStream(compressed ? Gzip(raw) : raw), "x");
        Assert.That((count, rows, columns), Is.EqualTo((2, 3, 4)));
        Assert.That(pixels, Is.EqualTo(raw[16..]));
    }

    [Test]
    public void Wrong_magic_names_the_file_and_the_expected_value()
    {
        var labels = Gzip(Idx(0x801, [5], 5));
        Assert.That(() => IdxReader.ReadImages(new MemoryStream(labels), "t10k-images"),
            Throws.TypeOf<IdxFormatException>().With.Message.Contains("t10k-images").And.Message.Contains("0x00000803"));
    }

    [Test]
    public void Truncated_data_is_reported()
    {
        var raw = Idx(0x801, [10], 10)[..^3];
        Assert.That(() => IdxReader.ReadLabels(new MemoryStream(Gzip(raw)), "labels"),
            Throws.TypeOf<IdxFormatException>().With.Message.Contains("ends while reading"));
    }

    [Test]
    public void Trailing_bytes_are_reported()
    {
        var raw = Idx(0x801, [10], 12);
        Assert.That(() => IdxReader.ReadLabels(new MemoryStream(raw), "labels"),
            Throws.TypeOf<IdxFormatException>().With.Message.Contains("trailing"));
    }

    [Test]
    public void Non_positive_and_huge_dimensions_are_rejected_before_allocating()
    {
        Assert.That(() => IdxReader.ReadImages(new MemoryStream(Idx(0x803, [2, 0, 4], 0)), "x"),
            Throws.TypeOf<IdxFormatException>().With.Message.Contains("dimension 1"));
        Assert.That(() => IdxReader.ReadImages(new MemoryStream(Idx(0x803, [1 << 20, 1 << 10, 1 << 10], 0)), "x"),
            Throws.TypeOf<IdxFormatException>().With.Message.Contains("more than"));
    }

    [Test]
    public void Corrupt_gzip_is_a_format_error()
    {
        var gz = Gzip(Idx(0x801, [100], 100));
        for (var i = 12; i < gz.Length - 8; i++)
        {
            gz[i] ^= 0x5A;
        }

        Assert.That(() => IdxReader.ReadLabels(new MemoryStream(gz), "labels"), Throws.TypeOf<IdxFormatException>());
    }

    [Test]
    public void Missing_fashion_mnist_names_the_debian_package()
    {
        var empty = Directory.CreateTempSubdirectory("totoro-no-data").FullName;
        try
        {
            Assert.That(() => FashionMnist.Load(empty),
                Throws.TypeOf<DatasetUnavailableException>().With.Message.Contains("dataset-fashion-mnist"));
        }
        finally
        {
            Directory.Delete(empty);
        }
    }
}
