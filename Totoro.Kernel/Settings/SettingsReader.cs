using Totoro.Kernel.Hocon;

namespace Totoro.Kernel.Settings;

/// <summary>
/// Reads one module's config section into a settings record, collecting every problem instead of stopping at
/// the first, so an operator fixes a config file in one pass. Getters return a placeholder after recording an
/// error; <see cref="Validated{T}"/> then throws before that placeholder can escape.
/// </summary>
/// <example>
/// <code>
/// var reader = new SettingsReader(config, "totoro.remote");
/// var settings = new RemoteSettings(Port: reader.Int("port", min: 1, max: 65535), Host: reader.String("host"));
/// return reader.Validated(settings);
/// </code>
/// </example>
public sealed class SettingsReader
{
    private readonly HoconConfig _section;
    private readonly string _sectionPath;
    private readonly List<string> _errors;

    public SettingsReader(HoconConfig config, string sectionPath)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(sectionPath);
        _errors = [];
        _sectionPath = sectionPath;
        try
        {
            _section = config.GetConfig(sectionPath);
        }
        catch (HoconException e)
        {
            _errors.Add(e.Message);
            _section = HoconConfig.Empty;
        }
    }

    private SettingsReader(HoconConfig section, string sectionPath, List<string> errors)
    {
        _section = section;
        _sectionPath = sectionPath;
        _errors = errors;
    }

    /// <summary>The problems recorded so far.</summary>
    public IReadOnlyList<string> Errors => _errors;

    public string String(string key) => Read(key, _section.GetString, string.Empty, null);

    public int Int(string key, int min = int.MinValue, int max = int.MaxValue) =>
        Read(key, _section.GetInt, min, v => v >= min && v <= max ? null : $"must be between {min} and {max}, was {v}");

    public long Long(string key, long min = long.MinValue, long max = long.MaxValue) =>
        Read(key, _section.GetLong, min, v => v >= min && v <= max ? null : $"must be between {min} and {max}, was {v}");

    public double Double(string key, double min = double.MinValue, double max = double.MaxValue) =>
        Read(key, _section.GetDouble, min, v => v >= min && v <= max ? null : $"must be between {min} and {max}, was {v}");

    public bool Boolean(string key) => Read(key, _section.GetBoolean, false, null);

    /// <summary>A finite duration no shorter than <paramref name="min"/> (zero by default).</summary>
    public TimeSpan Duration(string key, TimeSpan? min = null)
    {
        var floor = min ?? TimeSpan.Zero;
        return Read(key, _section.GetDuration, floor, v => v >= floor ? null : $"must be at least {floor}, was {v}");
    }

    /// <summary>A duration where <c>off</c>/<c>infinite</c> mean <see cref="Timeout.InfiniteTimeSpan"/>.</summary>
    public TimeSpan DurationOrInfinite(string key, TimeSpan? min = null)
    {
        var floor = min ?? TimeSpan.Zero;
        return Read(
            key,
            _section.GetDurationOrInfinite,
            Timeout.InfiniteTimeSpan,
            v => v == Timeout.InfiniteTimeSpan || v >= floor ? null : $"must be at least {floor} or off, was {v}");
    }

    public long Bytes(string key, long min = 0, long max = long.MaxValue) =>
        Read(key, _section.GetBytes, min, v => v >= min && v <= max ? null : $"must be between {min} and {max} bytes, was {v}");

    public IReadOnlyList<string> StringList(string key) => Read(key, _section.GetStringList, [], null);

    /// <summary>
    /// One reader per object of the list at <paramref name="key"/> (its keys relative to that object); their problems
    /// are recorded here, so <see cref="Validated{T}"/> reports them with the rest.
    /// </summary>
    public IReadOnlyList<SettingsReader> ObjectList(string key)
    {
        var items = Read<IReadOnlyList<HoconConfig>>(key, _section.GetConfigList, [], null);
        return [.. items.Select((item, i) => new SettingsReader(item, $"{Join(key)}.{i}", _errors))];
    }

    /// <summary>Records a cross-field rule; <paramref name="key"/> is relative to the section like every other key.</summary>
    public void Require(bool condition, string key, string message)
    {
        if (!condition)
        {
            _errors.Add($"{Join(key)}: {message}");
        }
    }

    /// <summary>Returns <paramref name="settings"/> when nothing was wrong; otherwise throws one exception listing every problem.</summary>
    public T Validated<T>(T settings) => _errors.Count == 0 ? settings : throw new SettingsException([.. _errors]);

    private string Join(string key) => $"{_sectionPath}.{key}";

    private T Read<T>(string key, Func<string, T> get, T placeholder, Func<T, string?>? check)
    {
        try
        {
            var value = get(key);
            if (check?.Invoke(value) is { } problem)
            {
                var at = _section.GetValue(key).Position;
                _errors.Add($"{_section.FullPath(key)}: {problem} ({at})");
                return placeholder;
            }

            return value;
        }
        catch (HoconException e)
        {
            _errors.Add(e.Message);
            return placeholder;
        }
    }
}
