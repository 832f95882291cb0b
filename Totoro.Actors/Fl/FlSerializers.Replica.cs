using Totoro.Actors.Fl.Wire;
using Totoro.Kernel;
using Totoro.Ml.Aggregation;

namespace Totoro.Actors.Fl;

/// <summary>Wire forms of root fail-over: checkpoint replicas ("fl.app-replica.v1") and their release ("fl.drop-replica.v1").</summary>
public static partial class FlSerializers
{
    private static void RegisterReplicas(SerializerRegistry registry)
    {
        registry.Register<AppReplica, AppReplicaWire>("fl.app-replica.v1", ToWire, (w, resolver) => FromWire(w, resolver));
        registry.Register<DropReplica, DropReplicaWire>(
            "fl.drop-replica.v1",
            m => new DropReplicaWire { App = m.App, Run = m.Run, Final = m.Final is { } final ? ToWire(final) : null },
            w => new DropReplica(w.App, w.Run, w.Final is { } final ? EndedStatus(FromWire(final), w.App) : null));
    }

    /// <summary>A replicated end record must describe this app, ended.</summary>
    private static AppStatus EndedStatus(AppStatus status, string app) =>
        status.App == app && !status.Running && status.Ended is not null
            ? status
            : throw new MessageSerializationException($"fl.drop-replica.v1 for '{app}' carries a final status of '{status.App}' that is not an ended app");

    private static AppReplicaWire ToWire(AppReplica m) => new()
    {
        Spec = ToWire(m.Spec), Run = m.Run, Round = m.Round,
        Model = Encode(m.Model.ArchitectureId, (ulong)m.Model.Version, m.Model.Parameters.Span),
        Optimizer = m.Optimizer.Name,
        OptimizerFirst = Encode(m.Model.ArchitectureId, (ulong)m.Round, m.Optimizer.First.Span),
        OptimizerSecond = Encode(m.Model.ArchitectureId, (ulong)m.Round, m.Optimizer.Second.Span),
        LastAccuracy = m.LastAccuracy, Client = m.Client.Path.ToString(), Root = m.Root.ToString(),
        LastReport = m.LastReport is { } report ? ToWire(report) : null,
    };

    private static AppReplica FromWire(AppReplicaWire w, IActorRefResolver resolver)
    {
        var model = Decode(w.Model);
        var first = Decode(w.OptimizerFirst).Values;
        var second = Decode(w.OptimizerSecond).Values;
        if ((first.Length != 0 && first.Length != model.Values.Length) || (second.Length != 0 && second.Length != model.Values.Length))
        {
            throw new MessageSerializationException($"replica of '{w.Spec?.Name}': optimizer state does not match the model's {model.Values.Length} parameters");
        }

        return new AppReplica(
            FromWire(w.Spec),
            w.Run,
            w.Round,
            new GlobalModel(model.Header.ArchitectureId, (long)model.Header.ModelVersion, model.Values),
            new ServerOptimizerState(w.Optimizer, first, second),
            w.LastAccuracy,
            resolver.Resolve(w.Client),
            ParseAddress(w.Root),
            w.LastReport is { } report ? FromWire(report) : null);
    }
}
