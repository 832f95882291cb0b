using Totoro.Actors.Fl;
using Totoro.Kernel;

namespace Totoro.Tests.Actors.Fl;

/// <summary>
/// How an app ends and what it leaves on the nodes: tree roles stop (the root's end notice, or their idle timeout when
/// no notice comes), the root remembers how the app ended for status queries from any node, and a model that does not
/// fit or a trainer job that throws ends in a reason or a declined update instead of a hang.
/// </summary>
[TestFixture]
public sealed class FlRoleLifetimeTests
{
    [Test]
    public void Tree_roles_stop_when_their_app_ends_and_a_resubmission_starts_them_again()
    {
        var nodes = FlTestBed.Addresses(7);
        // Training takes ~12 s of virtual time on these devices, so the app is still running after 1 s.
        var bed = FlTestBed.Create(7, seed: 3, StaticTreeTopology.Empty.WithBalancedTree("app", nodes, fanOut: 2), deviceFlops: _ => 1e4);
        var spec = FlTestBed.App("app").Rounds(2).ClientsPerRound(7).OverSelection(1).Build();

        var handle = bed.Submit(2, spec);
        bed.Scenario.Advance(TimeSpan.FromSeconds(1));
        Assert.That(NodesWithTreeRole(bed, "app"), Has.Count.EqualTo(7), "while it runs, every tree node has a role");
        Assert.That(bed.Run(handle).Outcome, Is.EqualTo(AppOutcome.BudgetExhausted));
        bed.Scenario.Advance(TimeSpan.FromSeconds(1));

        Assert.That(NodesWithTreeRole(bed, "app"), Is.Empty, "the end notice reached every tree node");
        var again = bed.Run(bed.Submit(5, spec));
        Assert.That(again.Outcome, Is.EqualTo(AppOutcome.BudgetExhausted));
        Assert.That(again.Rounds, Is.EqualTo(2), "a new run starts new roles");
    }

    [Test]
    public void A_role_whose_root_died_without_a_notice_stops_after_the_idle_timeout()
    {
        var nodes = FlTestBed.Addresses(7);
        var settings = FlSettings.Default with { Replicas = 0, TreeRoleIdleTimeout = TimeSpan.FromMinutes(10) };
        var topology = StaticTreeTopology.Empty.WithBalancedTree("app", nodes, fanOut: 2);
        var bed = FlTestBed.Create(7, seed: 4, topology, deviceFlops: _ => 1e4, settings: settings);
        var root = nodes.IndexOf(topology.Root("app"));
        bed.Submit(1, FlTestBed.App("app").Rounds(1000).ClientsPerRound(7).OverSelection(1).Build());
        bed.Scenario.Advance(TimeSpan.FromSeconds(3));
        Assert.That(NodesWithTreeRole(bed, "app"), Has.Count.EqualTo(7));

        bed.Scenario.Crash(root);
        bed.Scenario.Advance(TimeSpan.FromMinutes(9));
        Assert.That(NodesWithTreeRole(bed, "app"), Has.Count.EqualTo(6), "within the timeout the roles stay");
        bed.Scenario.Advance(TimeSpan.FromMinutes(2));
        Assert.That(NodesWithTreeRole(bed, "app"), Is.Empty, "no round for the idle timeout: every role stopped");
    }

    [Test]
    public void Any_node_asking_the_root_after_the_end_hears_how_the_app_ended()
    {
        var nodes = FlTestBed.Addresses(6);
        var bed = FlTestBed.Create(6, seed: 5, new StarTopology(nodes[0], nodes.Skip(1)));
        var result = bed.Run(bed.Submit(1, FlTestBed.App("app").Rounds(3).ClientsPerRound(5).OverSelection(1).Build()));

        var status = Query(bed, from: 4, nodes[0], "app");

        Assert.That(status.Running, Is.False);
        Assert.That(status.Ended, Is.EqualTo(result), "the root's record is the result the submitter got");
        Assert.That(status.Root, Is.EqualTo(nodes[0].ToString()));
        Assert.That(status.LastReport?.Round, Is.EqualTo(3));
        Assert.That(status.RoundBudget, Is.EqualTo(3));
    }

    [Test]
    public void The_root_forgets_the_oldest_ended_app_beyond_its_history()
    {
        var nodes = FlTestBed.Addresses(6);
        var settings = FlSettings.Default with { EndedAppHistory = 1 };
        var bed = FlTestBed.Create(6, seed: 6, new StarTopology(nodes[0], nodes.Skip(1)), settings: settings);
        bed.Run(bed.Submit(1, FlTestBed.App("first").Rounds(1).ClientsPerRound(5).OverSelection(1).Build()));
        bed.Run(bed.Submit(1, FlTestBed.App("second").Rounds(1).ClientsPerRound(5).OverSelection(1).Build()));

        Assert.That(Query(bed, from: 2, nodes[0], "first").Ended, Is.Null, "forgotten: only the newest one is kept");
        Assert.That(Query(bed, from: 2, nodes[0], "second").Ended?.Outcome, Is.EqualTo(AppOutcome.BudgetExhausted));
    }

    [Test]
    public void Settings_refuse_a_negative_history_and_a_zero_idle_timeout()
    {
        Assert.That(
            () => (FlSettings.Default with { EndedAppHistory = -1 }).Validated(),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("totoro.fl.ended-app-history"));
        Assert.That(
            () => (FlSettings.Default with { TreeRoleIdleTimeout = TimeSpan.Zero }).Validated(),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("totoro.fl.tree-role-idle-timeout"));
    }

