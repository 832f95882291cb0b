using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Totoro.Kernel;

/// <summary>
/// How to build an actor system. With a <see cref="World"/>, every dispatcher, the clock and the random source are the
/// world's; otherwise actors run on the thread pool (or the named <see cref="Dispatchers"/>) on real time.
/// </summary>
public sealed record ActorSystemSettings
{
    /// <summary>Host and port under which the system is reachable; null means local-only (<c>totoro://name</c>).</summary>
    public string? Host { get; init; }

    public int Port { get; init; }

    public DeterministicWorld? World { get; init; }

    /// <summary>Connects the system to other nodes; the in-memory transport or a TCP one.</summary>
    public ITransport? Transport { get; init; }

    /// <summary>One registry of manifest → serializer shared by every system of a process; a private kernel-only one if null.</summary>
    public SerializerRegistry? Serialization { get; init; }

    /// <summary>Round-trip every local message through its serializer too, to catch unserializable messages in tests.</summary>
    public bool SerializeAllMessages { get; init; }

    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    /// <summary>Named dispatchers for <see cref="Props.Dispatcher"/>; ignored under a world.</summary>
    public IReadOnlyDictionary<string, Dispatcher> Dispatchers { get; init; } = System.Collections.ObjectModel.ReadOnlyDictionary<string, Dispatcher>.Empty;

    /// <summary>The default dispatcher when not under a world; a thread-pool dispatcher if null.</summary>
    public Dispatcher? DefaultDispatcher { get; init; }

    /// <summary>Real-time clock when not under a world (a fake clock in tests of time-driven code).</summary>
    public TimeProvider? Time { get; init; }

    /// <summary>How the /user guardian supervises top-level actors; an escalation there stops the actor.</summary>
    public SupervisorStrategy GuardianStrategy { get; init; } = SupervisorStrategy.Default;
}
