using Totoro.Kernel.Wire;

namespace Totoro.Kernel;

/// <summary>Wire mappings of the kernel's own messages.</summary>
internal static class KernelSerializers
{
    public const string TerminatedManifest = "kernel.terminated.v1";
    public const string WatchManifest = "kernel.watch.v1";
    public const string DeathNoticeManifest = "kernel.death-notice.v1";
    public const string StatusFailureManifest = "kernel.status-failure.v1";
    public const string PoisonPillManifest = "kernel.poison-pill.v1";

    public static void RegisterAll(SerializerRegistry registry)
    {
        registry.Register<Terminated, TerminatedWire>(
            TerminatedManifest,
            t => new TerminatedWire { ActorPath = t.ActorRef.Path.ToString(), AddressTerminated = t.AddressTerminated },
            (w, resolver) => new Terminated(resolver.Resolve(w.ActorPath), w.AddressTerminated));
        registry.Register<RemoteWatch, WatchWire>(
            WatchManifest,
            w => new WatchWire { Watchee = w.Watchee, Watcher = w.Watcher, Unwatch = w.Unwatch },
            w => new RemoteWatch(w.Watchee, w.Watcher, w.Unwatch));
        registry.Register<RemoteDeathNotice, TerminatedWire>(
            DeathNoticeManifest,
            d => new TerminatedWire { ActorPath = d.Watchee },
            w => new RemoteDeathNotice(w.ActorPath));
        registry.Register<StatusFailure, StatusFailureWire>(
            StatusFailureManifest,
            f => new StatusFailureWire { ExceptionType = f.Cause.GetType().FullName ?? "", Message = f.Cause.Message },
            w => new StatusFailure(new RemoteFailureException(w.ExceptionType, w.Message)));
        registry.Register<PoisonPill, PoisonPillWire>(PoisonPillManifest, _ => new PoisonPillWire(), _ => PoisonPill.Instance);
    }
}
