using System.Text.Json;
using Totoro.Actors.Fl;
using static Totoro.Tests.Node.FlNodeTestKit;

namespace Totoro.Tests.Node;

/// <summary>The <c>app</c> and <c>round</c> palettes through <c>totoro cmd --json</c> against real nodes.</summary>
[NonParallelizable]
public sealed class FlPaletteTests
{
    private string directory = "";

    [SetUp]
    public void CreateDirectory() => directory = Directory.CreateTempSubdirectory("totoro-fl-palette-").FullName;

    [TearDown]
    public void DeleteDirectory() => Directory.Delete(directory, recursive: true);

    [Test]
    public async Task App_submit_reads_the_spec_file_on_the_operators_side_and_status_list_round_and_cancel_follow_the_app()
    {
        var nodes = await StartClusterAsync("pal-a", "pal-b", "pal-c");
        try
        {
            const string app = "palette-app";
            var root = RootOf(nodes, app);
            var file = Path.Combine(directory, "app.conf");
            await File.WriteAllTextAsync(file, $$"""
                # runs until cancelled: a large budget, no target
                app {
                  name = "{{app}}"
                  model = "logreg"
                  dataset = "blobs"
                  rounds = 100000
                  clients-per-round = 3
                  over-selection = 1.0
                  learning-rate = 0.05
                  round-deadline = 30s
                  seed = 3
                }
                """);

            var (status, submitted, error) = await CmdJsonAsync(nodes[0].Node, "app", "submit", file);
            Assert.That(status, Is.Zero, error);
            var submit = KeyValues(submitted!);
            Assert.That(submit["app"], Is.EqualTo(app));
            Assert.That(submit["root"], Is.EqualTo(root.Node.Address.ToString()));
            Assert.That(submit["rounds"], Is.EqualTo("100000"));

            var running = await nodes[2].Node.GetAppStatusAsync(app);
            Assert.That(running.Running, Is.True);
            Assert.That(running.Ended, Is.Null);

            var (_, statusJson, statusError) = await CmdJsonAsync(nodes[2].Node, "app", "status", app);
            Assert.That(statusJson, Is.Not.Null, statusError);
            var state = KeyValues(statusJson!);
            Assert.That(state["state"], Is.EqualTo("running"));
            Assert.That(state["root"], Is.EqualTo(root.Node.Address.ToString()));
            Assert.That(state["workers"], Is.EqualTo("3"));
            Assert.That(state["topology"], Is.EqualTo("ring-tree"));
            Assert.That(long.Parse(state["round"], System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThanOrEqualTo(1));

            var (_, roundJson, roundError) = await CmdJsonAsync(nodes[1].Node, "round", "status", app);
            Assert.That(roundJson, Is.Not.Null, roundError);
            Assert.That(roundJson!.RootElement.GetProperty("palette").GetString(), Is.EqualTo("round"));
            var round = KeyValues(roundJson);
            Assert.That(round["phase"], Is.AnyOf("collecting", "aggregating", "evaluating"));
            Assert.That(round["invited"], Is.EqualTo("3"));
            Assert.That(round["clients-per-round"], Is.EqualTo("3"));

            var (_, listJson, listError) = await CmdJsonAsync(root.Node, "app", "list");
            Assert.That(listJson, Is.Not.Null, listError);
            var row = listJson!.RootElement.GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("app").GetString() == app);
            Assert.That(row.GetProperty("here").GetString(), Does.Contain("coordinator"));
            Assert.That(row.GetProperty("state").GetString(), Is.EqualTo("running"));

            var submission = nodes[0].Fl.Submissions.Single(s => s.Spec.Name == app);
            var (cancelStatus, cancelJson, cancelError) = await CmdJsonAsync(nodes[2].Node, "app", "cancel", app);
            Assert.That(cancelStatus, Is.Zero, cancelError);
            Assert.That(KeyValues(cancelJson!)["state"], Is.EqualTo("cancel sent"));
            var result = await submission.Handle.Completion.WaitAsync(NodeTestKit.Patience);
            Assert.That(result.Outcome, Is.EqualTo(AppOutcome.Cancelled));

            var (_, afterJson, _) = await CmdJsonAsync(nodes[0].Node, "app", "status", app);
            Assert.That(KeyValues(afterJson!)["state"], Is.EqualTo("cancelled"), "the submitting node remembers how its app ended");
            var embedded = await nodes[1].Node.GetAppStatusAsync(app);
            Assert.That(embedded.Running, Is.False);
            Assert.That(embedded.Ended?.Outcome, Is.EqualTo(AppOutcome.Cancelled), "the embedding API sees the root's record too");
            Assert.That(embedded.Root, Is.EqualTo(root.Node.Address.ToString()));

            var (_, endedJson, endedError) = await CmdJsonAsync(nodes[1].Node, "app", "status", app);
            Assert.That(endedJson, Is.Not.Null, endedError);
            var ended = KeyValues(endedJson!);
            Assert.That(ended["state"], Is.EqualTo("cancelled"), "any node hears from the root how the app ended");
            Assert.That(ended["root"], Is.EqualTo(root.Node.Address.ToString()));
            var (_, lastJson, lastError) = await CmdJsonAsync(nodes[1].Node, "round", "status", app);
            Assert.That(lastJson, Is.Not.Null, lastError);
            Assert.That(KeyValues(lastJson!)["phase"], Is.EqualTo("ended: cancelled"));
            var (_, rootListJson, _) = await CmdJsonAsync(root.Node, "app", "list");
            var rootRow = rootListJson!.RootElement.GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("app").GetString() == app);
            Assert.That(rootRow.GetProperty("here").GetString(), Does.Contain("coordinator (ended)"));
            Assert.That(rootRow.GetProperty("state").GetString(), Is.EqualTo("cancelled"));

            // The root's successors keep the end record too (so status survives the root), and say so.
            var successorRows = 0;
            foreach (var other in nodes.Where(n => n != root))
            {
                var (_, otherListJson, _) = await CmdJsonAsync(other.Node, "app", "list");
                foreach (var otherRow in otherListJson!.RootElement.GetProperty("rows").EnumerateArray().Where(r => r.GetProperty("app").GetString() == app))
                {
                    Assert.That(otherRow.GetProperty("here").GetString(), Does.Not.Contain("coordinator"), "only the root coordinated it");
                    successorRows += otherRow.GetProperty("here").GetString()!.Contains("end record (successor)", StringComparison.Ordinal) ? 1 : 0;
                }
            }

            Assert.That(successorRows, Is.GreaterThan(0), "a successor lists the end record it keeps");

            var (goneStatus, goneJson, _) = await CmdJsonAsync(nodes[1].Node, "round", "status", "never-submitted");
            Assert.That(goneStatus, Is.EqualTo(1));
            Assert.That(goneJson!.RootElement.GetProperty("error").GetString(), Does.Contain("no app 'never-submitted' runs at its root"));
        }
        finally
        {
            await StopAsync(nodes);
        }
    }

    [Test]
    public async Task App_submit_of_an_invalid_file_names_each_key_with_file_and_line()
    {
        var nodes = await StartClusterAsync("bad-a");
        try
        {
            var file = Path.Combine(directory, "bad.conf");
            await File.WriteAllTextAsync(file, "app {\n  name = \"ok\"\n  dataset = \"blobs\"\n  rounds = 0\n  colour = blue\n}\n");

            var (status, json, _) = await CmdJsonAsync(nodes[0].Node, "app", "submit", file);

            Assert.That(status, Is.EqualTo(1));
            var message = json!.RootElement.GetProperty("error").GetString();
            Assert.That(message, Does.Contain($"{file}:4:").And.Contain("app.rounds: must be ≥ 1"));
            Assert.That(message, Does.Contain($"{file}:5:").And.Contain("app.colour: unknown key"));
            Assert.That(nodes[0].Fl.Submissions, Is.Empty);
        }
        finally
        {
            await StopAsync(nodes);
        }
    }

    [Test]
    public async Task App_submit_of_a_missing_file_fails_in_the_shell()
    {
        var nodes = await StartClusterAsync("miss-a");
        try
        {
            var (status, json, _) = await CmdJsonAsync(nodes[0].Node, "app", "submit", Path.Combine(directory, "nope.conf"));
            Assert.That(status, Is.EqualTo(1));
            Assert.That(json!.RootElement.GetProperty("error").GetString(), Does.EndWith("nope.conf: no such file"));
        }
        finally
        {
            await StopAsync(nodes);
        }
    }
}
