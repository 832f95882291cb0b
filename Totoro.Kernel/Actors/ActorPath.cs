namespace Totoro.Kernel;

/// <summary>
/// An actor's address plus its position in the hierarchy (<c>/user/parent/child</c>).
/// The elements are kept as one string so a path costs one small object per actor.
/// </summary>
public sealed class ActorPath : IEquatable<ActorPath>
{
    public ActorPath(Address address, string elements)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(elements);
        Address = address;
        Elements = elements;
    }

    public Address Address { get; }

    /// <summary>The hierarchy part, starting with '/', e.g. <c>/user/ring</c>; the root is <c>/</c>.</summary>
    public string Elements { get; }

    public string Name
    {
        get
        {
            var slash = Elements.LastIndexOf('/');
            return slash < 0 ? Elements : Elements[(slash + 1)..];
        }
    }

    public ActorPath Child(string name) =>
        new(Address, Elements.Length == 1 ? "/" + name : Elements + "/" + name);

    public static ActorPath Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var address = Address.Parse(text, out var end);
        return new ActorPath(address, end >= text.Length ? "/" : text[end..]);
    }

    public bool Equals(ActorPath? other) =>
        other is not null && string.Equals(Elements, other.Elements, StringComparison.Ordinal) && Address.Equals(other.Address);

    public override bool Equals(object? obj) => obj is ActorPath other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Address, Elements);

    public override string ToString() => Address + Elements;
}
