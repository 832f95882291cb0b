using Totoro.Actors.Fl;
using Totoro.Kernel.Settings;
using Totoro.Node.Modules;
using Totoro.Tests.TestKit;

namespace Totoro.Tests.Node;

public sealed class FlSpecFileTests
{
    [Test]
    public void A_complete_file_sets_every_field_of_the_spec()
    {
        var spec = AppSpecFile.Parse(
            """
            app {
              name = "fmnist-lenet"
              model = "lenet5"
              dataset = "fashion-mnist"
              partitioning = "dirichlet:0.5"
              rounds = 40
              clients-per-round = 20
              over-selection = 1.5
              local-epochs = 2
              local-steps = 30
              batch-size = 64
              learning-rate = 0.02
              optimizer = adam
              momentum = 0.5
              proximal-mu = 0.01
              strategy { rule = trimmed-mean, parameter = 0.1, server-optimizer = fedadam, server-learning-rate = 0.05, server-momentum = 0.9 }
              target-accuracy = 0.85
              round-deadline = 2m
              seed = 42
              seed-name = "fmnist-lenet-v1"
            }
            """,
            "full.conf");

        Assert.That(spec, Is.EqualTo(TotoroApp.Define("fmnist-lenet").Model("lenet5").Data("fashion-mnist").Partition(Partitioning.Dirichlet(0.5))
            .Rounds(40).ClientsPerRound(20).OverSelection(1.5).LocalEpochs(2).LocalSteps(30).BatchSize(64).LearningRate(0.02)
            .Optimizer(LocalOptimizer.Adam, 0.5).FedProx(0.01)
            .Strategy(Strategy.TrimmedMean(0.1).WithServerOptimizer(ServerOptimizerKind.FedAdam, 0.05, 0.9))
            .Target(0.85).RoundDeadline(TimeSpan.FromMinutes(2)).Seed(42).SeedName("fmnist-lenet-v1").Build()));
    }

    [Test]
    public void Omitted_keys_take_the_builders_defaults()
    {
        var spec = AppSpecFile.Parse("app { name = small, dataset = blobs, partitioning = \"shards:2\" }", "small.conf");
        Assert.That(spec, Is.EqualTo(new AppSpec { Name = "small", Dataset = "blobs", Partitioning = Partitioning.LabelShards(2) }));
    }

    [TestCase("app {\n  name = \"x\"\n  rounds = many\n  dataset = blobs\n}", "bad.conf:3:12: app.rounds: expected an integer, found string \"many\"")]
    [TestCase("app {\n  name = x\n  dataset = blobs\n  partitioning = \"zipf:2\"\n}", "bad.conf:4:18: app.partitioning: 'zipf:2' is not iid, dirichlet:ALPHA, shards:N or quantity-skew:BETA")]
    [TestCase("app {\n  name = x\n  dataset = blobs\n  strategy { rule = fedavg, colour = red }\n}", "bad.conf:4:38: app.strategy.colour: unknown key")]
    [TestCase("app {\n  name = x\n  dataset = blobs\n  optimizer = rmsprop\n}", "bad.conf:4:15: app.optimizer: 'rmsprop' is not one of sgd, adam")]
    [TestCase("app {\n  name = x\n  dataset = blobs\n  learning-rate = -1\n}", "bad.conf:4:19: app.learning-rate: must be positive and finite")]
    [TestCase("app {\n  name = \"Not A Name\"\n  dataset = blobs\n}", "bad.conf:2:10: app.name:")]
    [TestCase("app {\n  name = x\n  dataset = blobs\n  seed-name = \"Not A Name\"\n}", "bad.conf:4:15: app.seed-name: an app name when set")]
    [TestCase("app {\n  name = x\n  dataset = blobs\n  model = resnet\n}", "bad.conf:4:11: app.model: unknown model 'resnet'; known: logreg, mlp")]
    [TestCase("app {\n  name = x\n}", "bad.conf: app.dataset: required (not set in the file")]
    [TestCase("application { name = x }", "bad.conf: expected an 'app { ... }' block")]
    [TestCase("app {\n  name = x\n  rounds = [\n}", "bad.conf:")]
    public void A_bad_file_names_the_key_and_where_it_is(string text, string expected)
    {
        var failure = Assert.Throws<AppSpecException>(() => AppSpecFile.Parse(text, "bad.conf"))!;
        Assert.That(failure.Errors, Has.Some.StartsWith(expected), string.Join("\n", failure.Errors));
    }

    [Test]
    public void Every_problem_of_a_file_is_reported_at_once()
    {
        var failure = Assert.Throws<AppSpecException>(() => AppSpecFile.Parse("app {\n  name = x\n  rounds = 0\n  batch-size = zero\n  extra = 1\n}", "many.conf"))!;
        Assert.That(failure.Errors, Has.Length.EqualTo(4), string.Join("\n", failure.Errors));
        Assert.That(failure.Errors, Has.Some.StartsWith("many.conf:3:").And.Some.Contains("app.rounds: must be ≥ 1"));
        Assert.That(failure.Errors, Has.Some.StartsWith("many.conf:4:").And.Some.Contains("app.batch-size"));
        Assert.That(failure.Errors, Has.Some.StartsWith("many.conf:5:").And.Some.Contains("app.extra: unknown key"));
        Assert.That(failure.Errors, Has.Some.Contains("app.dataset: required"));
    }

