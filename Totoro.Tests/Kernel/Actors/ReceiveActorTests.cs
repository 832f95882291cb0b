using Totoro.Kernel;
using Totoro.Tests.TestKit;

namespace Totoro.Tests.Kernel.Actors;

public sealed class ReceiveActorTests
{
    private sealed record Reset;

    private sealed class Switcher : ReceiveActor
    {
        public Switcher()
        {
            Receive<int>(n => n < 0, _ => Sender!.Tell("negative"));
            Receive<int>(n => Sender!.Tell($"int {n}"));
            Receive<string>(s => s == "angry", _ => Become(Angry));
            Receive<string>(s => s == "stacked", _ => BecomeStacked(Angry));
        }

        private void Angry()
        {
            Receive<int>(n => Sender!.Tell($"angry {n}"));
            Receive<string>(s => s == "calm", _ => Unbecome());
            ReceiveAny(m => Sender!.Tell($"angry any {m}"));
        }
    }

    [Test]
    public void Receive_with_predicate_takes_precedence_in_registration_order()
    {
        var system = Worlds.Deterministic();
        var probe = new TestProbe(system);
        var actor = system.ActorOf(Props.Create<Switcher>());
        probe.Send(actor, -1);
        probe.Send(actor, 5);
        Assert.That(probe.ExpectMsg<string>(), Is.EqualTo("negative"));
        Assert.That(probe.ExpectMsg<string>(), Is.EqualTo("int 5"));
    }

    [Test]
    public void Become_replaces_the_behaviour_and_ReceiveAny_catches_the_rest()
    {
        var system = Worlds.Deterministic();
        var probe = new TestProbe(system);
        var actor = system.ActorOf(Props.Create<Switcher>());
        probe.Send(actor, "angry");
        probe.Send(actor, 1);
        probe.Send(actor, 2.5);
        Assert.That(probe.ExpectMsg<string>(), Is.EqualTo("angry 1"));
        Assert.That(probe.ExpectMsg<string>(), Is.EqualTo("angry any 2.5"));
    }

    [Test]
    public void Unbecome_returns_to_the_stacked_behaviour()
    {
        var system = Worlds.Deterministic();
        var probe = new TestProbe(system);
        var actor = system.ActorOf(Props.Create<Switcher>());
        probe.Send(actor, "stacked");
        probe.Send(actor, 1);
        probe.Send(actor, "calm");
        probe.Send(actor, 1);
        Assert.That(probe.ExpectMsg<string>(), Is.EqualTo("angry 1"));
        Assert.That(probe.ExpectMsg<string>(), Is.EqualTo("int 1"));
    }

    [Test]
    public void Unhandled_messages_are_published_on_the_event_stream()
    {
        var system = Worlds.Deterministic();
        var probe = new TestProbe(system);
        system.EventStream.Subscribe<UnhandledMessage>(probe.Ref);
        var actor = system.ActorOf(Props.Create<Switcher>());
        actor.Tell(new Reset());
        var unhandled = probe.ExpectMsg<UnhandledMessage>();
        Assert.That(unhandled.Message, Is.InstanceOf<Reset>());
        Assert.That(unhandled.Recipient, Is.EqualTo(actor));
    }
}
