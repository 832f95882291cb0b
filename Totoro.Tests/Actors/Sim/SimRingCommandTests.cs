using System.Text.Json;
using Totoro.Actors.Sim;
using Totoro.Node.Cli;

namespace Totoro.Tests.Actors.Sim;

[TestFixture]
internal sealed class SimRingCommandTests
{
    [Test]
    public void A_tiny_sim_ring_run_reports_through_the_command_code_path_as_one_json_object()
    {
        var log = new StringWriter();
        var summary = SimRingCommand.Run([new RingSimOptions(120, 2, 4, Seed: 7, CandidatesPerSlot: 1, Lookups: 300, ChurnPercent: 10)], log, useBar: false);
        var json = new StringWriter();
        JsonSummary.Write(json, summary);

        using var document = JsonDocument.Parse(json.ToString());
        var run = document.RootElement.GetProperty("runs")[0];
        Assert.That(document.RootElement.GetProperty("simulation").GetString(), Is.EqualTo("ring"));
        Assert.That(run.GetProperty("nodes").GetInt32(), Is.EqualTo(120));
        Assert.That(run.GetProperty("lookups").GetProperty("delivered").GetInt32(), Is.EqualTo(300));
        Assert.That(run.GetProperty("lookups").GetProperty("misroutes").GetInt32(), Is.Zero);
        Assert.That(run.GetProperty("after_churn").GetProperty("live_nodes").GetInt32(), Is.EqualTo(108));
        Assert.That(run.GetProperty("state_bytes_per_node").GetDouble(), Is.GreaterThan(0));
        Assert.That(json.ToString().Trim().Split('\n'), Has.Length.EqualTo(1), "exactly one JSON line");
        Assert.That(log.ToString(), Does.Contain("N=120: built"));
    }

    [Test]
    public void The_svg_chart_has_one_polyline_per_series_and_escapes_text()
    {
        var svg = SvgLineChart.Render("hops <N>", "N", "hops", [new ChartSeries("mean", [(1000, 2.5), (10000, 3.3)]), new ChartSeries("max", [(1000, 4), (10000, 5)])], logX: true);

        Assert.That(svg, Does.StartWith("<svg"));
        Assert.That(svg.Split("<polyline").Length - 1, Is.EqualTo(2));
        Assert.That(svg, Does.Contain("hops &lt;N&gt;"));
        Assert.That(svg, Does.Contain("10^4"));
    }
}
