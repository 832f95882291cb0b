using Totoro.Kernel;
using Totoro.Tests.TestKit;

namespace Totoro.Tests.Kernel.Actors;

public sealed class ActorSystemTests
{
    private sealed class Echo : ReceiveActor
    {
        public Echo() => ReceiveAny(m => Sender?.Tell(m, Self));
    }

    private sealed class Parent : ReceiveActor
    {
        public Parent() => Receive<string>(name => Sender!.Tell(Context.ActorOf(Props.Create<Echo>(), name)));
    }

    [Test]
    public void Paths_carry_the_system_address_and_the_hierarchy()
    {
        var system = ActorSystem.Create("sys", new ActorSystemSettings { Host = "host1", Port = 2552, World = new DeterministicWorld(1) });
        var probe = new TestProbe(system);
        var parent = system.ActorOf(Props.Create<Parent>(), "parent");
        probe.Send(parent, "kid");
        var child = probe.ExpectMsg<IActorRef>();
        Assert.That(parent.Path.ToString(), Is.EqualTo("totoro://sys@host1:2552/user/parent"));
        Assert.That(child.Path.ToString(), Is.EqualTo("totoro://sys@host1:2552/user/parent/kid"));
        Assert.That(ActorPath.Parse(child.Path.ToString()), Is.EqualTo(child.Path));
    }

    [Test]
    public void Resolve_finds_a_local_actor_by_path_and_unknown_paths_give_dead_letters()
    {
        var system = Worlds.Deterministic();
        var echo = system.ActorOf(Props.Create<Echo>(), "echo");
        system.World!.RunUntilIdle();
        Assert.That(system.Resolve(echo.Path.ToString()), Is.SameAs(echo));
        Assert.That(system.Resolve(echo.Path.Child("missing")), Is.SameAs(system.DeadLetters));
    }

    [Test]
    public void Duplicate_child_names_are_rejected()
    {
        var system = Worlds.Deterministic();
        system.ActorOf(Props.Create<Echo>(), "echo");
        Assert.That(() => system.ActorOf(Props.Create<Echo>(), "echo"), Throws.InvalidOperationException);
        Assert.That(() => system.ActorOf(Props.Create<Echo>(), "a/b"), Throws.ArgumentException);
    }

    [Test]
    public void Ask_completes_with_the_reply()
    {
        var system = Worlds.Deterministic();
        var echo = system.ActorOf(Props.Create<Echo>());
        var reply = echo.Ask<string>("hello", TimeSpan.FromSeconds(1));
        system.World!.RunUntil(() => reply.IsCompleted, TimeSpan.FromSeconds(1));
        Assert.That(reply.Result, Is.EqualTo("hello"));
    }

    [Test]
    public void Ask_times_out_on_virtual_time()
    {
        var system = Worlds.Deterministic();
        var silent = system.ActorOf(Props.Create(() => new SilentActor()));
        var reply = silent.Ask<string>("hello", TimeSpan.FromSeconds(5), system);
        system.World!.Advance(TimeSpan.FromSeconds(4.9));
        Assert.That(reply.IsCompleted, Is.False);
        system.World.Advance(TimeSpan.FromSeconds(0.2));
        Assert.That(reply.IsFaulted, Is.True);
        Assert.That(reply.Exception!.InnerException, Is.InstanceOf<TimeoutException>());
    }

    [Test]
    public void Ask_faults_when_the_reply_is_a_status_failure()
    {
        var system = Worlds.Deterministic();
        var echo = system.ActorOf(Props.Create<Echo>());
        var reply = echo.Ask<string>(new StatusFailure(new InvalidOperationException("no")), TimeSpan.FromSeconds(1), system);
        system.World!.RunUntilIdle();
        Assert.That(reply.Exception!.InnerException, Is.InstanceOf<InvalidOperationException>());
    }

    [Test]
    public async Task Terminate_stops_every_actor_and_completes()
    {
        var system = Worlds.ThreadPool();
        var echo = system.ActorOf(Props.Create<Echo>());
        await system.Terminate().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        Assert.That(system.WhenTerminated.IsCompletedSuccessfully, Is.True);
        Assert.That(system.Resolve(echo.Path), Is.SameAs(system.DeadLetters));
    }

    private sealed class SilentActor : ReceiveActor
    {
        public SilentActor() => ReceiveAny(_ => { });
    }
}
