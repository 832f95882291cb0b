using Totoro.Kernel;
using Totoro.Tests.TestKit;

namespace Totoro.Tests.Kernel.Actors;

public sealed class SupervisionTests
{
    private sealed record Fail(string Kind);

    private sealed class Counter : ReceiveActor
    {
        private readonly IActorRef _journal;
        private int _count;

        public Counter(IActorRef journal)
        {
            _journal = journal;
            Receive<string>(s => s == "get", _ => Sender!.Tell(_count));
            Receive<string>(s => s == "inc", _ => _count++);
            Receive<Fail>(f => f.Kind == "argument", _ => throw new ArgumentException("bad"));
            Receive<Fail>(_ => throw new InvalidOperationException("boom"));
        }

        protected override void PreStart() => _journal.Tell("start");

        protected override void PreRestart(Exception reason, object? message)
        {
            _journal.Tell($"pre-restart {reason.Message} {message}");
            base.PreRestart(reason, message);
        }

        protected override void PostRestart(Exception reason)
        {
            _journal.Tell("post-restart");
            base.PostRestart(reason);
        }
    }

    private sealed class Supervisor(IActorRef journal) : ReceiveActor
    {
        protected override void PreStart()
        {
            var child = Context.ActorOf(Props.Create(() => new Counter(journal)), "child");
            ReceiveAny(m => child.Forward(m, Context));
        }

        public static Props For(SupervisorStrategy strategy, IActorRef journal) =>
            Props.Create(() => new Supervisor(journal)).WithSupervisorStrategy(strategy);
    }

    private static (ActorSystem System, TestProbe Journal, TestProbe Client, IActorRef Supervisor) Setup(SupervisorStrategy strategy)
    {
        var system = Worlds.Deterministic();
        var journal = new TestProbe(system);
        var client = new TestProbe(system);
        var supervisor = system.ActorOf(Supervisor.For(strategy, journal.Ref), "sup");
        Assert.That(journal.ExpectMsg<string>(), Is.EqualTo("start"));
        return (system, journal, client, supervisor);
    }

    [Test]
    public void Restart_replaces_the_instance_and_keeps_the_mailbox()
    {
        var (_, journal, client, sup) = Setup(SupervisorStrategy.Default);
        client.Send(sup, "inc");
        client.Send(sup, new Fail("x"));
        client.Send(sup, "get");
        Assert.That(journal.ExpectMsg<string>(), Is.EqualTo("pre-restart boom Fail { Kind = x }"));
        Assert.That(journal.ExpectMsg<string>(), Is.EqualTo("post-restart"));
        Assert.That(journal.ExpectMsg<string>(), Is.EqualTo("start"));
        Assert.That(client.ExpectMsg<int>(), Is.EqualTo(0));
    }

    [Test]
    public void Resume_keeps_the_state_and_drops_only_the_failing_message()
    {
        var (_, _, client, sup) = Setup(new SupervisorStrategy(_ => Directive.Resume));
        client.Send(sup, "inc");
        client.Send(sup, new Fail("x"));
        client.Send(sup, "inc");
        client.Send(sup, "get");
        Assert.That(client.ExpectMsg<int>(), Is.EqualTo(2));
    }

    [Test]
    public void Stop_directive_stops_the_child()
    {
        var (system, _, client, sup) = Setup(SupervisorStrategy.Stopping);
        var child = system.Resolve(sup.Path.Child("child"));
        client.Watch(child);
        client.Send(sup, new Fail("x"));
        client.ExpectTerminated(child);
    }

    [Test]
    public void The_decider_chooses_per_exception()
    {
        var strategy = new SupervisorStrategy(e => e is ArgumentException ? Directive.Resume : Directive.Restart);
        var (_, journal, client, sup) = Setup(strategy);
        client.Send(sup, "inc");
        client.Send(sup, new Fail("argument"));
        client.Send(sup, "get");
        Assert.That(client.ExpectMsg<int>(), Is.EqualTo(1));
        journal.ExpectNoMsg(TimeSpan.FromSeconds(1));
    }

    [Test]
    public void Escalate_fails_the_supervisor_whose_own_supervisor_restarts_it()
    {
        var (_, journal, client, sup) = Setup(new SupervisorStrategy(_ => Directive.Escalate));
        client.Send(sup, "inc");
        client.Send(sup, new Fail("x"));
        Assert.That(journal.ExpectMsg<string>(), Does.StartWith("start"), "the supervisor restarted and created a fresh child");
        client.Send(sup, "get");
        Assert.That(client.ExpectMsg<int>(), Is.EqualTo(0));
    }

