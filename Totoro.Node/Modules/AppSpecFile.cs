using System.Collections.Immutable;
using Totoro.Actors.Fl;
using Totoro.Kernel.Hocon;

namespace Totoro.Node.Modules;

/// <summary>
/// An app spec in HOCON, for <c>totoro cmd HOST app submit FILE</c>: an <c>app { ... }</c> block whose keys mirror
/// <see cref="TotoroApp"/> (docs/fl.md lists them). Every problem — syntax, a wrong type, an unknown key, a value the
/// spec's own validation refuses — is reported as <c>file:line:col: app.key: what is wrong</c>, all at once.
/// </summary>
internal static class AppSpecFile
{
    private const string Root = "app";

    private static readonly ImmutableHashSet<string> Keys =
    [
        "name", "model", "dataset", "partitioning", "rounds", "clients-per-round", "over-selection", "local-epochs", "local-steps",
        "batch-size", "learning-rate", "optimizer", "momentum", "proximal-mu", "strategy", "target-accuracy", "round-deadline", "seed",
        "seed-name",
    ];

    private static readonly ImmutableHashSet<string> StrategyKeys =
        ["rule", "parameter", "krum-keep", "clip-norm", "server-optimizer", "server-learning-rate", "server-momentum"];

    /// <summary>Where each <see cref="AppSpec"/> field lives in the file, to place the spec's own validation errors.</summary>
    private static readonly ImmutableDictionary<string, string> FieldKeys = new Dictionary<string, string>
    {
        ["Name"] = "name", ["Model"] = "model", ["Dataset"] = "dataset", ["Partitioning"] = "partitioning", ["Rounds"] = "rounds",
        ["ClientsPerRound"] = "clients-per-round", ["OverSelection"] = "over-selection", ["LocalEpochs"] = "local-epochs",
        ["LocalSteps"] = "local-steps", ["BatchSize"] = "batch-size", ["LearningRate"] = "learning-rate", ["Momentum"] = "momentum",
        ["ProximalMu"] = "proximal-mu", ["TargetAccuracy"] = "target-accuracy", ["RoundDeadline"] = "round-deadline", ["Strategy"] = "strategy",
        ["SeedName"] = "seed-name",
    }.ToImmutableDictionary();

    /// <summary>Parses <paramref name="text"/> read from <paramref name="source"/> (the name errors cite); throws <see cref="AppSpecException"/>.</summary>
    public static AppSpec Parse(string text, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        HoconConfig config;
        try
        {
            config = HoconConfig.Parse(text, source);
        }
        catch (HoconException e)
        {
            throw new AppSpecException([e.Message]);
        }

        var reader = new AppSpecFileReader(config, source);
        if (!config.HasPath(Root) || config.GetValue(Root) is not HoconObject app)
        {
            throw new AppSpecException([$"{source}: expected an '{Root} {{ ... }}' block"]);
        }

        reader.RejectUnknown(app, Root, Keys);
        var defaults = new AppSpec { Name = "" };
        var spec = new AppSpec
        {
            Name = reader.Text("name", null) ?? "",
            Model = reader.Text("model", defaults.Model)!,
            Dataset = reader.Text("dataset", null) ?? "",
            Partitioning = reader.Partitioning("partitioning") ?? defaults.Partitioning,
            Rounds = reader.Int("rounds") ?? defaults.Rounds,
            ClientsPerRound = reader.Int("clients-per-round") ?? defaults.ClientsPerRound,
            OverSelection = reader.Double("over-selection") ?? defaults.OverSelection,
            LocalEpochs = reader.Int("local-epochs") ?? defaults.LocalEpochs,
            LocalSteps = reader.Int("local-steps"),
            BatchSize = reader.Int("batch-size") ?? defaults.BatchSize,
            LearningRate = reader.Double("learning-rate") ?? defaults.LearningRate,
            Optimizer = reader.Choice("optimizer", new Dictionary<string, LocalOptimizer> { ["sgd"] = LocalOptimizer.Sgd, ["adam"] = LocalOptimizer.Adam }) ?? defaults.Optimizer,
            Momentum = reader.Double("momentum") ?? defaults.Momentum,
            ProximalMu = reader.Double("proximal-mu") ?? defaults.ProximalMu,
            Strategy = reader.Strategy(StrategyKeys) ?? defaults.Strategy,
            TargetAccuracy = reader.Double("target-accuracy"),
            RoundDeadline = reader.Duration("round-deadline") ?? defaults.RoundDeadline,
            Seed = reader.Int("seed") ?? defaults.Seed,
            SeedName = reader.Text("seed-name", null),
        };
        // A key that could not be read holds its default, so its validation error would mislead: report the read error only.
        var invalid = spec.Validate().Select(error => Place(config, source, error))
            .Where(error => !reader.Errors.Any(read => KeyOf(read) == KeyOf(error)));
        var all = reader.Errors.Concat(invalid).ToImmutableArray();
        return all.IsEmpty ? spec : throw new AppSpecException(all);
    }

    /// <summary>Reads <paramref name="path"/> (at most <paramref name="maxBytes"/>) and parses it.</summary>
    public static AppSpec Load(string path, long maxBytes)
    {
        var file = new FileInfo(path);
        if (!file.Exists)
        {
            throw new AppSpecException([$"{path}: no such file"]);
        }

        if (file.Length > maxBytes)
        {
            throw new AppSpecException([$"{path}: {file.Length} bytes is larger than totoro.fl.spec-file-max-size ({maxBytes} bytes)"]);
        }

        return Parse(File.ReadAllText(path), path);
    }

    private static string KeyOf(string error) => error.Split(": ").FirstOrDefault(part => part.StartsWith(Root + ".", StringComparison.Ordinal)) ?? "";

    /// <summary>"Rounds: must be ≥ 1" → "file:3:12: app.rounds: must be ≥ 1" (the key's position when the file sets it).</summary>
    private static string Place(HoconConfig config, string source, string error)
    {
        var colon = error.IndexOf(':', StringComparison.Ordinal);
        var field = colon > 0 ? error[..colon].Split('.')[0] : "";
        var detail = colon > 0 ? error[(colon + 1)..].Trim() : error;
        if (!FieldKeys.TryGetValue(field, out var key))
        {
            return $"{source}: {Root}: {error}";
        }

        var path = $"{Root}.{key}";
        return config.HasPath(path)
            ? $"{config.GetValue(path).Position}: {path}: {detail}"
            : $"{source}: {path}: {detail} (not set in the file; the default or empty value applies)";
    }
}
