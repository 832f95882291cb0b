namespace Totoro.Kernel.Hocon;

/// <summary>
/// Limits and environment for reading a document. The defaults are safe for untrusted input: nesting and
/// include depth are bounded so a hostile file fails with a <see cref="HoconException"/> instead of a stack overflow.
/// </summary>
public sealed record HoconReadOptions
{
    public static HoconReadOptions Default { get; } = new();

    /// <summary>Deepest allowed nesting of objects and arrays, counting dotted key segments.</summary>
    public int MaxNestingDepth { get; init; } = 64;

    /// <summary>How many includes may be nested inside each other.</summary>
    public int MaxIncludeDepth { get; init; } = 16;

    /// <summary>
    /// Deepest chain of nested values and substitutions the resolver follows (a substitution whose target holds
    /// another substitution counts one level each, as does each object or list it passes through).
    /// </summary>
    public int MaxResolveDepth { get; init; } = 256;

    /// <summary>
    /// Largest value resolution may produce: characters of a string, or values in an object or list tree (a
    /// subtree copied twice by substitution counts twice). Stops <c>${a}${a}</c> doubling attacks.
    /// </summary>
    public int MaxValueSize { get; init; } = 1 << 20;

    /// <summary>Directory for relative includes of a document read from a string; null rejects includes there.</summary>
    public string? IncludeDirectory { get; init; }

    /// <summary>
    /// Values the document is merged over before substitutions resolve (usually reference.conf), so
    /// <c>${totoro.x}</c> may name a default and <c>a = ${a} [...]</c> may extend one.
    /// </summary>
    public HoconConfig? Fallback { get; init; }

    /// <summary>Where substitutions missing from the document are looked up; tests inject a dictionary.</summary>
    public Func<string, string?> Environment { get; init; } = System.Environment.GetEnvironmentVariable;
}
