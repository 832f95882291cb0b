namespace Totoro.Tests.Node.Hosting;

[NonParallelizable]
public sealed class EmbeddingSampleTests
{
    private static string Repo => Path.GetFullPath(Path.Combine(TestContext.CurrentContext.TestDirectory, "..", "..", "..", ".."));

    [Test]
    public async Task The_embedding_sample_hosts_a_node_and_its_module_answers()
    {
        var result = await EmbeddingSample.RunAsync(CancellationToken.None).WaitAsync(NodeTestKit.Patience);
        Assert.That(result, Is.EqualTo("embedded: hello embedding"));
    }

    [Test]
    public async Task Docs_embedding_md_quotes_the_sample_verbatim()
    {
        var source = await File.ReadAllTextAsync(Path.Combine(Repo, "Totoro.Tests", "Node", "Hosting", "EmbeddingSample.cs"));
        const string begin = "// begin-sample\n";
        var sample = source[(source.IndexOf(begin, StringComparison.Ordinal) + begin.Length)..source.IndexOf("// end-sample", StringComparison.Ordinal)];
        var doc = await File.ReadAllTextAsync(Path.Combine(Repo, "docs", "embedding.md"));
        Assert.That(sample, Has.Length.GreaterThan(500));
        Assert.That(doc, Does.Contain("```csharp\n" + sample + "```"), "docs/embedding.md must quote EmbeddingSample.cs between its markers");
    }
}
