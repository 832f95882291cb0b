using System.Collections.Immutable;

namespace Totoro.Kernel.Hocon;

/// <summary>
/// A resolved configuration: an immutable tree plus typed getters. Paths are HOCON path expressions
/// (<c>totoro.remote.port</c>, <c>a."b.c"</c>); errors name the full path from the document root, even on a
/// sub-config obtained with <see cref="GetConfig"/>.
/// </summary>
public sealed class HoconConfig
{
    private readonly ImmutableArray<string> _prefix;

    private HoconConfig(HoconObject root, ImmutableArray<string> prefix)
    {
        Root = root;
        _prefix = prefix;
    }

    public static HoconConfig Empty { get; } = new(HoconObject.Empty, []);

    public HoconObject Root { get; }

    /// <summary>Parses and resolves a document held in a string; <paramref name="source"/> names it in error positions.</summary>
    public static HoconConfig Parse(string text, string source = "<string>", HoconReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(source);
        return Read(text, source, null, options ?? HoconReadOptions.Default);
    }

    /// <summary>Parses and resolves a file; includes are relative to its directory.</summary>
    public static HoconConfig ParseFile(string path, HoconReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new HoconException($"{path}: cannot read config file: {e.Message}", e);
        }

        return Read(text, path, path, options ?? HoconReadOptions.Default);
    }

    private static HoconConfig Read(string text, string source, string? filePath, HoconReadOptions options)
    {
        var document = HoconParser.ParseDocument(text, source, filePath, options);
        return new HoconConfig(HoconResolver.Resolve(document, options), []);
    }

    /// <summary>
    /// This config over <paramref name="fallback"/>: objects merge key by key, any other value here wins.
    /// Both sides are already resolved; to let substitutions see the fallback, pass it as <see cref="HoconReadOptions.Fallback"/>.
    /// </summary>
    public HoconConfig WithFallback(HoconConfig fallback)
    {
        ArgumentNullException.ThrowIfNull(fallback);
        return new HoconConfig(Root.WithFallback(fallback.Root), _prefix);
    }

    /// <summary>True when the path leads to a value that is not null.</summary>
    public bool HasPath(string path) => Find(path) is { } value && value is not HoconScalar { Kind: HoconScalarKind.Null };

    public HoconValue GetValue(string path)
    {
        var value = Find(path) ?? throw new HoconException("no value at this path (and no default in a reference.conf)", null, FullPath(path));
        return value is HoconScalar { Kind: HoconScalarKind.Null }
            ? throw new HoconException("is null but a value is required", value.Position, FullPath(path))
            : value;
    }

    public string GetString(string path) => HoconConvert.ToText(GetValue(path), FullPath(path));

    public int GetInt(string path) => HoconConvert.ToInt(GetValue(path), FullPath(path));

    public long GetLong(string path) => HoconConvert.ToLong(GetValue(path), FullPath(path));

    public double GetDouble(string path) => HoconConvert.ToDouble(GetValue(path), FullPath(path));

    /// <summary>Accepts true/false, yes/no and on/off.</summary>
    public bool GetBoolean(string path) => HoconConvert.ToBoolean(GetValue(path), FullPath(path));

    /// <summary>A duration such as <c>500ms</c>, <c>10s</c>, <c>2m</c>, <c>1h</c>; a bare number is milliseconds.</summary>
    public TimeSpan GetDuration(string path) => HoconConvert.ToDuration(GetValue(path), FullPath(path), allowInfinite: false);

    /// <summary>Like <see cref="GetDuration"/>, but <c>off</c> and <c>infinite</c> give <see cref="Timeout.InfiniteTimeSpan"/>.</summary>
    public TimeSpan GetDurationOrInfinite(string path) => HoconConvert.ToDuration(GetValue(path), FullPath(path), allowInfinite: true);

    /// <summary>A size in bytes: <c>512</c>, <c>512k</c>, <c>4MiB</c>, <c>10MB</c>, <c>1G</c> (single letters and "Xi" are powers of 1024).</summary>
    public long GetBytes(string path) => HoconConvert.ToBytes(GetValue(path), FullPath(path));

    public IReadOnlyList<HoconValue> GetList(string path)
    {
        var value = GetValue(path);
        return value is HoconArray array ? array.Items : throw HoconConvert.Mismatch(value, FullPath(path), "a list");
    }

    public IReadOnlyList<string> GetStringList(string path) => ConvertList(path, HoconConvert.ToText);

    public IReadOnlyList<int> GetIntList(string path) => ConvertList(path, HoconConvert.ToInt);

    /// <summary>The object at <paramref name="path"/> as a config whose error messages keep the full path.</summary>
    public HoconConfig GetConfig(string path)
    {
        var value = GetValue(path);
        return value is HoconObject sub
            ? new HoconConfig(sub, _prefix.AddRange(HoconPath.Parse(path)))
            : throw HoconConvert.Mismatch(value, FullPath(path), "an object");
    }

    /// <summary>
    /// The objects of the list at <paramref name="path"/>, each as a config whose error messages name it by index
    /// (<c>path.0</c>, <c>path.1</c>, …).
    /// </summary>
    public IReadOnlyList<HoconConfig> GetConfigList(string path)
    {
        var prefix = _prefix.AddRange(HoconPath.Parse(path));
        return [.. GetList(path).Select((item, i) => item is HoconObject sub
            ? new HoconConfig(sub, prefix.Add(i.ToString(System.Globalization.CultureInfo.InvariantCulture)))
            : throw HoconConvert.Mismatch(item, $"{FullPath(path)}.{i}", "an object"))];
    }

    /// <summary>The full path of <paramref name="path"/> from the document root, as it appears in error messages.</summary>
    public string FullPath(string path) => HoconPath.Render(_prefix.AddRange(HoconPath.Parse(path)));

    private ImmutableArray<T> ConvertList<T>(string path, Func<HoconValue, string, T> convert)
    {
        var full = FullPath(path);
        return [.. GetList(path).Select((item, i) => convert(item, $"{full}[{i}]"))];
    }

    private HoconValue? Find(string path)
    {
        ImmutableArray<string> segments;
        try
        {
            segments = HoconPath.Parse(path);
        }
        catch (HoconException e)
        {
            throw new ArgumentException(e.Message, nameof(path), e);
        }

        HoconValue current = Root;
        foreach (var segment in segments)
        {
            if (current is not HoconObject obj || !obj.TryGetField(segment, out current))
            {
                return null;
            }
        }

        return current;
    }
}
