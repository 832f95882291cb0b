using System.Buffers;
using System.Collections.Immutable;
using Google.Protobuf;
using Totoro.Actors.Fl.Wire;
using Totoro.Kernel;
using Totoro.Ml.Aggregation;
using Totoro.Ml.Serialization;

namespace Totoro.Actors.Fl;

/// <summary>
/// Wire forms of the FL protocol under stable manifests ("fl.round-start.v2" …). Vectors travel as UpdateCodec
/// float32 bytes, whose checksums and limits are checked on receipt; a partial aggregate is rebuilt through
/// <see cref="PartialAggregate.TryCreate"/>, so a peer cannot smuggle in a malformed one.
/// </summary>
public static partial class FlSerializers
{
    public static void Register(SerializerRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        registry.Register<SubmitApp, SubmitAppWire>(
            "fl.submit-app.v1",
            m => new SubmitAppWire { Spec = ToWire(m.Spec), Client = m.Client.Path.ToString(), Hops = m.Hops },
            (w, resolver) => new SubmitApp(FromWire(w.Spec), resolver.Resolve(w.Client), w.Hops));
        registry.Register<AppAccepted, AppAcceptedWire>(
            "fl.app-accepted.v1",
            m => new AppAcceptedWire { App = m.App, Root = m.Root.ToString() },
            w => new AppAccepted(w.App, ParseAddress(w.Root)));
        registry.Register<AppRejected, AppRejectedWire>(
            "fl.app-rejected.v1",
            m => new AppRejectedWire { App = m.App, Reason = m.Reason },
            w => new AppRejected(w.App, w.Reason));
        registry.Register<CancelApp, CancelAppWire>("fl.cancel-app.v1", m => new CancelAppWire { App = m.App }, w => new CancelApp(w.App));
        registry.Register<RoundStart, RoundStartWire>("fl.round-start.v2", ToWire, FromWire);
        registry.Register<ModelChunk, ModelChunkWire>("fl.model-chunk.v1", ToWire, FromWire);
        registry.Register<UpdateReady, UpdateReadyWire>(
            "fl.update-ready.v1",
            m => new UpdateReadyWire { App = m.App, Run = m.Run, Round = m.Round, Worker = m.Worker, WorkerNode = m.WorkerNode.ToString() },
            w => new UpdateReady(w.App, w.Run, w.Round, w.Worker, ParseAddress(w.WorkerNode)));
        registry.Register<Admission, AdmissionWire>(
            "fl.admission.v1",
            m => new AdmissionWire { App = m.App, Run = m.Run, Round = m.Round, Worker = m.Worker, Admitted = m.Admitted },
            w => new Admission(w.App, w.Run, w.Round, w.Worker, w.Admitted));
        registry.Register<RoundCancel, RoundCancelWire>(
            "fl.round-cancel.v1",
            m => new RoundCancelWire { App = m.App, Run = m.Run, Round = m.Round },
            w => new RoundCancel(w.App, w.Run, w.Round));
        registry.Register<AppEnded, AppEndedWire>(
            "fl.app-ended.v1",
            m => new AppEndedWire { App = m.App, Run = m.Run },
            w => new AppEnded(w.App, w.Run));
        registry.Register<SubtreeResult, SubtreeResultWire>("fl.subtree-result.v1", ToWire, FromWire);
        registry.Register<RoundReport, RoundReportWire>("fl.round-report.v1", ToWire, FromWire);
        registry.Register<AppResult, AppResultWire>(
            "fl.app-result.v1",
            ToWire,
            FromWire);
        registry.Register<QueryApp, QueryAppWire>("fl.query-app.v1", m => new QueryAppWire { App = m.App }, w => new QueryApp(w.App));
        registry.Register<AppStatus, AppStatusWire>("fl.app-status.v1", ToWire, FromWire);
        RegisterReplicas(registry);
    }

    private static AppStatusWire ToWire(AppStatus m)
    {
        var wire = new AppStatusWire
        {
            App = m.App, Running = m.Running, Root = m.Root, Run = m.Run, Round = m.Round, Phase = m.Phase, RoundBudget = m.RoundBudget,
            ClientsPerRound = m.ClientsPerRound, Invited = m.Invited, Admitted = m.Admitted, Workers = m.Workers, Topology = m.Topology,
            ElapsedTicks = m.Elapsed.Ticks, LastReport = m.LastReport is { } report ? ToWire(report) : null,
            Ended = m.Ended is { } ended ? ToWire(ended) : null,
        };
        if (m.Target is { } target)
        {
            wire.Target = target;
        }

        return wire;
    }

