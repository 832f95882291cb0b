using Totoro.Kernel;

namespace Totoro.Tests.Kernel.Dispatch;

public sealed class AllocationTests
{
    private sealed class Ball
    {
        public static readonly Ball Instance = new();
    }

    private sealed class Returner : ReceiveActor
    {
        public Returner() => Receive<Ball>(ball => Sender!.Tell(ball, Self));
    }

    private sealed class Server : ReceiveActor
    {
        private int _remaining;

        public Server(IActorRef partner)
        {
            Receive<int>(n =>
            {
                _remaining = n;
                partner.Tell(Ball.Instance, Self);
            });
            Receive<Ball>(ball =>
            {
                if (--_remaining > 0)
                {
                    partner.Tell(ball, Self);
                }
            });
        }
    }

    [Test]
    public void Delivering_a_message_on_the_deterministic_world_allocates_nothing()
    {
        var world = new DeterministicWorld(1);
        var system = ActorSystem.Create("alloc", new ActorSystemSettings { World = world });
        var b = system.ActorOf(Props.Create<Returner>());
        var a = system.ActorOf(Props.Create(() => new Server(b)));
        a.Tell(1_000);
        world.RunUntilIdle();
        var before = GC.GetAllocatedBytesForCurrentThread();
        var steps = world.StepsExecuted;
        a.Tell(50_000);
        world.RunUntilIdle();
        var perMessage = (double)(GC.GetAllocatedBytesForCurrentThread() - before) / (world.StepsExecuted - steps);
        Assert.That(world.StepsExecuted - steps, Is.GreaterThanOrEqualTo(100_000));
        Assert.That(perMessage, Is.LessThan(1.0));
    }
}
