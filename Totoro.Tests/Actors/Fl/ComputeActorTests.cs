using Totoro.Actors.Fl;
using Totoro.Kernel;
using Totoro.Tests.TestKit;

namespace Totoro.Tests.Actors.Fl;

[TestFixture]
public sealed class ComputeActorTests
{
    [Test]
    public void Jobs_run_one_after_another_and_a_withdrawn_owner_frees_the_device_for_the_jobs_behind()
    {
        var scenario = Scenario.Create(1, seed: 5);
        // One FLOP per second: a charge of n FLOPs takes n seconds.
        var compute = scenario[0].ActorOf(Props.Create(() => new ComputeActor(1.0)), "compute");
        var (cancelled, kept) = (scenario.CreateProbe(0), scenario.CreateProbe(0));
        var start = scenario.World.Elapsed;

        compute.Tell(new Charge(2, "a1", cancelled.Ref));
        compute.Tell(new Charge(2, "b1", kept.Ref));
        compute.Tell(new Charge(2, "a2", cancelled.Ref));
        compute.Tell(new Charge(1, "b2", kept.Ref));
        scenario.Advance(TimeSpan.FromSeconds(1));
        compute.Tell(new CancelCharges(cancelled.Ref));

        kept.ExpectMsg("b1", TimeSpan.FromSeconds(10));
        var first = scenario.World.Elapsed - start;
        kept.ExpectMsg("b2", TimeSpan.FromSeconds(10));
        var second = scenario.World.Elapsed - start;
        cancelled.ExpectNoMsg(TimeSpan.FromSeconds(10));

        Assert.That(first, Is.EqualTo(TimeSpan.FromSeconds(3)), "a1 was abandoned at 1 s, so b1 ran from 1 s to 3 s instead of 2 s to 4 s");
        Assert.That(second, Is.EqualTo(TimeSpan.FromSeconds(4)), "b2 follows b1; a2 never ran");
    }

    [Test]
    public void Without_withdrawals_a_job_ends_when_all_jobs_before_it_and_itself_are_done()
    {
        var scenario = Scenario.Create(1, seed: 6);
        var compute = scenario[0].ActorOf(Props.Create(() => new ComputeActor(2.0)), "compute");
        var probe = scenario.CreateProbe(0);
        var start = scenario.World.Elapsed;

        compute.Tell(new Charge(4, "x", probe.Ref));
        compute.Tell(new Charge(2, "y", probe.Ref));
        compute.Tell(new CancelCharges(scenario.CreateProbe(0).Ref));

        probe.ExpectMsg("x", TimeSpan.FromSeconds(10));
        Assert.That(scenario.World.Elapsed - start, Is.EqualTo(TimeSpan.FromSeconds(2)));
        probe.ExpectMsg("y", TimeSpan.FromSeconds(10));
        Assert.That(scenario.World.Elapsed - start, Is.EqualTo(TimeSpan.FromSeconds(3)));
    }
}
