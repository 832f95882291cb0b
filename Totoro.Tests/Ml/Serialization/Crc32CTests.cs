using Totoro.Ml.Serialization;

namespace Totoro.Tests.Ml.Serialization;

public class Crc32CTests
{
    [Test]
    public void Check_value_of_the_standard_test_string()
    {
        Assert.That(Crc32C.Compute("123456789"u8), Is.EqualTo(0xE3069283u));
        Assert.That(Crc32C.Compute([]), Is.EqualTo(0u));
    }

    [TestCase(1)]
    [TestCase(12_287)]
    [TestCase(12_288)]
    [TestCase(12_289)]
    [TestCase(100_003)]
    public void Three_lane_crc_equals_the_bitwise_definition(int length)
    {
        var data = new byte[length];
        new Random(length).NextBytes(data);

        Assert.That(Crc32C.Compute(data), Is.EqualTo(Bitwise(data)));
    }

    [Test]
    public void Appending_pieces_equals_one_pass()
    {
        var data = new byte[70_001];
        new Random(3).NextBytes(data);
        uint register = ~0u;
        int start = 0;
        foreach (int piece in new[] { 5, 13_000, 1, 40_000, 16_995 })
        {
            register = Crc32C.Append(register, data.AsSpan(start, piece));
            start += piece;
        }

        Assert.That(~register, Is.EqualTo(Crc32C.Compute(data)));
    }

    /// <summary>The reflected polynomial 0x82F63B78, one bit at a time.</summary>
    private static uint Bitwise(ReadOnlySpan<byte> data)
    {
        uint crc = ~0u;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
            }
        }

        return ~crc;
    }
}
