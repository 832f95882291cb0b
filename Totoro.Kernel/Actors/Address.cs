using System.Globalization;

namespace Totoro.Kernel;

/// <summary>Where an actor system lives: <c>totoro://system@host:port</c>, or <c>totoro://system</c> for a purely local system.</summary>
public sealed record Address(string System, string? Host = null, int Port = 0)
{
    public const string Protocol = "totoro";

    public override string ToString() => Host is null
        ? $"{Protocol}://{System}"
        : string.Create(CultureInfo.InvariantCulture, $"{Protocol}://{System}@{Host}:{Port}");

    /// <summary>Parses <c>totoro://system[@host:port]</c>; returns the index just past the address in <paramref name="text"/>.</summary>
    internal static Address Parse(string text, out int end)
    {
        const string prefix = Protocol + "://";
        if (!text.StartsWith(prefix, StringComparison.Ordinal))
        {
            throw new FormatException($"'{text}' does not start with {prefix}");
        }
        var slash = text.IndexOf('/', prefix.Length);
        end = slash < 0 ? text.Length : slash;
        var authority = text.AsSpan(prefix.Length, end - prefix.Length);
        var at = authority.IndexOf('@');
        if (at < 0)
        {
            return new Address(authority.ToString());
        }
        var hostPort = authority[(at + 1)..];
        var colon = hostPort.LastIndexOf(':');
        if (colon < 0 || !int.TryParse(hostPort[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port))
        {
            throw new FormatException($"'{text}' has no port after the host");
        }
        return new Address(authority[..at].ToString(), hostPort[..colon].ToString(), port);
    }
}
