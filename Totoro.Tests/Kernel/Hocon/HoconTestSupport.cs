using Totoro.Kernel.Hocon;

namespace Totoro.Tests.Kernel.Hocon;

/// <summary>Parses with an explicit environment so no test depends on the variables of the machine it runs on.</summary>
internal static class HoconTestSupport
{
    public static HoconConfig Parse(string text, IReadOnlyDictionary<string, string>? environment = null, HoconConfig? fallback = null) =>
        HoconConfig.Parse(text, "test.conf", Options(environment, fallback));

    public static HoconReadOptions Options(IReadOnlyDictionary<string, string>? environment = null, HoconConfig? fallback = null) => new()
    {
        Environment = name => environment is not null && environment.TryGetValue(name, out var value) ? value : null,
        Fallback = fallback,
    };

    public static HoconException ParseError(string text, HoconReadOptions? options = null) =>
        Assert.Throws<HoconException>(() => HoconConfig.Parse(text, "test.conf", options ?? Options()))!;
}
