using FsProperty = FsCheck.NUnit.PropertyAttribute;
using Totoro.Actors.Ring;

namespace Totoro.Tests.Actors.Ring;

public class NodeIdTests
{
    private static NodeId Id(ulong high, ulong low) => new(new UInt128(high, low));

    [Test]
    public void FromName_is_sha256_prefix_and_formats_as_32_hex_digits()
    {
        // SHA-256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
        var id = NodeId.FromName("abc");
        Assert.That(id.ToString(), Is.EqualTo("ba7816bf8f01cfea414140de5dae2223"));
        Assert.That(NodeId.Parse(id.ToString()), Is.EqualTo(id));
        Assert.That(NodeId.FromName("app:mnist"), Is.Not.EqualTo(NodeId.FromName("app:cifar")));
    }

    [Test]
    public void Digits_of_base_16_read_the_hex_string()
    {
        var id = NodeId.Parse("0123456789abcdef0123456789abcdef");
        var geometry = IdGeometry.Default;
        Assert.That(geometry.DigitCount, Is.EqualTo(32));
        Assert.That(Enumerable.Range(0, 16).Select(i => geometry.Digit(id, i)), Is.EqualTo(Enumerable.Range(0, 16)));
        Assert.That(geometry.Format(id), Is.EqualTo(id.ToString()));
    }

    [Test]
    public void Base_8_has_a_narrow_last_digit()
    {
        var geometry = new IdGeometry(3);
        Assert.That(geometry.DigitCount, Is.EqualTo(43));
        var allOnes = new NodeId(UInt128.MaxValue);
        Assert.That(geometry.Digit(allOnes, 0), Is.EqualTo(7));
        Assert.That(geometry.Digit(allOnes, 42), Is.EqualTo(3));
        Assert.That(geometry.SharedPrefixLength(allOnes, allOnes), Is.EqualTo(43));
    }

    [Test]
    public void Ring_distance_wraps_around()
    {
        var nearTop = new NodeId(UInt128.MaxValue - 1);
        var nearBottom = new NodeId(2);
        Assert.That(nearTop.DistanceTo(nearBottom), Is.EqualTo((UInt128)4));
        Assert.That(nearTop.ClockwiseTo(nearBottom), Is.EqualTo((UInt128)4));
        Assert.That(nearBottom.CounterClockwiseTo(nearTop), Is.EqualTo((UInt128)4));
        Assert.That(nearBottom.ClockwiseTo(nearTop), Is.EqualTo(UInt128.MaxValue - 3));
    }

    [Test]
    public void Equidistant_ties_break_toward_the_lower_id()
    {
        var key = new NodeId(100);
        Assert.That(new NodeId(90).IsCloserTo(key, new NodeId(110)), Is.True);
        Assert.That(new NodeId(110).IsCloserTo(key, new NodeId(90)), Is.False);
        Assert.That(new NodeId(95).IsCloserTo(key, new NodeId(95)), Is.False);
    }

    [FsProperty(MaxTest = 300)]
    public bool Distance_is_symmetric_and_at_most_half_the_ring(ulong ah, ulong al, ulong bh, ulong bl)
    {
        var a = Id(ah, al);
        var b = Id(bh, bl);
        return a.DistanceTo(b) == b.DistanceTo(a) &&
               a.DistanceTo(b) <= (UInt128.One << 127) &&
               a.ClockwiseTo(b) + b.ClockwiseTo(a) == UInt128.Zero &&
               (a.DistanceTo(b) == UInt128.Zero) == (a == b);
    }

    [FsProperty(MaxTest = 300)]
    public bool Shared_prefix_counts_equal_leading_digits(ulong ah, ulong al, ulong bh, ulong bl, byte bitsSeed)
    {
        var geometry = new IdGeometry((bitsSeed % 8) + 1);
        var a = Id(ah, al);
        var b = Id(bh, bl);
        var shared = geometry.SharedPrefixLength(a, b);
        var digitsEqual = Enumerable.Range(0, shared).All(i => geometry.Digit(a, i) == geometry.Digit(b, i));
        var nextDiffers = shared == geometry.DigitCount || geometry.Digit(a, shared) != geometry.Digit(b, shared);
        return digitsEqual && nextDiffers && shared == geometry.SharedPrefixLength(b, a);
    }

    [FsProperty(MaxTest = 300)]
    public bool Digits_reassemble_the_id(ulong high, ulong low, byte bitsSeed)
    {
        var geometry = new IdGeometry((bitsSeed % 8) + 1);
        var id = Id(high, low);
        var value = UInt128.Zero;
        for (var position = 0; position < geometry.DigitCount; position++)
        {
            var width = Math.Min(geometry.BitsPerDigit, 128 - (position * geometry.BitsPerDigit));
            var digit = geometry.Digit(id, position);
            if (digit < 0 || digit >= 1 << width)
            {
                return false;
            }

            value = (value << width) | (uint)digit;
        }

        return value == id.Value;
    }

    [FsProperty(MaxTest = 300)]
    public bool Closer_is_a_strict_total_order(ulong key, ulong a, ulong b, ulong c)
    {
        var k = Id(key, 0);
        var x = Id(a, 0);
        var y = Id(b, 0);
        var z = Id(c, 0);
        var antisymmetric = x == y || x.IsCloserTo(k, y) != y.IsCloserTo(k, x);
        var transitive = !(x.IsCloserTo(k, y) && y.IsCloserTo(k, z)) || x.IsCloserTo(k, z);
        return antisymmetric && transitive && !x.IsCloserTo(k, x);
    }
}
