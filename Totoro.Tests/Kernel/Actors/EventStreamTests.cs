using Totoro.Kernel;
using Totoro.Tests.TestKit;

namespace Totoro.Tests.Kernel.Actors;

public sealed class EventStreamTests
{
    private abstract record Animal;

    private sealed record Cat : Animal;

    private sealed record Rock;

    [Test]
    public void Subscribers_get_events_assignable_to_their_channel_until_they_unsubscribe()
    {
        var system = Worlds.Deterministic();
        var probe = new TestProbe(system);
        system.EventStream.Subscribe<Animal>(probe.Ref);
        system.EventStream.Publish(new Rock());
        system.EventStream.Publish(new Cat());
        Assert.That(probe.ExpectMsg<Cat>(), Is.EqualTo(new Cat()));
        system.EventStream.Unsubscribe(probe.Ref);
        system.EventStream.Publish(new Cat());
        probe.ExpectNoMsg(TimeSpan.FromSeconds(1));
    }
}
