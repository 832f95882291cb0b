using Totoro.Kernel;
using Totoro.Tests.TestKit;

namespace Totoro.Tests.Kernel.Actors;

public sealed class AsyncHandlerTests
{
    private sealed record Slow(TimeSpan Delay, string Tag);

    private sealed class AsyncWorker : ReceiveActor
    {
        public AsyncWorker()
        {
            ReceiveAsync<Slow>(HandleSlow);
            Receive<string>(s => Sender!.Tell($"sync {s}", Self));
            ReceiveAsync<int>(n => n < 0, _ => FailLater());
        }

        private async Task HandleSlow(Slow slow)
        {
            var before = Sender;
            await Task.Delay(slow.Delay, Context.Time);
            var afterDelay = Sender;
            await Task.Yield();
            Sender!.Tell(new AsyncReport(slow.Tag, ReferenceEquals(before, afterDelay) && ReferenceEquals(before, Sender), Self.Path.Name), Self);
        }

        private async Task FailLater()
        {
            await Task.Delay(TimeSpan.FromMilliseconds(10), Context.Time);
            throw new InvalidOperationException("async boom");
        }
    }

    private sealed record AsyncReport(string Tag, bool SenderStable, string SelfName);

    [Test]
    public void An_async_handler_holds_the_mailbox_until_it_completes()
    {
        var system = Worlds.Deterministic();
        var probe = new TestProbe(system);
        var worker = system.ActorOf(Props.Create<AsyncWorker>(), "worker");
        probe.Send(worker, new Slow(TimeSpan.FromSeconds(1), "a"));
        probe.Send(worker, "b");
        probe.ExpectNoMsg(TimeSpan.FromMilliseconds(900));
        var first = probe.ExpectMsg<AsyncReport>();
        Assert.That(first.Tag, Is.EqualTo("a"));
        Assert.That(probe.ExpectMsg<string>(), Is.EqualTo("sync b"));
    }

    [Test]
    public void Sender_and_self_stay_correct_after_await_on_the_deterministic_world()
    {
        var system = Worlds.Deterministic();
        var probeA = new TestProbe(system);
        var probeB = new TestProbe(system);
        var worker = system.ActorOf(Props.Create<AsyncWorker>(), "worker");
        probeA.Send(worker, new Slow(TimeSpan.FromMilliseconds(50), "a"));
        probeB.Send(worker, new Slow(TimeSpan.FromMilliseconds(10), "b"));
        var a = probeA.ExpectMsg<AsyncReport>();
        var b = probeB.ExpectMsg<AsyncReport>();
        Assert.That((a.Tag, a.SenderStable, a.SelfName), Is.EqualTo(("a", true, "worker")));
        Assert.That((b.Tag, b.SenderStable, b.SelfName), Is.EqualTo(("b", true, "worker")));
    }

    [Test]
    public async Task Sender_and_self_stay_correct_after_await_on_the_thread_pool()
    {
        var system = Worlds.ThreadPool();
        var worker = system.ActorOf(Props.Create<AsyncWorker>(), "worker");
        var replies = Enumerable.Range(0, 20)
            .Select(i => worker.Ask<AsyncReport>(new Slow(TimeSpan.FromMilliseconds(1), $"t{i}"), TimeSpan.FromSeconds(10), system))
            .ToArray();
        var reports = await Task.WhenAll(replies).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        Assert.That(reports.Select(r => r.Tag), Is.EqualTo(Enumerable.Range(0, 20).Select(i => $"t{i}")));
        Assert.That(reports.All(r => r.SenderStable && r.SelfName == "worker"), Is.True);
        await system.Terminate().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
    }

    [Test]
    public void A_failing_async_handler_goes_to_the_supervisor()
    {
        var system = Worlds.Deterministic();
        var probe = new TestProbe(system);
        system.EventStream.Subscribe<ActorFailure>(probe.Ref);
        var worker = system.ActorOf(Props.Create<AsyncWorker>(), "worker");
        worker.Tell(-1);
        var failure = probe.ExpectMsg<ActorFailure>();
        Assert.That(failure.Cause.Message, Is.EqualTo("async boom"));
        Assert.That(failure.Directive, Is.EqualTo(Directive.Restart));
        probe.Send(worker, "after");
        Assert.That(probe.ExpectMsg<string>(), Is.EqualTo("sync after"));
    }
}
