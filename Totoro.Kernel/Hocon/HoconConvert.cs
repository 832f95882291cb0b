using System.Collections.Frozen;
using System.Globalization;

namespace Totoro.Kernel.Hocon;

/// <summary>Typed conversions of resolved values, with errors naming the key path and where the value was set.</summary>
internal static class HoconConvert
{
    private static readonly FrozenDictionary<string, double> DurationUnitsInMilliseconds = BuildDurationUnits();

    private static readonly FrozenDictionary<string, long> SizeUnits = BuildSizeUnits();

    public static HoconException Mismatch(HoconValue value, string path, string expected)
    {
        var found = value is HoconScalar scalar ? scalar.Describe() : $"{(value is HoconArray ? "a" : "an")} {value.KindName}";
        return new HoconException($"expected {expected}, found {found}", value.Position, path);
    }

    public static string ToText(HoconValue value, string path) =>
        value is HoconScalar { Kind: not HoconScalarKind.Null } scalar ? scalar.Text : throw Mismatch(value, path, "a string");

    public static int ToInt(HoconValue value, string path)
    {
        var number = ToLong(value, path, "an integer");
        return number is < int.MinValue or > int.MaxValue
            ? throw new HoconException($"{number} is out of range for a 32-bit integer", value.Position, path)
            : (int)number;
    }

    public static long ToLong(HoconValue value, string path) => ToLong(value, path, "an integer");

    public static double ToDouble(HoconValue value, string path) =>
        value is HoconScalar { Kind: HoconScalarKind.Number or HoconScalarKind.String } scalar
        && double.TryParse(scalar.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
        && double.IsFinite(number)
            ? number
            : throw Mismatch(value, path, "a number");

    public static bool ToBoolean(HoconValue value, string path) =>
        (value as HoconScalar)?.Text switch
        {
            "true" or "yes" or "on" when value is HoconScalar { Kind: not HoconScalarKind.Null } => true,
            "false" or "no" or "off" when value is HoconScalar { Kind: not HoconScalarKind.Null } => false,
            _ => throw Mismatch(value, path, "a boolean (true/false, yes/no, on/off)"),
        };

    public static TimeSpan ToDuration(HoconValue value, string path, bool allowInfinite)
    {
        var expected = allowInfinite ? "a duration (e.g. 500ms, 10s, 2m, 1h) or off/infinite" : "a duration (e.g. 500ms, 10s, 2m, 1h)";
        if (value is not HoconScalar { Kind: HoconScalarKind.Number or HoconScalarKind.String } scalar)
        {
            throw Mismatch(value, path, expected);
        }

        var text = scalar.Text.Trim();
        if (text is "off" or "infinite")
        {
            return allowInfinite
                ? Timeout.InfiniteTimeSpan
                : throw new HoconException($"'{text}' is not allowed here; expected a finite duration (e.g. 500ms, 10s)", value.Position, path);
        }

        var (number, unit) = SplitUnit(text);
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var amount)
            || !double.IsFinite(amount)
            || !DurationUnitsInMilliseconds.TryGetValue(unit, out var factor))
        {
            throw Mismatch(value, path, expected);
        }

        var milliseconds = amount * factor;
        return Math.Abs(milliseconds) >= TimeSpan.MaxValue.TotalMilliseconds
            ? throw new HoconException($"duration '{text}' is out of range", value.Position, path)
            : TimeSpan.FromTicks((long)Math.Round(milliseconds * TimeSpan.TicksPerMillisecond));
    }

    public static long ToBytes(HoconValue value, string path)
    {
        const string expected = "a size in bytes (e.g. 512, 512k, 4MiB, 10MB, 1G)";
        if (value is not HoconScalar { Kind: HoconScalarKind.Number or HoconScalarKind.String } scalar)
        {
            throw Mismatch(value, path, expected);
        }

        var (number, unit) = SplitUnit(scalar.Text.Trim());
        if (!decimal.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) || !SizeUnits.TryGetValue(unit, out var factor))
        {
            throw Mismatch(value, path, expected);
        }

        decimal bytes;
        try
        {
            bytes = amount * factor;
        }
        catch (OverflowException)
        {
            throw new HoconException($"size '{scalar.Text}' is out of range", value.Position, path);
        }

        return bytes switch
        {
            < 0 => throw new HoconException($"size '{scalar.Text}' is negative", value.Position, path),
            > long.MaxValue => throw new HoconException($"size '{scalar.Text}' is out of range", value.Position, path),
            _ when bytes != decimal.Truncate(bytes) => throw new HoconException($"size '{scalar.Text}' is not a whole number of bytes", value.Position, path),
            _ => (long)bytes,
        };
    }

    private static long ToLong(HoconValue value, string path, string expected)
    {
        if (value is HoconScalar { Kind: HoconScalarKind.Number or HoconScalarKind.String } scalar)
        {
            if (long.TryParse(scalar.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
            {
                return number;
            }

            if (scalar.Text.Length > 0 && scalar.Text.TrimStart('-').All(char.IsAsciiDigit))
            {
                throw new HoconException($"{scalar.Text} is out of range for a 64-bit integer", value.Position, path);
            }
        }

        throw Mismatch(value, path, expected);
    }

    private static (string Number, string Unit) SplitUnit(string text)
    {
        var i = text.Length;
        while (i > 0 && char.IsAsciiLetter(text[i - 1]))
        {
            i--;
        }

        return (text[..i].TrimEnd(), text[i..]);
    }

    private static FrozenDictionary<string, double> BuildDurationUnits()
    {
        var units = new Dictionary<string, double>(StringComparer.Ordinal) { [string.Empty] = 1 };
        Add(1e-6, "ns", "nano", "nanos", "nanosecond", "nanoseconds");
        Add(1e-3, "us", "micro", "micros", "microsecond", "microseconds");
        Add(1, "ms", "milli", "millis", "millisecond", "milliseconds");
        Add(1_000, "s", "second", "seconds");
        Add(60_000, "m", "minute", "minutes");
        Add(3_600_000, "h", "hour", "hours");
        Add(86_400_000, "d", "day", "days");
        return units.ToFrozenDictionary(StringComparer.Ordinal);

        void Add(double milliseconds, params string[] names)
        {
            foreach (var name in names)
            {
                units[name] = milliseconds;
            }
        }
    }

    private static FrozenDictionary<string, long> BuildSizeUnits()
    {
        var units = new Dictionary<string, long>(StringComparer.Ordinal);
        Add(1, "", "B", "b", "byte", "bytes");
        string[] decimalPrefixes = ["k", "M", "G", "T", "P"];
        string[] decimalNames = ["kilo", "mega", "giga", "tera", "peta"];
        string[] binaryNames = ["kibi", "mebi", "gibi", "tebi", "pebi"];
        long si = 1, binary = 1;
        for (var i = 0; i < decimalPrefixes.Length; i++)
        {
            si *= 1000;
            binary *= 1024;
            var letter = decimalPrefixes[i].ToUpperInvariant();
            Add(si, $"{decimalPrefixes[i]}B", $"{decimalNames[i]}byte", $"{decimalNames[i]}bytes");

            // Following the spec (and the JVM), a bare letter means the power of two: 512k is 524288.
            Add(binary, letter, letter.ToLowerInvariant(), $"{letter}i", $"{letter}iB", $"{binaryNames[i]}byte", $"{binaryNames[i]}bytes");
        }

        return units.ToFrozenDictionary(StringComparer.Ordinal);

        void Add(long bytes, params string[] names)
        {
            foreach (var name in names)
            {
                units[name] = bytes;
            }
        }
    }
}
