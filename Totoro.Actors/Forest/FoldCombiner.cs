using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;

namespace Totoro.Actors.Forest;

/// <summary>
/// The operation a tree folds with: associative and commutative, with an identity, so any tree shape and any
/// arrival order give the flat combination at the root. Interior nodes need not know the application: fold
/// messages name their combiner by <see cref="Kind"/> and every node resolves it in its <see cref="FoldCombiners"/>.
/// </summary>
internal interface IFoldCombiner
{
    string Kind { get; }

    object Identity { get; }

    /// <summary>False when the two parts must not be combined (wrong type, a contributor counted twice).</summary>
    bool TryCombine(object left, object right, [NotNullWhen(true)] out object? combined);
}

/// <summary>The typed way to write a combiner: the FL layer derives from this for its partial aggregate.</summary>
internal abstract class FoldCombiner<T> : IFoldCombiner
    where T : notnull
{
    public abstract string Kind { get; }

    public abstract T TypedIdentity { get; }

    object IFoldCombiner.Identity => TypedIdentity;

    public abstract bool TryCombine(T left, T right, [NotNullWhen(true)] out T? combined);

    bool IFoldCombiner.TryCombine(object left, object right, [NotNullWhen(true)] out object? combined)
    {
        if (left is T typedLeft && right is T typedRight && TryCombine(typedLeft, typedRight, out var result))
        {
            combined = result;
            return true;
        }

        combined = null;
        return false;
    }
}

/// <summary>
/// A combiner from a delegate pair: an identity and a total, associative, commutative operation.
/// </summary>
internal sealed class DelegateFoldCombiner<T>(string kind, T identity, Func<T, T, T> combine) : FoldCombiner<T>
    where T : notnull
{
    public override string Kind { get; } = kind;

    public override T TypedIdentity { get; } = identity;

    public override bool TryCombine(T left, T right, [NotNullWhen(true)] out T? combined)
    {
        combined = combine(left, right);
        return true;
    }
}

/// <summary>
/// The relay for rules that do not fold (median, trimmed mean, Krum): the "combination" is the multiset union of
/// the items, kept sorted by <paramref name="order"/> so it does not depend on arrival order. The list grows
/// toward the root, and travels with the same keying and deadlines as a real fold.
/// </summary>
internal sealed class RelayCombiner<TItem>(string kind, IComparer<TItem> order) : FoldCombiner<ImmutableArray<TItem>>
{
    public override string Kind { get; } = kind;

    public override ImmutableArray<TItem> TypedIdentity => [];

    public override bool TryCombine(ImmutableArray<TItem> left, ImmutableArray<TItem> right, [NotNullWhen(true)] out ImmutableArray<TItem> combined)
    {
        var builder = ImmutableArray.CreateBuilder<TItem>(left.Length + right.Length);
        builder.AddRange(left);
        builder.AddRange(right);
        builder.Sort(order);
        combined = builder.MoveToImmutable();
        return true;
    }
}

/// <summary>The combiners a node can fold with, by kind. Immutable; built once when the node starts.</summary>
internal sealed class FoldCombiners
{
    private readonly ImmutableDictionary<string, IFoldCombiner> byKind;

    public FoldCombiners(IEnumerable<IFoldCombiner> combiners)
    {
        ArgumentNullException.ThrowIfNull(combiners);
        byKind = combiners.ToImmutableDictionary(c => c.Kind, StringComparer.Ordinal);
    }

    public IFoldCombiner? Find(string kind) => byKind.GetValueOrDefault(kind);
}
