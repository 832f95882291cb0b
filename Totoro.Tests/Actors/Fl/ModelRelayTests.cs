using Totoro.Actors.Fl;
using Totoro.Kernel;

namespace Totoro.Tests.Actors.Fl;

[TestFixture]
public sealed class ModelRelayTests
{
    private static readonly Address RelayA = new("totoro", "relay-a", 2552);
    private static readonly Address RelayB = new("totoro", "relay-b", 2552);
    private static readonly Address Leaf1 = new("totoro", "leaf-1", 2552);
    private static readonly Address Leaf2 = new("totoro", "leaf-2", 2552);

    private static GlobalModel Model(int length, int seed, long version = 4)
    {
        var random = new Random(seed);
        return new GlobalModel(77, version, Enumerable.Range(0, length).Select(_ => (float)random.NextDouble() - 0.5f).ToArray());
    }

    private static ModelRelay Open(ModelManifest manifest, bool assemble = true) =>
        ModelRelay.Open("app", 9, 3, manifest, [RelayA, RelayB], [Leaf1, Leaf2], assemble);

    [Test]
    public void Chunks_taken_in_any_order_assemble_the_exact_model()
    {
        var model = Model(1000, seed: 1);
        var manifest = ModelManifest.Of(model, chunkLength: 64);
        var relay = Open(manifest);
        GlobalModel? assembled = null;
        var random = new Random(11);

        foreach (var chunk in manifest.Split("app", 9, 3, model).OrderBy(_ => random.Next()))
        {
            var step = relay.Take([chunk]);
            Assert.That(assembled, Is.Null, "the model is assembled only once every chunk is in");
            (relay, assembled) = (step.State, step.Assembled);
        }

        Assert.That(manifest.ChunkCount, Is.EqualTo(16));
        Assert.That(assembled!.Parameters.ToArray(), Is.EqualTo(model.Parameters.ToArray()));
        Assert.That((assembled.ArchitectureId, assembled.Version), Is.EqualTo((77UL, 4L)));
    }

    [Test]
    public void A_forwarder_passes_a_chunk_to_every_child_as_it_arrives_relays_first()
    {
        var model = Model(100, seed: 2);
        var manifest = ModelManifest.Of(model, chunkLength: 40);
        var chunks = manifest.Split("app", 9, 3, model);

        var step = Open(manifest, assemble: false).Take([chunks[0]]);

        Assert.That(step.Sends.Select(s => (s.To, s.Chunk.Index)), Is.EqualTo(new[] { (RelayA, 0), (RelayB, 0), (Leaf1, 0), (Leaf2, 0) }));
        Assert.That(step.Assembled, Is.Null);
    }

    [Test]
    public void The_root_streams_chunk_by_chunk_to_relays_then_whole_models_to_leaves_one_after_another()
    {
        var model = Model(100, seed: 3);
        var manifest = ModelManifest.Of(model, chunkLength: 40);

        var step = Open(manifest, assemble: false).Take(manifest.Split("app", 9, 3, model));

        Assert.That(step.Sends.Select(s => (s.To, s.Chunk.Index)), Is.EqualTo(new[]
        {
            (RelayA, 0), (RelayB, 0), (RelayA, 1), (RelayB, 1), (RelayA, 2), (RelayB, 2),
            (Leaf1, 0), (Leaf1, 1), (Leaf1, 2), (Leaf2, 0), (Leaf2, 1), (Leaf2, 2),
        }));
    }

    [Test]
    public void Duplicate_chunks_are_counted_and_never_passed_on_twice()
    {
        var model = Model(100, seed: 4);
        var manifest = ModelManifest.Of(model, chunkLength: 40);
        var chunks = manifest.Split("app", 9, 3, model);

        var first = Open(manifest).Take([chunks[1]]);
        var again = first.State.Take([chunks[1], chunks[1]]);

        Assert.That(again.Sends, Is.Empty);
        Assert.That((again.State.Duplicates, again.State.Stale, again.State.Received), Is.EqualTo((2, 0, 1)));
    }

    [Test]
    public void Chunks_of_another_round_run_app_or_model_version_are_never_assembled()
    {
        var model = Model(100, seed: 5);
        var newer = Model(100, seed: 6, version: 5);
        var manifest = ModelManifest.Of(model, chunkLength: 40);
        var own = manifest.Split("app", 9, 3, model);
        var foreign = new[]
        {
            ModelManifest.Of(newer, 40).Split("app", 9, 3, newer)[2],
            manifest.Split("app", 9, 4, model)[2],
            manifest.Split("app", 8, 3, model)[2],
            manifest.Split("other", 9, 3, model)[2],
            own[2] with { Values = own[2].Values[..5] },
            own[2] with { Index = 7 },
        };

        var step = Open(manifest).Take([own[0], own[1], .. foreign]);

        Assert.That(step.Assembled, Is.Null);
        Assert.That((step.State.Received, step.State.Stale), Is.EqualTo((2, foreign.Length)));
        Assert.That(step.Sends.Select(s => s.Chunk.Index).Distinct(), Is.EqualTo(new[] { 0, 1 }), "only the round's own chunks travel on");
    }

    [Test]
    public void A_model_whose_bits_do_not_match_the_manifest_checksum_is_refused()
    {
        var model = Model(100, seed: 7);
        var manifest = ModelManifest.Of(model, chunkLength: 40);
        var chunks = manifest.Split("app", 9, 3, model);
        var altered = chunks[1].Values.ToArray();
        altered[3] = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(altered[3]) ^ 1);

        var step = Open(manifest).Take([chunks[0], chunks[1] with { Values = altered }, chunks[2]]);

        Assert.That(step.Assembled, Is.Null);
        Assert.That(step.Refused, Does.Contain("checksum"));
    }

    [Test]
    public void An_empty_model_travels_as_one_empty_chunk()
    {
        var model = new GlobalModel(77, 0, Array.Empty<float>());
        var manifest = ModelManifest.Of(model, chunkLength: 16);

        var step = Open(manifest).Take(manifest.Split("app", 9, 3, model));

        Assert.That(manifest.ChunkCount, Is.EqualTo(1));
        Assert.That(step.Assembled!.Parameters.Length, Is.Zero);
    }

    [TestCase(63)]
    [TestCase((64 << 20) + 1)]
    public void A_chunk_size_out_of_range_is_refused_naming_its_key(int bytes) =>
        Assert.That(() => (FlSettings.Default with { ModelChunkBytes = bytes }).Validated(), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("totoro.fl.model-chunk-size"));
}
