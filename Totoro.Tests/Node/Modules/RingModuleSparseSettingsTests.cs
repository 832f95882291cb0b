using Totoro.Actors.Ring;
using Totoro.Kernel.Settings;
using Totoro.Node.Modules;

namespace Totoro.Tests.Node.Modules;

/// <summary><c>totoro.ring.sparse-extra-candidates</c> reaches the overlay settings, and a bad value names its key.</summary>
public class RingModuleSparseSettingsTests
{
    [Test]
    public void The_reference_default_is_the_records_and_an_override_reaches_the_overlay()
    {
        Assert.That(RingModuleSettings.FromConfig(NodeTestKit.Config("sparse"), "sparse").Ring.SparseExtraCandidates, Is.EqualTo(RingSettings.Default.SparseExtraCandidates));
        var config = NodeTestKit.Config("sparse", "totoro.ring.sparse-extra-candidates = 0");
        Assert.That(RingModuleSettings.FromConfig(config, "sparse").Ring.SparseExtraCandidates, Is.EqualTo(0));
    }

    [Test]
    public void An_out_of_range_value_names_the_key()
    {
        var config = NodeTestKit.Config("sparse", "totoro.ring.sparse-extra-candidates = 99");
        var failure = Assert.Throws<SettingsException>(() => RingModuleSettings.FromConfig(config, "sparse"))!;
        Assert.That(failure.Errors, Has.Some.Contains("totoro.ring.sparse-extra-candidates"));
    }
}
