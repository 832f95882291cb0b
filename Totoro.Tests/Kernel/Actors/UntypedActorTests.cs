using Totoro.Kernel;
using Totoro.Tests.TestKit;

namespace Totoro.Tests.Kernel.Actors;

public sealed class UntypedActorTests
{
    private sealed record Tick;

    private sealed class Echo : UntypedActor
    {
        protected override void OnReceive(object message)
        {
            switch (message)
            {
                case int n:
                    Sender!.Tell($"int {n}");
                    break;
                case "arm":
                    Timers.StartSingleTimer("tick", new Tick(), TimeSpan.FromSeconds(1));
                    break;
                case Tick:
                    Context.System.EventStream.Publish("ticked");
                    break;
                default:
                    Unhandled(message);
                    break;
            }
        }
    }

    [Test]
    public void Every_message_reaches_OnReceive_in_order()
    {
        var system = Worlds.Deterministic();
        var probe = new TestProbe(system);
        var actor = system.ActorOf(Props.Create<Echo>());
        probe.Send(actor, 1);
        probe.Send(actor, 2);
        Assert.That(probe.ExpectMsg<string>(), Is.EqualTo("int 1"));
        Assert.That(probe.ExpectMsg<string>(), Is.EqualTo("int 2"));
    }

    [Test]
    public void Unhandled_messages_are_published_and_timers_fire()
    {
        var system = Worlds.Deterministic();
        var probe = new TestProbe(system);
        system.EventStream.Subscribe<UnhandledMessage>(probe.Ref);
        system.EventStream.Subscribe<string>(probe.Ref);
        var actor = system.ActorOf(Props.Create<Echo>());
        actor.Tell(2.5);
        Assert.That(probe.ExpectMsg<UnhandledMessage>().Message, Is.EqualTo(2.5));
        actor.Tell("arm");
        Assert.That(probe.ExpectMsg<string>(), Is.EqualTo("ticked"));
    }
}
