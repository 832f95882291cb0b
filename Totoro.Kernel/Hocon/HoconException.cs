namespace Totoro.Kernel.Hocon;

/// <summary>
/// The only exception the reader throws for bad input: syntax, includes, substitutions, limits and typed access.
/// <see cref="Exception.Message"/> already carries the position and key path so a caller can print it as is.
/// </summary>
public sealed class HoconException : Exception
{
    public HoconException()
    {
    }

    public HoconException(string message)
        : base(message)
    {
    }

    public HoconException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    internal HoconException(string detail, HoconPosition? position, string? path)
        : base(Format(detail, position, path))
    {
        Detail = detail;
        Position = position;
        Path = path;
    }

    /// <summary>The message without position and path prefixes.</summary>
    public string? Detail { get; }

    /// <summary>Where in the input the problem is, when it is tied to a place in a document.</summary>
    public HoconPosition? Position { get; }

    /// <summary>The key path the problem concerns, when there is one.</summary>
    public string? Path { get; }

    // Syntax errors read "file:line:col: detail"; typed-access errors read "path: detail (file:line:col)",
    // because for those the key is what the operator searches for first.
    private static string Format(string detail, HoconPosition? position, string? path) =>
        (position, path) switch
        {
            ({ } p, null) => $"{p}: {detail}",
            (null, { } k) => $"{k}: {detail}",
            ({ } p, { } k) => $"{k}: {detail} ({p})",
            _ => detail,
        };
}
