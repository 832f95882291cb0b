using Totoro.Kernel;

namespace Totoro.Tests.TestKit;

/// <summary>Single-node systems for unit tests: one on a fresh deterministic world, or one on the thread pool.</summary>
public static class Worlds
{
    public static ActorSystem Deterministic(int seed = 42, string name = "test", SupervisorStrategy? guardianStrategy = null) =>
        ActorSystem.Create(name, new ActorSystemSettings
        {
            World = new DeterministicWorld(seed),
            Serialization = TestSerializers.Registry,
            GuardianStrategy = guardianStrategy ?? SupervisorStrategy.Default,
        });

    public static ActorSystem ThreadPool(string name = "test") =>
        ActorSystem.Create(name, new ActorSystemSettings { Serialization = TestSerializers.Registry });

    public static DeterministicWorld WorldOf(ActorSystem system) =>
        system.World ?? throw new InvalidOperationException("not a deterministic system");

    /// <summary>Awaits a signal from the thread-pool world with a bounded real-time wait; never sleeps.</summary>
    public static async Task<T> Within<T>(Task<T> task, int seconds = 10) =>
        await task.WaitAsync(TimeSpan.FromSeconds(seconds)).ConfigureAwait(false);
}