    [Test]
    public void A_model_that_cannot_be_built_for_the_data_fails_the_app_with_a_reason()
    {
        var nodes = FlTestBed.Addresses(4);
        var bed = FlTestBed.Create(4, seed: 7, new StarTopology(nodes[0], nodes.Skip(1)));
        // LeNet-5 needs images; the blobs are 16 plain features.
        var result = bed.Run(bed.Submit(1, FlTestBed.App("app").Model("lenet5").Rounds(2).ClientsPerRound(3).Build()));

        Assert.That(result.Outcome, Is.EqualTo(AppOutcome.Failed));
        Assert.That(result.Error, Does.Contain("model 'lenet5'").And.Contain("'blobs'"));
        Assert.That(Query(bed, from: 2, nodes[0], "app").Ended?.Outcome, Is.EqualTo(AppOutcome.Failed));
    }

    [Test]
    public void An_unknown_model_name_is_refused_when_the_spec_is_built()
    {
        Assert.That(
            () => FlTestBed.App("app").Model("resnet").Build(),
            Throws.InstanceOf<AppSpecException>().With.Property(nameof(AppSpecException.Errors)).Some.StartsWith("Model: unknown model 'resnet'"));
        Assert.That(
            () => FlTestBed.App("app").Model("mlp:64-x").Build(),
            Throws.InstanceOf<AppSpecException>().With.Property(nameof(AppSpecException.Errors)).Some.Contains("hidden widths must be positive integers"));
        Assert.That(FlTestBed.App("app").Model("mlp:64-32").Build().Model, Is.EqualTo("mlp:64-32"));
    }

    [Test]
    public void An_evaluation_that_throws_fails_the_app_with_the_reason()
    {
        var nodes = FlTestBed.Addresses(5);
        var bed = FlTestBed.Create(5, seed: 8, new StarTopology(nodes[0], nodes.Skip(1)), cache: new FaultyJobs(failEvaluation: true));
        var result = bed.Run(bed.Submit(1, FlTestBed.App("app").Rounds(3).ClientsPerRound(4).OverSelection(1).Build()));

        Assert.That(result.Outcome, Is.EqualTo(AppOutcome.Failed));
        Assert.That(result.Error, Is.EqualTo("the evaluation of round 1 failed: injected fault"));
    }

    [Test]
    public void A_local_training_that_throws_is_a_declined_update_and_the_round_goes_on()
    {
        var nodes = FlTestBed.Addresses(5);
        var bed = FlTestBed.Create(5, seed: 9, new StarTopology(nodes[0], nodes.Skip(1)), cache: new FaultyJobs(failWorker: 2));
        var handle = bed.Submit(1, FlTestBed.App("app").Rounds(2).ClientsPerRound(4).OverSelection(1).Build());
        var result = bed.Run(handle);

        Assert.That(result.Outcome, Is.EqualTo(AppOutcome.BudgetExhausted));
        var reports = FlTestBed.Reports(handle);
        Assert.That(reports.Select(r => r.Participants), Is.EqualTo(new[] { 3, 3 }), "worker 2's round is lost, the others' count");
        Assert.That(reports[^1].VirtualTime, Is.LessThan(TimeSpan.FromSeconds(10)), "the worker declines at once instead of leaving its round to the 60 s deadline");
    }

    /// <summary>Passes every job through, except the ones it is told to break (throwing as a bug would).</summary>
    private sealed class FaultyJobs(bool failEvaluation = false, int failWorker = -1) : Totoro.Actors.Sim.ITrainingResultCache
    {
        public (Totoro.Ml.Aggregation.ClientUpdate? Update, double Flops) Train(
            AppSpec spec, long round, int worker, GlobalModel global, Totoro.Ml.Data.Dataset data,
            Func<(Totoro.Ml.Aggregation.ClientUpdate? Update, double Flops)> train) =>
            worker == failWorker ? throw new InvalidOperationException("injected fault") : train();

        public (double Accuracy, double Loss, double Flops) Evaluate(
            AppSpec spec, GlobalModel model, Totoro.Ml.Data.Dataset test, Func<(double Accuracy, double Loss, double Flops)> evaluate) =>
            failEvaluation ? throw new InvalidOperationException("injected fault") : evaluate();
    }

    private static List<int> NodesWithTreeRole(FlTestBed bed, string app)
    {
        var found = new List<int>();
        for (int i = 0; i < bed.Scenario.Count; i++)
        {
            ActorSystem system;
            try
            {
                system = bed.Scenario[i];
            }
            catch (InvalidOperationException)
            {
                continue; // crashed
            }

            var probe = bed.Scenario.CreateProbe(i);
            system.Resolve(new ActorPath(system.Address, "/user/" + FlPaths.HostName)).Tell(ListFlRoles.Instance, probe.Ref);
            if (probe.ExpectMsg<FlRoles>().InTree.Contains(app))
            {
                found.Add(i);
            }
        }

        return found;
    }

    private static AppStatus Query(FlTestBed bed, int from, Address root, string app)
    {
        var probe = bed.Scenario.CreateProbe(from);
        FlPaths.Host(bed.Scenario[from], root).Tell(new QueryApp(app), probe.Ref);
        return probe.ExpectMsg<AppStatus>();
    }
}