    private static AppStatus FromWire(AppStatusWire w) => new(
        w.App, w.Running, w.Root, w.Run, w.Round, w.Phase, w.RoundBudget, w.HasTarget ? w.Target : null, w.ClientsPerRound, w.Invited, w.Admitted,
        w.Workers, w.Topology, TimeSpan.FromTicks(w.ElapsedTicks), w.LastReport is { } report ? FromWire(report) : null,
        w.Ended is { } ended ? FromWire(ended) : null);

    private static AppResult FromWire(AppResultWire w) => Enum.IsDefined((AppOutcome)w.Outcome)
        ? new(w.App, (AppOutcome)w.Outcome, w.Rounds, w.FinalAccuracy, TimeSpan.FromTicks(w.VirtualTimeTicks), w.HasError ? w.Error : null)
        : throw new MessageSerializationException($"fl.app-result.v1: outcome {w.Outcome} of '{w.App}' is not an app outcome");

    private static AppResultWire ToWire(AppResult m)
    {
        var wire = new AppResultWire
        {
            App = m.App, Outcome = (int)m.Outcome, Rounds = m.Rounds, FinalAccuracy = m.FinalAccuracy, VirtualTimeTicks = m.VirtualTime.Ticks,
        };
        if (m.Error is { } error)
        {
            wire.Error = error;
        }

        return wire;
    }

    private static Address ParseAddress(string text) => ActorPath.Parse(text).Address;

    private static AppSpecWire ToWire(AppSpec s)
    {
        var wire = new AppSpecWire
        {
            Name = s.Name, Model = s.Model, Dataset = s.Dataset,
            PartitionKind = (int)s.Partitioning.Kind, PartitionParameter = s.Partitioning.Parameter,
            Rounds = s.Rounds, ClientsPerRound = s.ClientsPerRound, OverSelection = s.OverSelection,
            LocalEpochs = s.LocalEpochs, BatchSize = s.BatchSize, LearningRate = s.LearningRate,
            Optimizer = (int)s.Optimizer, Momentum = s.Momentum, ProximalMu = s.ProximalMu,
            Rule = (int)s.Strategy.Rule, RuleParameter = s.Strategy.RuleParameter, KrumKeep = s.Strategy.KrumKeep,
            ServerOptimizer = (int)s.Strategy.ServerOptimizer, ServerLearningRate = s.Strategy.ServerLearningRate,
            ServerMomentum = s.Strategy.ServerMomentum, RoundDeadlineTicks = s.RoundDeadline.Ticks, Seed = s.Seed,
        };
        if (s.LocalSteps is { } steps)
        {
            wire.LocalSteps = steps;
        }

        if (s.Strategy.ClipNorm is { } clip)
        {
            wire.ClipNorm = clip;
        }

        if (s.TargetAccuracy is { } target)
        {
            wire.TargetAccuracy = target;
        }

        if (s.SeedName is { } seedName)
        {
            wire.SeedName = seedName;
        }

        return wire;
    }

    private static AppSpec FromWire(AppSpecWire w)
    {
        var spec = SpecFromWire(w);
        var errors = spec.Validate();
        return errors.IsEmpty ? spec : throw new MessageSerializationException("app spec refused: " + string.Join("; ", errors));
    }

    private static AppSpec SpecFromWire(AppSpecWire w) => new()
    {
        Name = w.Name, Model = w.Model, Dataset = w.Dataset,
        Partitioning = new Partitioning((PartitionKind)w.PartitionKind, w.PartitionParameter),
        Rounds = w.Rounds, ClientsPerRound = w.ClientsPerRound, OverSelection = w.OverSelection,
        LocalEpochs = w.LocalEpochs, LocalSteps = w.HasLocalSteps ? w.LocalSteps : null, BatchSize = w.BatchSize,
        LearningRate = w.LearningRate, Optimizer = (LocalOptimizer)w.Optimizer, Momentum = w.Momentum, ProximalMu = w.ProximalMu,
        Strategy = new Strategy(
            (RuleKind)w.Rule,
            w.RuleParameter,
            w.KrumKeep,
            w.HasClipNorm ? w.ClipNorm : null,
            (ServerOptimizerKind)w.ServerOptimizer,
            w.ServerLearningRate,
            w.ServerMomentum),
        TargetAccuracy = w.HasTargetAccuracy ? w.TargetAccuracy : null,
        RoundDeadline = TimeSpan.FromTicks(w.RoundDeadlineTicks),
        Seed = w.Seed,
        SeedName = w.HasSeedName ? w.SeedName : null,
    };

