using Microsoft.Extensions.Logging;
using Totoro.Actors.Fl;
using Totoro.Kernel.Hocon;
using Totoro.Kernel.Settings;
using Totoro.Ml.Aggregation;
using Totoro.Ml.Data;

namespace Totoro.Node.Modules;

/// <summary>
/// The FL module's settings (HOCON section <c>totoro.fl</c>, defaults in Totoro.Node's reference.conf).
/// <see cref="FromConfig"/> names the key path of every invalid value.
/// </summary>
/// <param name="Roles">What the roles get: level budget factor, cooldown rounds, checkpoint replicas, model chunk size, the training dispatcher's name.</param>
/// <param name="TrainingThreads">Threads of the dedicated dispatcher that training, folding and evaluation run on.</param>
/// <param name="TreeFanOut">Children per tree node of an app's tree over the ring members.</param>
/// <param name="TopologyRefresh">How often the ring's state is re-read (besides every leaf-set change and peer failure).</param>
/// <param name="QueryTimeout">How long an ops command waits for an app's root to answer.</param>
/// <param name="SpecFileMaxBytes">The largest app spec file <c>app submit</c> accepts.</param>
/// <param name="FashionMnistDirectory">IDX files of FashionMNIST served as <c>fashion-mnist</c>; empty: not served.</param>
/// <param name="Blobs">The seeded synthetic set served as <c>blobs</c>, or null.</param>
internal sealed record FlModuleSettings(
    FlSettings Roles,
    int TrainingThreads,
    int TreeFanOut,
    TimeSpan TopologyRefresh,
    TimeSpan QueryTimeout,
    long SpecFileMaxBytes,
    string FashionMnistDirectory,
    BlobsSettings? Blobs)
{
    public const string Section = "totoro.fl";

    public const string FashionMnistName = "fashion-mnist";

    public const string BlobsName = "blobs";

    public static FlModuleSettings FromConfig(HoconConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var fl = new SettingsReader(config, Section);
        var evaluationText = fl.String("evaluation");
        var evaluation = FlSettings.ParseEvaluation(evaluationText);
        fl.Require(evaluation is not null, "evaluation", $"'{evaluationText}' is not an evaluation mode: expected overlapped or inline");
        var foldText = fl.String("aggregation.fold");
        bool? fixedFold = foldText.Trim().ToLowerInvariant() switch { "fixed-point" => true, "float" => false, _ => null };
        fl.Require(fixedFold is not null, "aggregation.fold", $"'{foldText}' is not a fold: expected fixed-point or float");
        int fractionBits = fl.Int("aggregation.fraction-bits", min: FixedPointFormat.MinFractionBits, max: FixedPointFormat.MaxFractionBits);
        var roles = new FlSettings(
            FlSettings.Default.TrainingDispatcher,
            fl.Double("level-budget-factor", min: 0.01, max: 1.0),
            fl.Int("cooldown-rounds", min: 0, max: 1000))
        {
            Replicas = fl.Int("replicas", min: 0, max: 64),
            MaxSubmitHops = fl.Int("max-submit-hops", min: 1, max: 64),
            EndedAppHistory = fl.Int("ended-app-history", min: 0, max: 100_000),
            TreeRoleIdleTimeout = fl.Duration("tree-role-idle-timeout", min: TimeSpan.FromSeconds(1)),
            ModelChunkBytes = (int)fl.Bytes("model-chunk-size", min: FlSettings.MinModelChunkBytes, max: FlSettings.MaxModelChunkBytes),
            Evaluation = evaluation ?? FlSettings.Default.Evaluation,
            Fold = fixedFold == false ? null : new FixedPointFormat(Math.Clamp(fractionBits, FixedPointFormat.MinFractionBits, FixedPointFormat.MaxFractionBits)),
        };
        var blobsOn = fl.Boolean("data.blobs.enabled");
        var blobs = new BlobsSettings(
            fl.Int("data.blobs.train-samples", min: 1, max: 10_000_000),
            fl.Int("data.blobs.test-samples", min: 1, max: 10_000_000),
            fl.Int("data.blobs.features", min: 1, max: 100_000),
            fl.Int("data.blobs.classes", min: 2, max: 1000),
            fl.Double("data.blobs.separation", min: 0, max: 1e6),
            fl.Int("data.blobs.seed"));
        var settings = new FlModuleSettings(
            roles,
            fl.Int("training-threads", min: 1, max: 256),
            fl.Int("tree-fan-out", min: 1, max: 4096),
            fl.Duration("topology-refresh", min: TimeSpan.FromMilliseconds(10)),
            fl.Duration("query-timeout", min: TimeSpan.FromMilliseconds(1)),
            fl.Bytes("spec-file-max-size", min: 64, max: 64L << 20),
            fl.String("data.fashion-mnist"),
            blobsOn ? blobs : null);
        return fl.Validated(settings);
    }

    /// <summary>
    /// The data sets this node serves: FashionMNIST from its directory when the files are there (a node without them
    /// serves the others; an app on it then fails with "not in the catalog"), and the synthetic blobs, generated from
    /// the configured seed, so every node holds the same pool and partitions it the same way.
    /// </summary>
    public FlDataCatalog LoadCatalog(ILogger logger)
    {
        var catalog = FlDataCatalog.Empty;
        if (FashionMnistDirectory.Length > 0)
        {
            try
            {
                var (train, test) = FashionMnist.Load(FashionMnistDirectory);
                catalog = catalog.With(FashionMnistName, train, test);
            }
            catch (Exception error) when (error is FileNotFoundException or DirectoryNotFoundException or InvalidDataException)
            {
                FlModuleLog.DatasetUnavailable(logger, FashionMnistName, error.Message);
            }
        }

        if (Blobs is { } blobs)
        {
            var all = SyntheticData.GaussianBlobs(blobs.TrainSamples + blobs.TestSamples, blobs.Features, blobs.Classes, (float)blobs.Separation, blobs.Seed);
            catalog = catalog.With(BlobsName, all.Slice(0, blobs.TrainSamples), all.Slice(blobs.TrainSamples, blobs.TestSamples));
        }

        return catalog;
    }
}

/// <summary>The synthetic Gaussian-blob data set of <c>totoro.fl.data.blobs</c>.</summary>
internal sealed record BlobsSettings(int TrainSamples, int TestSamples, int Features, int Classes, double Separation, int Seed);
