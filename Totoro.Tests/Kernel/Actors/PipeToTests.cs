using Totoro.Kernel;
using Totoro.Tests.TestKit;

namespace Totoro.Tests.Kernel.Actors;

public sealed class PipeToTests
{
    [Test]
    public void PipeTo_tells_the_result_or_a_status_failure()
    {
        var system = Worlds.Deterministic();
        var probe = new TestProbe(system);
        Task.FromResult(41).PipeTo(probe.Ref, success: n => n + 1);
        Task.FromException<int>(new InvalidOperationException("bad")).PipeTo(probe.Ref);
        Assert.That(probe.ExpectMsg<int>(), Is.EqualTo(42));
        Assert.That(probe.ExpectMsg<StatusFailure>().Cause.Message, Is.EqualTo("bad"));
    }
}