    private static RoundStartWire ToWire(RoundStart m)
    {
        var wire = new RoundStartWire
        {
            Spec = ToWire(m.Spec), Round = m.Round, BudgetTicks = m.Budget.Ticks, Coordinator = m.Coordinator.ToString(), Run = m.Run,
            Model = new ModelManifestWire
            {
                Architecture = m.Model.ArchitectureId, Version = m.Model.Version, Length = m.Model.Length, ChunkLength = m.Model.ChunkLength,
                Checksum = m.Model.Checksum,
            },
        };
        wire.Workers.AddRange(m.Workers);
        return wire;
    }

    private static RoundStart FromWire(RoundStartWire w)
    {
        var m = w.Model ?? throw new MessageSerializationException("fl.round-start.v2: no model manifest");
        var manifest = new ModelManifest(m.Architecture, m.Version, m.Length, m.ChunkLength, m.Checksum);
        if (manifest.Problem() is { } problem)
        {
            throw new MessageSerializationException($"fl.round-start.v2: model manifest refused: {problem}");
        }

        if (w.BudgetTicks <= 0)
        {
            throw new MessageSerializationException($"fl.round-start.v2: budget {w.BudgetTicks} ticks is not positive");
        }

        return new RoundStart(FromWire(w.Spec), w.Run, w.Round, manifest, [.. w.Workers], TimeSpan.FromTicks(w.BudgetTicks), ParseAddress(w.Coordinator));
    }

    private static ModelChunkWire ToWire(ModelChunk m) => new()
    {
        App = m.App, Run = m.Run, Round = m.Round, Index = m.Index, Checksum = m.Checksum,
        Values = Encode(0, (ulong)m.Index, m.Values.Span),
    };

    private static ModelChunk FromWire(ModelChunkWire w)
    {
        if (w.Index < 0)
        {
            throw new MessageSerializationException($"fl.model-chunk.v1: negative chunk index {w.Index}");
        }

        var values = Decode(w.Values);
        if (values.Header.ModelVersion != (ulong)w.Index)
        {
            throw new MessageSerializationException($"fl.model-chunk.v1: values of chunk {values.Header.ModelVersion} under index {w.Index}");
        }

        return new ModelChunk(w.App, w.Run, w.Round, w.Index, w.Checksum, values.Values);
    }

    private static SubtreeResultWire ToWire(SubtreeResult m)
    {
        var wire = new SubtreeResultWire
        {
            App = m.App, Run = m.Run, Round = m.Round, From = m.From.ToString(),
            Counters = new CountersWire
            {
                StaleDropped = m.Counters.StaleDropped, DuplicatesDropped = m.Counters.DuplicatesDropped,
                BytesDown = m.Counters.BytesDown, BytesUp = m.Counters.BytesUp,
            },
        };
        if (m.Folded is { } folded)
        {
            wire.Folded = folded.FixedPoint is { } format
                ? new PartialWire
                {
                    FixedSums = ByteString.CopyFrom(FixedPointCodec.Encode(folded.FixedSums.Span)), FixedBlock = FixedPointCodec.DefaultBlock,
                    ElementCount = folded.Shape.ElementCount,
                    FractionBits = format.FractionBits, Architecture = folded.Shape.ArchitectureId, TotalWeight = folded.TotalWeight,
                }
                : new PartialWire
                {
                    Mean = Encode(folded.Shape.ArchitectureId, (ulong)m.Round, folded.Mean.Span), TotalWeight = folded.TotalWeight,
                };
            wire.Folded.Contributors.AddRange(folded.Contributors);
            wire.Folded.MetricSums.Add(folded.MetricSums);
        }

        foreach (var update in m.Relayed)
        {
            var u = new ClientUpdateWire { Contributor = update.ContributorId, Delta = Encode(update.ArchitectureId, (ulong)m.Round, update.Delta.Span), Weight = update.Weight };
            u.MetricSums.Add(update.MetricSums);
            wire.Relayed.Add(u);
        }

        return wire;
    }

