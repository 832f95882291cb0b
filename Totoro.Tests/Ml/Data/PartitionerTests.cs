using Totoro.Ml.Data;

namespace Totoro.Tests.Ml.Data;

public sealed class PartitionerTests
{
    // 10 classes × 100 samples, in class order with a twist so that order carries no information.
    private static readonly int[] Labels = [.. Enumerable.Range(0, 1000).Select(i => i * 7 % 1000 / 100)];

    private static IEnumerable<TestCaseData> Partitions()
    {
        yield return new TestCaseData("iid", (Func<int, int[][]>)(seed => Partitioner.Iid(Labels.Length, 20, seed)));
        yield return new TestCaseData("shards", (Func<int, int[][]>)(seed => Partitioner.LabelShards(Labels, 20, 2, seed)));
        yield return new TestCaseData("dirichlet 0.1", (Func<int, int[][]>)(seed => Partitioner.Dirichlet(Labels, 10, 20, 0.1, seed)));
        yield return new TestCaseData("dirichlet 100", (Func<int, int[][]>)(seed => Partitioner.Dirichlet(Labels, 10, 20, 100, seed)));
        yield return new TestCaseData("quantity 0.5", (Func<int, int[][]>)(seed => Partitioner.QuantitySkew(Labels.Length, 20, 0.5, seed)));
    }

    [TestCaseSource(nameof(Partitions))]
    public void Parts_are_non_empty_disjoint_and_cover_every_sample(string name, Func<int, int[][]> partition)
    {
        var parts = partition(3);
        Assert.That(parts, Has.Length.EqualTo(20));
        Assert.That(parts, Has.All.Not.Empty);
        Assert.That(parts.SelectMany(p => p).Order(), Is.EqualTo(Enumerable.Range(0, Labels.Length)), name);
    }

    [TestCaseSource(nameof(Partitions))]
    public void Same_seed_gives_the_same_split_and_another_seed_a_different_one(string name, Func<int, int[][]> partition)
    {
        Assert.That(partition(5), Is.EqualTo(partition(5)), name);
        Assert.That(partition(6), Is.Not.EqualTo(partition(5)), name);
    }

    [Test]
    public void Label_shards_give_each_client_at_most_two_classes()
    {
        // 40 shards of 25 samples never straddle a class boundary of 100.
        var parts = Partitioner.LabelShards(Labels, 20, 2, seed: 1);
        Assert.That(parts.Select(p => p.Select(i => Labels[i]).Distinct().Count()), Has.All.InRange(1, 2));
        Assert.That(parts.Select(p => p.Length), Has.All.EqualTo(50));
    }

    [Test]
    public void Small_dirichlet_alpha_skews_labels_more_than_a_large_one()
    {
        static double MeanClasses(int[][] parts) => parts.Average(p => p.Select(i => Labels[i]).Distinct().Count());
        var skewed = MeanClasses(Partitioner.Dirichlet(Labels, 10, 20, 0.1, seed: 2));
        var uniform = MeanClasses(Partitioner.Dirichlet(Labels, 10, 20, 100, seed: 2));
        Assert.That(skewed, Is.LessThan(5));
        Assert.That(uniform, Is.GreaterThan(9));
    }

    [Test]
    public void Quantity_skew_makes_sizes_unequal_while_iid_keeps_them_equal()
    {
        var skewed = Partitioner.QuantitySkew(Labels.Length, 20, 0.5, seed: 4).Select(p => p.Length).ToArray();
        Assert.That(skewed.Max(), Is.GreaterThan(3 * skewed.Min()));
        var iid = Partitioner.Iid(Labels.Length, 20, seed: 4).Select(p => p.Length);
        Assert.That(iid, Has.All.EqualTo(50));
    }

    [Test]
    public void A_dataset_view_exposes_only_its_partition_without_copying_the_store()
    {
        var store = SyntheticData.GaussianBlobs(100, 3, 4, 5f, seed: 1);
        var parts = Partitioner.Iid(store.Count, 4, seed: 1);
        var view = store.Subset(parts[2]);
        Assert.That(view.Count, Is.EqualTo(25));
        Assert.That(view.Store, Is.SameAs(store));
        Assert.That(view.Indices.ToArray(), Is.EqualTo(parts[2]));
        var features = new float[3];
        var labels = new int[1];
        view.Gather([4], features, labels);
        Assert.That(features, Is.EqualTo(store.Features(parts[2][4]).ToArray()));
        Assert.That(labels[0], Is.EqualTo(store.Labels[parts[2][4]]));
        Assert.That(view.ClassCounts().Sum(), Is.EqualTo(25));
    }

    [Test]
    public void More_clients_than_samples_is_rejected()
    {
        Assert.That(() => Partitioner.Iid(5, 6, 0), Throws.ArgumentException);
    }
}