    [Test]
    public void A_file_larger_than_the_limit_is_refused_before_it_is_read()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "app { name = x, dataset = blobs }" + new string(' ', 200));
            var failure = Assert.Throws<AppSpecException>(() => AppSpecFile.Load(path, 100))!;
            Assert.That(failure.Errors.Single(), Does.Contain("totoro.fl.spec-file-max-size"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void The_example_app_specs_parse_and_use_data_sets_the_nodes_serve()
    {
        var files = Directory.GetFiles(Path.Combine(Repository.Root, "examples", "apps"), "*.conf");
        Assert.That(files, Is.Not.Empty);
        foreach (var file in files)
        {
            var spec = AppSpecFile.Load(file, 64 * 1024);
            Assert.That(spec.Dataset, Is.AnyOf(FlModuleSettings.FashionMnistName, FlModuleSettings.BlobsName), file);
            Assert.That(spec.TargetAccuracy, Is.Not.Null, file);
        }
    }

    [Test]
    public void Invalid_fl_settings_name_their_key_paths()
    {
        var config = NodeTestKit.Config("bad-fl", "totoro.fl { tree-fan-out = 0, level-budget-factor = 2, training-threads = 0, data.blobs.classes = 1, model-chunk-size = 16, evaluation = sometimes, ended-app-history = -1, tree-role-idle-timeout = 0s }");
        var failure = Assert.Throws<SettingsException>(() => FlModuleSettings.FromConfig(config))!;
        Assert.That(failure.Errors, Has.Some.StartsWith("totoro.fl.tree-fan-out"));
        Assert.That(failure.Errors, Has.Some.StartsWith("totoro.fl.level-budget-factor"));
        Assert.That(failure.Errors, Has.Some.StartsWith("totoro.fl.training-threads"));
        Assert.That(failure.Errors, Has.Some.StartsWith("totoro.fl.data.blobs.classes"));
        Assert.That(failure.Errors, Has.Some.StartsWith("totoro.fl.model-chunk-size"));
        Assert.That(failure.Errors, Has.Some.EqualTo("totoro.fl.evaluation: 'sometimes' is not an evaluation mode: expected overlapped or inline"));
        Assert.That(failure.Errors, Has.Some.StartsWith("totoro.fl.ended-app-history"));
        Assert.That(failure.Errors, Has.Some.StartsWith("totoro.fl.tree-role-idle-timeout"));
    }

    [Test]
    public void Reference_conf_gives_the_default_role_lifetimes()
    {
        var roles = FlModuleSettings.FromConfig(NodeTestKit.Config("fl-lifetimes")).Roles;
        Assert.That(roles.EndedAppHistory, Is.EqualTo(FlSettings.Default.EndedAppHistory));
        Assert.That(roles.TreeRoleIdleTimeout, Is.EqualTo(FlSettings.Default.TreeRoleIdleTimeout));
    }

    [Test]
    public void The_fold_is_exact_fixed_point_by_default_float_on_request_and_bad_values_are_named()
    {
        Assert.That(FlModuleSettings.FromConfig(NodeTestKit.Config("fl-fold-default")).Roles.Fold, Is.EqualTo(new Totoro.Ml.Aggregation.FixedPointFormat(32)));
        Assert.That(FlModuleSettings.FromConfig(NodeTestKit.Config("fl-fold-40", "totoro.fl.aggregation.fraction-bits = 40")).Roles.Fold!.FractionBits, Is.EqualTo(40));
        Assert.That(FlModuleSettings.FromConfig(NodeTestKit.Config("fl-fold-float", "totoro.fl.aggregation.fold = float")).Roles.Fold, Is.Null);

        var failure = Assert.Throws<SettingsException>(() => FlModuleSettings.FromConfig(
            NodeTestKit.Config("fl-fold-bad", "totoro.fl.aggregation { fold = fuzzy, fraction-bits = 60 }")))!;
        Assert.That(failure.Errors, Has.Some.EqualTo("totoro.fl.aggregation.fold: 'fuzzy' is not a fold: expected fixed-point or float"));
        Assert.That(failure.Errors, Has.Some.StartsWith("totoro.fl.aggregation.fraction-bits"));
    }

    [Test]
    public void Evaluation_is_inline_by_default_and_overlapped_on_request()
    {
        Assert.That(FlModuleSettings.FromConfig(NodeTestKit.Config("fl-eval-default")).Roles.Evaluation, Is.EqualTo(EvaluationMode.Inline));
        Assert.That(FlModuleSettings.FromConfig(NodeTestKit.Config("fl-eval-on", "totoro.fl.evaluation = overlapped")).Roles.Evaluation, Is.EqualTo(EvaluationMode.Overlapped));
    }

    [Test]
    public void Default_fl_settings_serve_fashion_mnist_and_blobs_from_the_reference_config()
    {
        var settings = FlModuleSettings.FromConfig(NodeTestKit.Config("fl-defaults"));
        Assert.That(settings.FashionMnistDirectory, Is.EqualTo("/usr/share/datasets/fashion-mnist"));
        Assert.That(settings.Blobs, Is.EqualTo(new BlobsSettings(3000, 600, 16, 4, 2.5, 11)));
        Assert.That(settings.TreeFanOut, Is.EqualTo(8));
        Assert.That(settings.Roles, Is.EqualTo(FlSettings.Default));
    }
}
