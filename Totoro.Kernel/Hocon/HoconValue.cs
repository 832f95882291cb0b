using System.Collections.Immutable;
using System.Globalization;

namespace Totoro.Kernel.Hocon;

/// <summary>A resolved, immutable HOCON value: an object, an array or a scalar.</summary>
public abstract class HoconValue
{
    private protected HoconValue(HoconPosition position, IEnumerable<HoconValue> children)
    {
        Position = position;
        long size = 1;
        var depth = 0;
        foreach (var child in children)
        {
            size = Math.Min(size + child.Size, long.MaxValue / 2);
            depth = Math.Max(depth, child.Depth + 1);
        }

        Size = size;
        Depth = depth;
    }

    /// <summary>Where the value was defined; typed-access errors point here.</summary>
    public HoconPosition Position { get; }

    /// <summary>
    /// Values in this tree, counting a value reached twice twice. Substitutions share subtrees, so
    /// <c>b = [${a}, ${a}]</c> repeated can describe an exponentially large tree in a few lines; the resolver bounds this.
    /// </summary>
    internal long Size { get; }

    /// <summary>Levels of objects and lists below this value; substitutions can stack subtrees deeper than any written nesting.</summary>
    internal int Depth { get; }

    /// <summary>The kind name used in error messages ("object", "list", "string", ...).</summary>
    public abstract string KindName { get; }
}

/// <summary>The type HOCON gave a scalar; getters convert between them as the spec allows.</summary>
public enum HoconScalarKind
{
    String,
    Number,
    Boolean,
    Null,
}

/// <summary>A string, number, boolean or null, kept as its source text so no precision is lost before a typed getter runs.</summary>
public sealed class HoconScalar : HoconValue
{
    public HoconScalar(string text, HoconScalarKind kind, HoconPosition position)
        : base(position, [])
    {
        ArgumentNullException.ThrowIfNull(text);
        Text = text;
        Kind = kind;
    }

    public string Text { get; }

    public HoconScalarKind Kind { get; }

    public override string KindName => Kind switch
    {
        HoconScalarKind.Number => "number",
        HoconScalarKind.Boolean => "boolean",
        HoconScalarKind.Null => "null",
        _ => "string",
    };

    /// <summary>The value as it would be quoted in an error message: strings quoted, others bare.</summary>
    public string Describe() => Kind == HoconScalarKind.String
        ? $"string \"{Text}\""
        : string.Create(CultureInfo.InvariantCulture, $"{KindName} {Text}");

    public override string ToString() => Text;
}

/// <summary>An ordered list of values.</summary>
public sealed class HoconArray : HoconValue
{
    public HoconArray(ImmutableArray<HoconValue> items, HoconPosition position)
        : base(position, items) => Items = items;

    public ImmutableArray<HoconValue> Items { get; }

    public override string KindName => "list";
}

/// <summary>An object: keys in first-definition order, each bound to a resolved value.</summary>
public sealed class HoconObject : HoconValue
{
    public HoconObject(ImmutableArray<string> keys, ImmutableDictionary<string, HoconValue> fields, HoconPosition position)
        : base(position, fields?.Values ?? throw new ArgumentNullException(nameof(fields)))
    {
        if (keys.Length != fields.Count)
        {
            throw new ArgumentException("every field needs exactly one key in the order list", nameof(keys));
        }

        Keys = keys;
        Fields = fields;
    }

    public static HoconObject Empty { get; } = new([], ImmutableDictionary<string, HoconValue>.Empty, new HoconPosition("<empty>", 0, 0));

    /// <summary>Keys in the order they were first defined (fallback keys after the overlay's).</summary>
    public ImmutableArray<string> Keys { get; }

    public ImmutableDictionary<string, HoconValue> Fields { get; }

    public override string KindName => "object";

    public bool TryGetField(string key, out HoconValue value) => Fields.TryGetValue(key, out value!);

    /// <summary>
    /// Merges this object over <paramref name="fallback"/>: keys present in both merge recursively when both
    /// sides are objects, otherwise this object's value wins.
    /// </summary>
    public HoconObject WithFallback(HoconObject fallback)
    {
        ArgumentNullException.ThrowIfNull(fallback);
        var fields = fallback.Fields.ToBuilder();
        var keys = ImmutableArray.CreateBuilder<string>(Keys.Length + fallback.Keys.Length);
        keys.AddRange(Keys);
        foreach (var key in Keys)
        {
            var mine = Fields[key];
            fields[key] = mine is HoconObject overlay && fallback.Fields.TryGetValue(key, out var under) && under is HoconObject underObject
                ? overlay.WithFallback(underObject)
                : mine;
        }

        foreach (var key in fallback.Keys)
        {
            if (!Fields.ContainsKey(key))
            {
                keys.Add(key);
            }
        }

        return new HoconObject(keys.ToImmutable(), fields.ToImmutable(), Position);
    }
}