    private static SubtreeResult FromWire(SubtreeResultWire w)
    {
        PartialAggregate? folded = null;
        if (w.Folded is { FractionBits: not 0 } x)
        {
            if (x.ElementCount > CodecLimits.Default.MaxElementCount)
            {
                throw new MessageSerializationException($"fl.subtree-result.v1: {x.ElementCount} fixed-point sums exceed {CodecLimits.Default.MaxElementCount}");
            }

            if (!FixedPointCodec.TryDecode(x.FixedSums.Span, x.ElementCount, x.FixedBlock, out var sums, out var malformed))
            {
                throw new MessageSerializationException($"fl.subtree-result.v1: fixed-point sums refused: {malformed}");
            }

            if (!PartialAggregate.TryCreateFixed(
                new ModelShape(x.Architecture, sums.Length), sums, x.FractionBits, x.TotalWeight, [.. x.Contributors], Metrics(x.MetricSums), AggregationLimits.Default, out folded, out var why))
            {
                throw new MessageSerializationException($"fl.subtree-result.v1: partial refused: {why.Detail}");
            }
        }
        else if (w.Folded is { } f)
        {
            var mean = Decode(f.Mean);
            var shape = new ModelShape(mean.Header.ArchitectureId, mean.Values.Length);
            if (!PartialAggregate.TryCreate(shape, mean.Values, f.TotalWeight, [.. f.Contributors], Metrics(f.MetricSums), AggregationLimits.Default, out folded, out var why))
            {
                throw new MessageSerializationException($"fl.subtree-result.v1: partial refused: {why.Detail}");
            }
        }

        var relayed = w.Relayed.Select(u =>
        {
            var delta = Decode(u.Delta);
            return new ClientUpdate(u.Contributor, delta.Header.ArchitectureId, delta.Values, u.Weight, Metrics(u.MetricSums));
        }).ToImmutableArray();
        var c = w.Counters ?? new CountersWire();
        return new SubtreeResult(w.App, w.Run, w.Round, ParseAddress(w.From), folded, relayed, new RoundCounters(c.StaleDropped, c.DuplicatesDropped, c.BytesDown, c.BytesUp));
    }

    private static RoundReportWire ToWire(RoundReport r)
    {
        var wire = new RoundReportWire
        {
        App = r.App, Round = r.Round, Accuracy = r.Accuracy, Loss = r.Loss, TrainLoss = r.TrainLoss,
        Participants = r.Participants, StaleDropped = r.StaleDropped, DuplicatesDropped = r.DuplicatesDropped,
        BytesUp = r.BytesUp, BytesDown = r.BytesDown, VirtualTimeTicks = r.VirtualTime.Ticks, WallTimeTicks = r.WallTime.Ticks,
        };
        wire.Invited.AddRange(r.Invited);
        return wire;
    }

    private static RoundReport FromWire(RoundReportWire w) => new(
        w.App, w.Round, w.Accuracy, w.Loss, w.TrainLoss, w.Participants, [.. w.Invited], w.StaleDropped, w.DuplicatesDropped,
        w.BytesUp, w.BytesDown, TimeSpan.FromTicks(w.VirtualTimeTicks), TimeSpan.FromTicks(w.WallTimeTicks));

    private static ImmutableSortedDictionary<string, double> Metrics(IDictionary<string, double> wire) =>
        wire.ToImmutableSortedDictionary(StringComparer.Ordinal);

    private static ByteString Encode(ulong architecture, ulong version, ReadOnlySpan<float> values)
    {
        var writer = new ArrayBufferWriter<byte>();
        var error = UpdateCodec.Encode(writer, new UpdateHeader(architecture, version, values.Length, PayloadEncoding.Float32, 0), values);
        return error is null ? ByteString.CopyFrom(writer.WrittenSpan) : throw new MessageSerializationException($"vector not encodable: {error.Detail}");
    }

    private static DecodedUpdate Decode(ByteString bytes) =>
        UpdateCodec.TryDecode(bytes.Span, CodecLimits.Default, out var update, out var error)
            ? update
            : throw new MessageSerializationException($"vector refused: {error.Kind} {error.Detail}");
}
