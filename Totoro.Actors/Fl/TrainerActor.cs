using System.Globalization;
using Totoro.Kernel;
using Totoro.Ml.Aggregation;
using Totoro.Ml.Models;
using Totoro.Ml.Training;

namespace Totoro.Actors.Fl;

/// <summary>
/// Runs the CPU-heavy work of one role — a worker's local training, an aggregator's fold, the coordinator's
/// aggregation and evaluation — on the training dispatcher, so the node's other actors keep their heartbeats while
/// it computes. Keeps one model instance per role (created when it first computes: a cached result needs none) and
/// hands its activation workspace back to the shared pool after every job, so the many idle roles of a node (or of
/// a 500-node simulation: one per worker per app) hold parameters only, not scratch memory.
/// </summary>
internal sealed class TrainerActor : ReceiveActor
{
    private Model? _model;
    private (string Name, int Seed, Totoro.Ml.Tensors.TensorShape Shape, int Classes)? _modelKey;

    private readonly Totoro.Actors.Sim.ITrainingResultCache? _cache;

    public TrainerActor()
        : this(null)
    {
    }

    /// <summary>A trainer that looks results up in <paramref name="cache"/> first (experiments; null: always compute).</summary>
    public TrainerActor(Totoro.Actors.Sim.ITrainingResultCache? cache)
    {
        _cache = cache;
        // A failed training is a declined update; a failed fold sends no partial for the subtree (the parent closes the
        // round with what the others sent); a failed aggregation is a failed aggregation; a failed evaluation fails the app.
        Receive<TrainJob>(job => Answer(job.Spec.Name, job.Round, "local training", () => Train(job), _ => new TrainDone(job.Round, null, 0)));
        Receive<EvaluateJob>(job => Answer(job.Spec.Name, job.Round, "evaluation", () => Evaluate(job), error => new EvaluateFailed(job.Round, error)));
        Receive<FoldJob>(job => Answer("?", job.Collected.Round, "fold", () => Fold(job), _ => new FoldDone(job.Collected.Round, null, 0)));
        Receive<AggregateJob>(job => Answer("?", job.Round, "aggregation", () => Aggregate(job), error => new AggregateDone(job.Round, Failure(error), 0)));
    }

    public static ulong ArchitectureKey(Model model) => ulong.Parse(model.ArchitectureId, NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    protected override void PostStop() => _model?.ReleaseWorkspace();

    /// <summary>
    /// Runs a job and answers its sender. A job that throws would otherwise restart this actor and lose the reply, and
    /// its role would wait for ever (or until a deadline): it is answered with <paramref name="failed"/> instead, and logged.
    /// </summary>
    private void Answer(string app, long round, string job, Func<object> work, Func<string, object> failed)
    {
        object reply;
        try
        {
            reply = work();
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            FlLog.JobFailed(Log, app, round, job, error.Message);
            reply = failed(error.Message);
        }

        Sender!.Tell(reply, Self);
    }

    private static AggregationResult Failure(string error) =>
        new(ReadOnlyMemory<float>.Empty, 0, 0, System.Collections.Immutable.ImmutableSortedDictionary<string, double>.Empty, [], error);

    private TrainDone Train(TrainJob job)
    {
        (ClientUpdate? Update, double Flops) Train()
        {
            var model = ModelFor(job.Spec, job.Data.Shape, job.Data.Classes);
            try
            {
                return LocalRound.Train(model, job.Spec, job.Round, job.Worker, job.Model, job.Data);
            }
            finally
            {
                model.ReleaseWorkspace();
            }
        }

        var (update, flops) = _cache is null ? Train() : _cache.Train(job.Spec, job.Round, job.Worker, job.Model, job.Data, Train);
        return new TrainDone(job.Round, update, flops);
    }

    private EvaluateDone Evaluate(EvaluateJob job)
    {
        var (accuracy, loss, flops) = _cache is null ? Measure(job) : _cache.Evaluate(job.Spec, job.Model, job.Test, () => Measure(job));
        return new EvaluateDone(job.Round, accuracy, loss, flops);
    }

    private (double Accuracy, double Loss, double Flops) Measure(EvaluateJob job)
    {
        var model = ModelFor(job.Spec, job.Test.Shape, job.Test.Classes);
        model.Parameters.Set(job.Model.Parameters.Span);
        var eval = Evaluator.Evaluate(model, job.Test);
        model.ReleaseWorkspace();
        // Evaluation is a forward pass: a third of FlopsPerSample (forward + backward ≈ 3 × forward).
        return (eval.Accuracy, eval.Loss, model.FlopsPerSample / 3.0 * job.Test.Count);
    }

    private FoldDone Fold(FoldJob job)
    {
        var collected = job.Collected;
        // Folding costs about two operations per coordinate per input (a multiply-add into float64 sums, or a
        // multiply-round into int64 and an integer add).
        var flops = 2.0 * (collected.Parts.Count + collected.Updates.Count) * job.Shape.ElementCount;
        return new FoldDone(collected.Round, collected.Fold(job.Rule, job.Shape, job.Limits), flops);
    }

    private AggregateDone Aggregate(AggregateJob job)
    {
        var result = job.Folded is { } folded && job.Rule is IFoldableRule foldable ? foldable.Finish(folded, job.Round)
            : !job.Relayed.IsEmpty ? job.Rule.Aggregate(job.Shape, job.Relayed, job.Round)
            : null;
        // Finishing a fold is one pass; a robust rule works over all n updates (a selection per coordinate).
        var flops = job.Rule.IsFoldable ? 2.0 * job.Shape.ElementCount : 8.0 * job.Relayed.Length * job.Shape.ElementCount;
        return new AggregateDone(job.Round, result, flops);
    }

    private Model ModelFor(AppSpec spec, Totoro.Ml.Tensors.TensorShape shape, int classes)
    {
        if (_model is null || _modelKey != (spec.Model, spec.Seed, shape, classes))
        {
            _model?.ReleaseWorkspace();
            _model = ModelFactory.Create(spec.Model, spec.Seed, shape, classes);
            _modelKey = (spec.Model, spec.Seed, shape, classes);
        }

        return _model;
    }
}
