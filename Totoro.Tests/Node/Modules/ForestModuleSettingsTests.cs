using Totoro.Actors.Forest;
using Totoro.Kernel.Settings;
using Totoro.Node.Modules;

namespace Totoro.Tests.Node.Modules;

public class ForestModuleSettingsTests
{
    [Test]
    public void The_reference_defaults_are_the_records_defaults_including_the_child_budget()
    {
        var settings = ForestModuleSettings.FromConfig(NodeTestKit.Config("forest-settings"));
        Assert.That(settings.Forest.NodeChildBudget, Is.EqualTo(ForestSettings.DefaultNodeChildBudget));
        Assert.That(settings.Forest with { TickInterval = ForestSettings.Default.TickInterval }, Is.EqualTo(ForestSettings.Default with { TickInterval = ForestSettings.Default.TickInterval }));
    }

    [TestCase(0)]
    [TestCase(5)]
    public void The_child_budget_is_read_from_hocon_and_zero_means_none(int budget)
    {
        var config = NodeTestKit.Config("forest-settings", $"totoro.forest.node-child-budget = {budget}");
        Assert.That(ForestModuleSettings.FromConfig(config).Forest.NodeChildBudget, Is.EqualTo(budget));
    }

    [Test]
    public void A_negative_child_budget_names_its_key_path()
    {
        var config = NodeTestKit.Config("forest-settings", "totoro.forest.node-child-budget = -1");
        var failure = Assert.Throws<SettingsException>(() => ForestModuleSettings.FromConfig(config))!;
        Assert.That(failure.Errors, Has.Some.StartsWith("totoro.forest.node-child-budget"));
    }
}