    [Test]
    public void When_an_escalated_failure_is_resumed_above_the_failed_child_resumes_too()
    {
        var system = Worlds.Deterministic(guardianStrategy: new SupervisorStrategy(_ => Directive.Resume));
        var journal = new TestProbe(system);
        var client = new TestProbe(system);
        var sup = system.ActorOf(Supervisor.For(new SupervisorStrategy(_ => Directive.Escalate), journal.Ref), "sup");
        journal.ExpectMsg("start");
        client.Send(sup, "inc");
        client.Send(sup, new Fail("x"));
        client.Send(sup, "get");
        Assert.That(client.ExpectMsg<int>(), Is.EqualTo(1), "the child kept its state and takes messages again");
        journal.ExpectNoMsg(TimeSpan.FromSeconds(1));
    }

    [Test]
    public void Restarts_wait_an_exponential_back_off_on_virtual_time()
    {
        var strategy = SupervisorStrategy.Default.WithBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3));
        var (_, journal, client, sup) = Setup(strategy);
        client.Send(sup, new Fail("x"));
        client.Send(sup, "get");
        journal.ExpectNoMsg(TimeSpan.FromMilliseconds(990));
        client.ExpectNoMsg(TimeSpan.Zero);
        journal.ExpectMsg<string>(s => s.StartsWith("pre-restart", StringComparison.Ordinal), TimeSpan.FromMilliseconds(20));
        Assert.That(journal.ExpectMsg<string>(), Is.EqualTo("post-restart"));
        journal.ExpectMsg<string>("start");
        Assert.That(client.ExpectMsg<int>(), Is.EqualTo(0), "messages queued during the back-off are handled after the restart");
        client.Send(sup, new Fail("x"));
        journal.ExpectNoMsg(TimeSpan.FromMilliseconds(1990));
        journal.ExpectMsg<string>(s => s.StartsWith("pre-restart", StringComparison.Ordinal), TimeSpan.FromMilliseconds(20));
    }

    [Test]
    public void Too_many_restarts_within_the_window_stop_the_child()
    {
        var strategy = SupervisorStrategy.Default with { MaxRestarts = 2, Window = TimeSpan.FromMinutes(1) };
        var (system, _, client, sup) = Setup(strategy);
        var child = system.Resolve(sup.Path.Child("child"));
        client.Watch(child);
        for (var i = 0; i < 3; i++)
        {
            client.Send(sup, new Fail("x"));
        }
        client.FishForMessage<Terminated>(t => t.ActorRef.Equals(child));
    }

    [Test]
    public void A_throwing_top_level_actor_never_takes_down_the_system()
    {
        var system = Worlds.Deterministic();
        var journal = new TestProbe(system);
        var client = new TestProbe(system);
        var a = system.ActorOf(Props.Create(() => new Counter(journal.Ref)), "a");
        var b = system.ActorOf(Props.Create(() => new Counter(journal.Ref)), "b");
        client.Send(b, "inc");
        client.Send(a, "inc");
        for (var i = 0; i < 5; i++)
        {
            client.Send(a, new Fail("x"));
        }
        client.Send(b, "get");
        Assert.That(client.ExpectMsg<int>(), Is.EqualTo(1));
        client.Send(a, "get");
        Assert.That(client.ExpectMsg<int>(), Is.EqualTo(0), "a was restarted, not lost");
        client.Watch(a);
        for (var i = 0; i < 50; i++)
        {
            client.Send(a, new Fail("x"));
        }
        client.FishForMessage<Terminated>(t => t.ActorRef.Equals(a));
        client.Send(b, "get");
        Assert.That(client.ExpectMsg<int>(), Is.EqualTo(1), "a sibling keeps working after a was given up on");
        var c = system.ActorOf(Props.Create(() => new Counter(journal.Ref)), "c");
        client.Send(c, "get");
        Assert.That(client.ExpectMsg<int>(), Is.EqualTo(0), "the system still creates actors");
    }

    [Test]
    public void A_constructor_failure_stops_the_actor_with_an_initialization_exception()
    {
        var system = Worlds.Deterministic();
        var probe = new TestProbe(system);
        system.EventStream.Subscribe<ActorFailure>(probe.Ref);
        var broken = system.ActorOf(Props.Create(() => throw new InvalidOperationException("ctor")));
        var failure = probe.ExpectMsg<ActorFailure>();
        Assert.That(failure.Cause, Is.InstanceOf<ActorInitializationException>());
        Assert.That(failure.Directive, Is.EqualTo(Directive.Stop));
        var watcher = new TestProbe(system);
        watcher.Watch(broken);
        watcher.ExpectTerminated(broken);
    }
}
