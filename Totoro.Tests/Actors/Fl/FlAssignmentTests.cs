using Totoro.Actors.Sim;
using Totoro.Node.Cli;

namespace Totoro.Tests.Actors.Fl;

/// <summary>
/// <c>sim fl --assignment</c>: how each app's workers are drawn. Disjoint (the paper's artifact: a node works for at
/// most one app) must give disjoint, uniform, seed-determined worker sets, the same for app i at every app count.
/// </summary>
[TestFixture]
public sealed class FlAssignmentTests
{
    private static FlExperimentConfig Disjoint => FlExperimentTests.Tiny with { Assignment = FlAssignment.Disjoint, Nodes = 40, WorkersPerApp = 16, AppCounts = [1, 2] };

    [Test]
    public void Disjoint_assignment_gives_every_app_its_own_workers()
    {
        var workers = FlExperimentPlan.AssignWorkers(Disjoint, 2);

        Assert.That(workers, Has.Length.EqualTo(2));
        foreach (var app in workers)
        {
            Assert.That(app, Has.Length.EqualTo(16));
            Assert.That(app, Is.Ordered.Ascending.And.Unique);
            Assert.That(app, Has.All.InRange(0, 39));
        }

        Assert.That(workers[0].Intersect(workers[1]), Is.Empty);

        // The plan carries exactly these, so both systems (forest and star) see them.
        var plan = FlExperimentPlan.Create(Disjoint);
        Assert.That(plan.Apps.Select(a => a.Workers), Is.EqualTo(workers));
    }

    [Test]
    public void Disjoint_assignment_is_fixed_by_the_seed_and_the_same_for_an_app_at_every_app_count()
    {
        var two = FlExperimentPlan.AssignWorkers(Disjoint, 2);
        Assert.That(FlExperimentPlan.AssignWorkers(Disjoint, 2), Is.EqualTo(two));
        Assert.That(FlExperimentPlan.AssignWorkers(Disjoint, 1)[0], Is.EqualTo(two[0]));
        Assert.That(FlExperimentPlan.AssignWorkers(Disjoint with { Seed = 4 }, 2)[0], Is.Not.EqualTo(two[0]));
    }

    [Test]
    public void Shared_assignment_lets_apps_overlap_and_keeps_each_apps_own_sample()
    {
        var config = Disjoint with { Assignment = FlAssignment.Shared };
        var workers = FlExperimentPlan.AssignWorkers(config, 2);

        // 16 of 40 twice, independently: this seed's samples share nodes, which disjoint never does.
        Assert.That(workers[0].Intersect(workers[1]), Is.Not.Empty);
        Assert.That(FlExperimentPlan.AssignWorkers(config, 1)[0], Is.EqualTo(workers[0]));
    }

    [Test]
    public void Disjoint_assignment_with_too_few_nodes_is_an_error_naming_the_numbers()
    {
        var config = Disjoint with { Nodes = 30, AppCounts = [1, 2] };

        Assert.That(config.Validate(), Has.One.EqualTo("--assignment disjoint needs --nodes ≥ apps × --workers-per-app = 2 × 16 = 32, but --nodes is 30"));
        Assert.That(() => FlExperimentPlan.Create(config), Throws.ArgumentException.With.Message.Contains("2 × 16 = 32, but --nodes is 30"));
        Assert.That(() => FlExperimentPlan.AssignWorkers(config, 2), Throws.ArgumentException.With.Message.Contains("needs 32 nodes, but there are 30"));
        Assert.That((config with { Assignment = FlAssignment.Shared }).Validate(), Is.Empty);
        Assert.That((config with { Nodes = 32 }).Validate(), Is.Empty);
    }

    [Test]
    public void The_assignment_option_parses_its_two_values_and_names_a_bad_one()
    {
        Assert.That(SimFlCommand.ParseAssignment("shared"), Is.EqualTo(FlAssignment.Shared));
        Assert.That(SimFlCommand.ParseAssignment("disjoint"), Is.EqualTo(FlAssignment.Disjoint));
        Assert.That(() => SimFlCommand.ParseAssignment("overlap"), Throws.TypeOf<FormatException>().With.Message.EqualTo("--assignment: 'overlap' is not shared or disjoint"));
    }

    [Test]
    public void The_json_summary_names_the_assignment()
    {
        var text = new StringWriter();
        JsonSummary.Write(text, Disjoint);
        Assert.That(text.ToString(), Does.Contain("\"assignment\":\"Disjoint\""));
    }
}
