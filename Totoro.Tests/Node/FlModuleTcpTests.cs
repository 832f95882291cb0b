using Totoro.Actors.Fl;
using Totoro.Kernel;
using static Totoro.Tests.Node.FlNodeTestKit;

namespace Totoro.Tests.Node;

/// <summary>The FL engine in real nodes: the ring and FL modules over TCP on 127.0.0.1.</summary>
[NonParallelizable]
public sealed class FlModuleTcpTests
{
    [Test]
    public async Task An_app_submitted_through_a_remote_node_trains_at_its_root_and_reports_stream_back_over_tcp()
    {
        var nodes = await StartClusterAsync("fl-a", "fl-b", "fl-c");
        try
        {
            const string app = "tcp-blobs";
            var root = RootOf(nodes, app);
            var spec = BlobsApp(app).Rounds(15).Target(0.85).Build();

            var handle = await nodes[0].Node.SubmitAsync(spec, nodes[1].Node.Endpoint());
            var reports = await DrainAsync(handle);
            var result = await handle.Completion.WaitAsync(NodeTestKit.Patience);

            Assert.That(await handle.Accepted, Is.EqualTo(root.Node.Address), "the coordinator runs on the member closest to hash(app)");
            Assert.That(result.Outcome, Is.EqualTo(AppOutcome.TargetReached), result.Error);
            Assert.That(reports.Select(r => r.Round), Is.EqualTo(Enumerable.Range(1, reports.Count).Select(i => (long)i)));
            Assert.That(reports[^1].Accuracy, Is.GreaterThanOrEqualTo(0.85));
            Assert.That(reports.Select(r => r.Participants), Is.All.EqualTo(3), "every member trains every round");
            Assert.That(reports.Select(r => r.BytesUp), Is.All.Positive, "updates came up the tree over the wire");
            Assert.That(reports[^1].WallTime, Is.GreaterThan(TimeSpan.Zero));
        }
        finally
        {
            await StopAsync(nodes);
        }
    }

    [Test]
    public async Task Every_node_derives_the_same_tree_from_the_ring()
    {
        var nodes = await StartClusterAsync("tree-a", "tree-b", "tree-c", "tree-d");
        try
        {
            const string app = "same-tree";
            var expected = RootOf(nodes, app).Node.Address;
            var workers = nodes[0].Fl.Topology.Workers(app);
            foreach (var node in nodes)
            {
                var topology = node.Fl.Topology;
                Assert.That(topology.Root(app), Is.EqualTo(expected), node.Name);
                Assert.That(topology.Workers(app), Is.EqualTo(workers), node.Name);
                Assert.That(topology.Kind, Is.EqualTo("ring-tree"));
            }

            Assert.That(workers, Is.EquivalentTo(nodes.Select(n => n.Node.Address)));
        }
        finally
        {
            await StopAsync(nodes);
        }
    }

    [Test]
    public async Task A_second_app_of_the_same_name_is_refused_while_the_first_runs()
    {
        var nodes = await StartClusterAsync("dup-a", "dup-b", "dup-c");
        try
        {
            var spec = BlobsApp("dup").Rounds(10_000).Build();
            var first = await nodes[0].Node.SubmitAsync(spec);
            await first.Accepted.WaitAsync(NodeTestKit.Patience);

            var second = await nodes[2].Node.SubmitAsync(spec);
            var refused = await second.Completion.WaitAsync(NodeTestKit.Patience);

            Assert.That(refused.Outcome, Is.EqualTo(AppOutcome.Failed));
            Assert.That(refused.Error, Does.Contain("already running"));
            await Assert.ThrowsAsync<InvalidOperationException>(async () => await second.Accepted);
            first.Cancel();
            Assert.That((await first.Completion.WaitAsync(NodeTestKit.Patience)).Outcome, Is.EqualTo(AppOutcome.Cancelled));
        }
        finally
        {
            await StopAsync(nodes);
        }
    }

    [Test]
    public async Task When_the_root_leaves_the_next_closest_node_resumes_and_reports_continue_on_the_same_handle()
    {
        var nodes = await StartClusterAsync("fo-a", "fo-b", "fo-c", "fo-d");
        try
        {
            const string app = "tcp-failover";
            var root = RootOf(nodes, app);
            var survivors = nodes.Where(n => n != root).ToList();
            var successor = RootOf(survivors, app);
            var submitter = survivors.First(n => n != successor);
            // A round under way while nodes learn of the departure may lose a subtree (its parent was the old root) and
            // close at its deadline: keep that short.
            var handle = await submitter.Node.SubmitAsync(BlobsApp(app).Rounds(100_000).LearningRate(0.01).RoundDeadline(TimeSpan.FromSeconds(2)).Build());
            using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var reports = handle.Reports.GetAsyncEnumerator(patience.Token);
            var seen = new List<RoundReport>();
            async Task ReadUntilAsync(Func<RoundReport, bool> stop)
            {
                while (await reports.MoveNextAsync())
                {
                    seen.Add(reports.Current);
                    if (stop(reports.Current))
                    {
                        return;
                    }
                }

                Assert.Fail($"the reports ended early: {(await handle.Completion).Outcome}");
            }

            Assert.That(await handle.Accepted.WaitAsync(NodeTestKit.Patience), Is.EqualTo(root.Node.Address));
            await ReadUntilAsync(r => r.Round >= 3);
            nodes.Remove(root);
            await root.Node.StopAsync(CancellationToken.None).WaitAsync(NodeTestKit.Patience);
            await root.Node.DisposeAsync();
            var stoppedAt = seen[^1].Round;
            await ReadUntilAsync(r => r.Round >= stoppedAt + 3);

            var status = await successor.Fl.QueryAsync(app, CancellationToken.None);
            Assert.That(status.Running, Is.True);
            Assert.That(status.Root, Is.EqualTo(successor.Node.Address.ToString()), "the next-closest node coordinates now");
            Assert.That(status.Workers, Is.EqualTo(3), "the resumed run trains on the survivors");
            Assert.That(seen.Select(r => r.Round), Is.EqualTo(Enumerable.Range(1, seen.Count).Select(i => (long)i)), "no round lost or repeated on the handle");
            handle.Cancel();
            Assert.That((await handle.Completion.WaitAsync(NodeTestKit.Patience)).Outcome, Is.EqualTo(AppOutcome.Cancelled), "cancel reaches the new root");
        }
        finally
        {
            await StopAsync(nodes);
        }
    }
}
