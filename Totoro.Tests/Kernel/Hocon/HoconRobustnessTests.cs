using FsCheck;
using FsCheck.Fluent;
using Totoro.Kernel.Hocon;

namespace Totoro.Tests.Kernel.Hocon;

/// <summary>
/// Hostile or broken input must end in a <see cref="HoconException"/> (or a config), never in another exception,
/// a stack overflow or a hang. Documents stay small so the suite stays fast.
/// </summary>
public sealed class HoconRobustnessTests
{
    private static readonly TimeSpan HangLimit = TimeSpan.FromSeconds(10);

    private static readonly string[] Fragments =
    [
        "a", "b.c", "\"q.r\"", "include", " ", "\t", "\n", "=", ":", "+=", "{", "}", "[", "]", ",", "${a}", "${?b}", "${b.c}",
        "${?ENV}", "1", "-2.5e3", "10s", "4MiB", "true", "null", "off", "# c\n", "// c\n", "\"\"\"", "\"", "\\", "$", "?",
        "required(", "file(", ")", "\"x.conf\"", "\"\\u00e9\"", "\"\\q\"", ".", "..",
    ];

    private static readonly string[] Corpus =
    [
        "a = 1\nb = ${a}\nc = [${a}, 2] [3]\nd { e = \"x\"${b}, f += 4 }\nd.f += 5",
        "path = /bin\npath = ${path}\":/usr/bin\"\nlist = [1]\nlist = ${list} [2]\nobj { x = 1 }\nobj = ${obj} { y = ${?ENV} }",
        "totoro {\n  remote { host = \"127.0.0.1\", port = 4101 }\n  cluster.seed-nodes = [${totoro.remote.host}\":\"${totoro.remote.port}]\n  ask-timeout = 5s\n  frame = 4MiB\n}",
        "{ \"a.b\" : { c : [ {d : true}, {e : null} ] }, t = \"\"\"raw \"text\" \"\"\", include \"x.conf\" }",
        "x = ${?y} ${?z} tail\ny = head\nm = { a = ${x} } { b = ${y} }\nn = [] ${?missing} [1, 2,]",
    ];

    [Test]
    public void Random_token_soup_only_ever_fails_with_a_HoconException()
    {
        var documents = Gen.Elements(Fragments).ArrayOf().Select(parts => string.Concat(parts));

        Prop.ForAll(documents.ToArbitrary(), text => ReadsOrFailsCleanly(text))
            .Check(Config.QuickThrowOnFailure.WithMaxTest(400).WithEndSize(60));
    }

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    [TestCase(4)]
    [TestCase(5)]
    [TestCase(6)]
    public void Seeded_mutations_of_valid_documents_only_ever_fail_with_a_HoconException(int seed)
    {
        var random = new Random(seed);
        for (var round = 0; round < 150; round++)
        {
            var text = Corpus[random.Next(Corpus.Length)];
            var mutations = random.Next(1, 4);
            for (var m = 0; m < mutations; m++)
            {
                text = Mutate(text, random);
            }

            Assert.That(ReadsOrFailsCleanly(text), Is.True, $"seed {seed}, round {round}, document:\n{text}");
        }
    }

    [TestCase("a = ${a}")]
    [TestCase("a = ${b}, b = ${a}")]
    [TestCase("a { b = ${a} }")]
    [TestCase("a = ${a.b}, a.b = ${a}")]
    [TestCase("a += ${a}")]
    [TestCase("a = [${a}]")]
    [TestCase("a = { b = ${a} } { c = ${a.b} }")]
    [TestCase("a = 1, a = ${b}, b = ${a}")]
    public void Self_referential_knots_end_in_an_answer_or_a_HoconException(string text)
    {
        Assert.That(ReadsOrFailsCleanly(text), Is.True);
    }

    [Test]
    public void The_corpus_itself_reads_without_errors()
    {
        foreach (var text in Corpus)
        {
            Assert.DoesNotThrow(() => HoconConfig.Parse(text, "corpus", Options()), text);
        }
    }

    private static HoconReadOptions Options() => new()
    {
        Environment = name => name == "ENV" ? "from-env" : null,
        IncludeDirectory = TestContext.CurrentContext.WorkDirectory,
        MaxValueSize = 10_000,
    };

    private static string Mutate(string text, Random random)
    {
        var at = random.Next(text.Length + 1);
        switch (random.Next(4))
        {
            case 0 when text.Length > 0:
                return text.Remove(Math.Min(at, text.Length - 1), 1);
            case 1:
                return text.Insert(at, Fragments[random.Next(Fragments.Length)]);
            case 2 when text.Length > 0:
                var from = random.Next(text.Length);
                var length = random.Next(1, Math.Min(20, text.Length - from) + 1);
                return text.Insert(at, text.Substring(from, length));
            default:
                var cut = random.Next(text.Length + 1);
                return text[..Math.Min(at, cut)] + text[Math.Max(at, cut)..];
        }
    }

    /// <summary>True when reading finished in time and threw nothing but <see cref="HoconException"/>.</summary>
    private static bool ReadsOrFailsCleanly(string text)
    {
        var work = Task.Run(() => Exercise(text));
        try
        {
            if (work.Wait(HangLimit))
            {
                return true;
            }
        }
        catch (AggregateException e)
        {
            TestContext.Out.WriteLine($"foreign exception: {e.InnerException}");
            return false;
        }

        TestContext.Out.WriteLine($"reading did not finish within {HangLimit}");
        return false;
    }

    private static void Exercise(string text)
    {
        HoconConfig config;
        try
        {
            config = HoconConfig.Parse(text, "fuzz", Options());
        }
        catch (HoconException)
        {
            return;
        }

        Visit(config.Root, []);

        void Visit(HoconObject node, List<string> path)
        {
            foreach (var key in node.Keys)
            {
                path.Add(key);
                var rendered = string.Join('.', path.Select(p => $"\"{p.Replace("\"", string.Empty, StringComparison.Ordinal)}\""));
                if (path.All(p => !p.Contains('"', StringComparison.Ordinal)))
                {
                    CallEveryGetter(config, rendered);
                }

                if (node.Fields[key] is HoconObject child)
                {
                    Visit(child, path);
                }

                path.RemoveAt(path.Count - 1);
            }
        }
    }

    private static void CallEveryGetter(HoconConfig config, string path)
    {
        Action[] getters =
        [
            () => config.GetString(path), () => config.GetInt(path), () => config.GetLong(path), () => config.GetDouble(path),
            () => config.GetBoolean(path), () => config.GetDuration(path), () => config.GetDurationOrInfinite(path),
            () => config.GetBytes(path), () => config.GetStringList(path), () => config.GetIntList(path), () => config.GetConfig(path),
            () => config.HasPath(path),
        ];
        foreach (var get in getters)
        {
            try
            {
                get();
            }
            catch (HoconException)
            {
                // A mismatching type is the expected outcome for most getters on fuzzed values.
            }
        }
    }
}
