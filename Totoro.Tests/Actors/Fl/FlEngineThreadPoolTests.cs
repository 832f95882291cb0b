using Totoro.Actors.Fl;
using Totoro.Kernel;

namespace Totoro.Tests.Actors.Fl;

/// <summary>The same roles on real threads: the thread pool for the actors, a dedicated dispatcher for training.</summary>
[TestFixture]
public sealed class FlEngineThreadPoolTests
{
    [Test]
    public async Task An_app_runs_on_real_threads_with_training_on_its_own_dispatcher()
    {
        await using var system = ActorSystem.Create("totoro", new ActorSystemSettings
        {
            Serialization = FlTestBed.Registry,
            Dispatchers = new Dictionary<string, Dispatcher> { [FlSettings.Default.TrainingDispatcher!] = new DedicatedThreadDispatcher("fl-training", 1) },
        });
        var topology = StaticTreeTopology.Empty.WithTree("app", [system.Address], [-1]);
        var engine = FlEngine.Start(system, new FlNodeOptions(topology, FlTestBed.Catalog, FlSettings.Default, DeviceFlopsPerSecond: null));

        var handle = await engine.SubmitAsync(FlTestBed.App("app").Rounds(2).ClientsPerRound(1).Build());
        var reports = new List<RoundReport>();
        await foreach (var report in handle.Reports.WithCancellation(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token))
        {
            reports.Add(report);
        }

        var result = await handle.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.That(result.Outcome, Is.EqualTo(AppOutcome.BudgetExhausted));
        Assert.That(reports.Select(r => (r.Round, r.Participants)), Is.EqualTo(new[] { (1L, 1), (2L, 1) }));
        Assert.That(reports[^1].Accuracy, Is.GreaterThan(0.5));
    }
}
