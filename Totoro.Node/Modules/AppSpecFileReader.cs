using System.Collections.Immutable;
using System.Globalization;
using Totoro.Actors.Fl;
using Totoro.Kernel.Hocon;

namespace Totoro.Node.Modules;

/// <summary>Typed, optional reads of an app spec file's <c>app</c> block; each failure is kept as <c>file:line:col: key: detail</c>.</summary>
internal sealed class AppSpecFileReader(HoconConfig config, string source)
{
    private readonly List<string> errors = [];

    public IReadOnlyList<string> Errors => errors;

    public void RejectUnknown(HoconObject block, string path, ImmutableHashSet<string> known)
    {
        foreach (var key in block.Keys.Where(k => !known.Contains(k)))
        {
            errors.Add($"{block.Fields[key].Position}: {path}.{key}: unknown key (known: {string.Join(", ", known.Order(StringComparer.Ordinal))})");
        }
    }

    public string? Text(string key, string? fallback) => Read(key, config.GetString) ?? fallback;

    public int? Int(string key) => Read(key, p => (int?)config.GetInt(p));

    public double? Double(string key) => Read(key, p => (double?)config.GetDouble(p));

    public TimeSpan? Duration(string key) => Read(key, p => (TimeSpan?)config.GetDuration(p));

    public T? Choice<T>(string key, IReadOnlyDictionary<string, T> choices)
        where T : struct =>
        Read(key, p =>
        {
            var text = config.GetString(p).ToLowerInvariant();
            return choices.TryGetValue(text, out var value) ? value : Fail<T?>(p, $"'{text}' is not one of {string.Join(", ", choices.Keys)}");
        });

    /// <summary><c>iid</c>, <c>dirichlet:α</c>, <c>shards:n</c> (label shards per worker) or <c>quantity-skew:β</c>.</summary>
    public Partitioning? Partitioning(string key) => Read(key, p =>
    {
        var text = config.GetString(p).Trim().ToLowerInvariant();
        var parts = text.Split(':', 2);
        double? parameter = parts.Length == 2 && double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var x) ? x : null;
        return (parts[0], parameter) switch
        {
            ("iid", null) when parts.Length == 1 => Actors.Fl.Partitioning.Iid(),
            ("dirichlet", { } alpha) => Actors.Fl.Partitioning.Dirichlet(alpha),
            ("shards", { } shards) => Actors.Fl.Partitioning.LabelShards((int)shards) with { Parameter = shards },
            ("quantity-skew", { } beta) => Actors.Fl.Partitioning.QuantitySkew(beta),
            _ => Fail<Partitioning?>(p, $"'{text}' is not iid, dirichlet:ALPHA, shards:N or quantity-skew:BETA"),
        };
    });

    /// <summary>The optional <c>strategy { ... }</c> block.</summary>
    public Strategy? Strategy(ImmutableHashSet<string> known)
    {
        const string path = "app.strategy";
        if (!config.HasPath(path))
        {
            return null;
        }

        if (config.GetValue(path) is not HoconObject block)
        {
            return Fail<Strategy?>(path, "expected an object { rule = ..., ... }");
        }

        RejectUnknown(block, path, known);
        var rule = Choice("strategy.rule", new Dictionary<string, RuleKind>
        {
            ["fedavg"] = RuleKind.FedAvg, ["median"] = RuleKind.Median, ["trimmed-mean"] = RuleKind.TrimmedMean, ["krum"] = RuleKind.Krum,
        }) ?? RuleKind.FedAvg;
        var server = Choice("strategy.server-optimizer", new Dictionary<string, ServerOptimizerKind>
        {
            ["sgd"] = ServerOptimizerKind.Sgd, ["fedavgm"] = ServerOptimizerKind.FedAvgM, ["fedadagrad"] = ServerOptimizerKind.FedAdagrad,
            ["fedadam"] = ServerOptimizerKind.FedAdam, ["fedyogi"] = ServerOptimizerKind.FedYogi,
        }) ?? ServerOptimizerKind.Sgd;
        var defaults = rule switch
        {
            RuleKind.TrimmedMean => Actors.Fl.Strategy.TrimmedMean(),
            RuleKind.Krum => Actors.Fl.Strategy.Krum(0),
            RuleKind.Median => Actors.Fl.Strategy.Median(),
            _ => Actors.Fl.Strategy.FedAvg(),
        };
        return defaults with
        {
            RuleParameter = Double("strategy.parameter") ?? defaults.RuleParameter,
            KrumKeep = Int("strategy.krum-keep") ?? defaults.KrumKeep,
            ClipNorm = Double("strategy.clip-norm"),
            ServerOptimizer = server,
            ServerLearningRate = Double("strategy.server-learning-rate") ?? defaults.ServerLearningRate,
            ServerMomentum = Double("strategy.server-momentum") ?? defaults.ServerMomentum,
        };
    }

    private T? Read<T>(string key, Func<string, T?> get)
    {
        var path = "app." + key;
        if (!config.HasPath(path))
        {
            return default;
        }

        try
        {
            return get(path);
        }
        catch (HoconException e)
        {
            errors.Add(e.Position is { } at ? $"{at}: {e.Path ?? path}: {e.Detail}" : $"{source}: {e.Message}");
            return default;
        }
    }

    private T? Fail<T>(string path, string detail)
    {
        var full = path.StartsWith("app.", StringComparison.Ordinal) ? path : "app." + path;
        errors.Add($"{config.GetValue(full).Position}: {full}: {detail}");
        return default;
    }
}
