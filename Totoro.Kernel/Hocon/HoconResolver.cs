using System.Collections.Immutable;
using System.Text;
using System.Text.RegularExpressions;

namespace Totoro.Kernel.Hocon;

/// <summary>
/// Merges the fields of a parsed document into one tree (duplicate keys, dotted paths, includes, fallback) and
/// then resolves substitutions against that whole tree. A field that overrides an earlier one remembers it, so a
/// self-reference such as <c>path = ${path} [x]</c> sees the earlier value instead of itself.
/// </summary>
internal sealed partial class HoconResolver
{
    private readonly HoconReadOptions _options;
    private readonly ObjectSlot _root;
    private int _depth;
    private PendingSlot? _innermost;

    private HoconResolver(HoconReadOptions options, ObjectSlot root)
    {
        _options = options;
        _root = root;
    }

    private enum State
    {
        Unresolved,
        InProgress,
        Done,
    }

    public static HoconObject Resolve(RawObject document, HoconReadOptions options)
    {
        var root = options.Fallback is { } fallback ? FromResolved(fallback.Root, []) : new ObjectSlot(document.Position, null, []);
        foreach (var field in document.Fields)
        {
            MergeField(root, [], field);
        }

        var resolver = new HoconResolver(options, root);
        return (HoconObject)resolver.Resolve(root)!;
    }

    [GeneratedRegex(@"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex NumberPattern();

    private static ObjectSlot FromResolved(HoconObject value, ImmutableArray<string> path)
    {
        var slot = new ObjectSlot(value.Position, null, path);
        foreach (var key in value.Keys)
        {
            slot.Set<Slot>(key, value.Fields[key] is HoconObject child ? FromResolved(child, path.Add(key)) : new ValueSlot(value.Fields[key]));
        }

        return slot;
    }

    private static void MergeField(ObjectSlot target, ImmutableArray<string> basePath, RawField field)
    {
        var owner = target;
        var path = basePath;
        foreach (var segment in field.Key[..^1])
        {
            owner = owner.Fields.TryGetValue(segment, out var existing) && existing is ObjectSlot child
                ? child
                : owner.Set(segment, new ObjectSlot(field.Position, existing, path.Add(segment)));
            path = path.Add(segment);
        }

        var key = field.Key[^1];
        var fullPath = path.Add(key);
        owner.Fields.TryGetValue(key, out var previous);
        var value = field.Value;
        if (field.Append)
        {
            // The spec defines "a += b" as "a = ${?a} [b]".
            value = new RawConcat(field.Position, [new RawSubstitution(field.Position, fullPath, true, []), new RawArray(field.Position, [value])]);
        }

        if (value is RawObject literal)
        {
            var merged = previous as ObjectSlot ?? new ObjectSlot(literal.Position, previous, fullPath);
            foreach (var inner in literal.Fields)
            {
                MergeField(merged, fullPath, inner);
            }

            owner.Set(key, merged);
        }
        else
        {
            owner.Set(key, new PendingSlot(value, previous, fullPath));
        }
    }

    private static HoconException Error(HoconPosition position, string detail) => new(detail, position, null);

    private HoconValue? Resolve(Slot slot)
    {
        if (slot is ValueSlot fixedValue)
        {
            return fixedValue.Value;
        }

        if (slot.State == State.Done)
        {
            return slot.Result;
        }

        if (slot.State == State.InProgress)
        {
            throw Error(slot.Position, $"substitution cycle: the value of '{NameOf(slot)}' depends on itself");
        }

        if (++_depth > _options.MaxResolveDepth)
        {
            throw Error(slot.Position, $"values and substitutions nested deeper than {_options.MaxResolveDepth} levels (HoconReadOptions.MaxResolveDepth)");
        }

        slot.State = State.InProgress;
        slot.Result = slot switch
        {
            ObjectSlot o => ResolveObject(o),
            PendingSlot p => ResolvePending(p),
            _ => throw new InvalidOperationException($"unknown slot type {slot.GetType().Name}"),
        };
        slot.State = State.Done;
        _depth--;
        // Depth counts the root object, which the parser's nesting count does not; hence the + 1.
        var tooDeep = slot.Result is { } deep && deep.Depth > _options.MaxNestingDepth + 1;
        if (tooDeep || slot.Result is { Size: var size } && size > _options.MaxValueSize)
        {
            throw Error(
                slot.Position,
                tooDeep
                    ? $"substitutions nest the value of '{NameOf(slot)}' deeper than {_options.MaxNestingDepth} levels (HoconReadOptions.MaxNestingDepth)"
                    : $"substitutions expand the value of '{NameOf(slot)}' to more than {_options.MaxValueSize} values (HoconReadOptions.MaxValueSize)");
        }

        return slot.Result;
    }

    private static string NameOf(Slot slot) => HoconPath.Render(slot switch
    {
        PendingSlot pending => pending.Path,
        ObjectSlot obj => obj.Path,
        _ => [],
    });

    private HoconObject ResolveObject(ObjectSlot slot)
    {
        var keys = ImmutableArray.CreateBuilder<string>(slot.Order.Count);
        var fields = ImmutableDictionary.CreateBuilder<string, HoconValue>();
        foreach (var key in slot.Order)
        {
            if (Resolve(slot.Fields[key]) is { } value)
            {
                keys.Add(key);
                fields[key] = value;
            }
        }

        var result = new HoconObject(keys.ToImmutable(), fields.ToImmutable(), slot.Position);
        return slot.Underlay is not null && Resolve(slot.Underlay) is HoconObject under ? result.WithFallback(under) : result;
    }

    private HoconValue? ResolvePending(PendingSlot slot)
    {
        var outer = _innermost;
        _innermost = slot;
        var value = Evaluate(slot.Expression, slot.Path);
        _innermost = outer;
        if (value is null)
        {
            // An undefined optional substitution leaves the earlier definition in place.
            return slot.Previous is null ? null : Resolve(slot.Previous);
        }

        return value is HoconObject overlay && slot.Previous is not null && Resolve(slot.Previous) is HoconObject under
            ? overlay.WithFallback(under)
            : value;
    }

    private HoconValue? Evaluate(RawValue expression, ImmutableArray<string> path) => expression switch
    {
        RawText text => Scalar(text),
        RawSubstitution substitution => Substitute(substitution, path),
        RawArray array => EvaluateArray(array, path),
        RawObject literal => EvaluateObject(literal, path),
        RawConcat concat => Concatenate(concat, path),
        _ => throw new InvalidOperationException($"unknown syntax node {expression.GetType().Name}"),
    };

    private static HoconScalar Scalar(RawText text)
    {
        if (text.Quoted || text.IsWhitespace)
        {
            return new HoconScalar(text.Text, HoconScalarKind.String, text.Position);
        }

        var kind = text.Text switch
        {
            "true" or "false" => HoconScalarKind.Boolean,
            "null" => HoconScalarKind.Null,
            _ when NumberPattern().IsMatch(text.Text) => HoconScalarKind.Number,
            _ => HoconScalarKind.String,
        };
        return new HoconScalar(text.Text, kind, text.Position);
    }

    private HoconArray EvaluateArray(RawArray array, ImmutableArray<string> path)
    {
        var items = ImmutableArray.CreateBuilder<HoconValue>(array.Items.Length);
        foreach (var item in array.Items)
        {
            if (Evaluate(item, path) is { } value)
            {
                items.Add(value);
            }
        }

        return new HoconArray(items.ToImmutable(), array.Position);
    }

    private HoconValue? EvaluateObject(RawObject literal, ImmutableArray<string> path)
    {
        var slot = new ObjectSlot(literal.Position, null, path);
        foreach (var field in literal.Fields)
        {
            MergeField(slot, path, field);
        }

        return Resolve(slot);
    }

    private HoconValue? Substitute(RawSubstitution substitution, ImmutableArray<string> fieldPath)
    {
        if (!substitution.IncludePrefix.IsEmpty && Lookup(substitution.IncludePrefix.AddRange(substitution.Path)) is { } relative)
        {
            return relative;
        }

        if (Lookup(substitution.Path) is { } found)
        {
            return found;
        }

        var name = HoconPath.Render(substitution.Path);
        if (_options.Environment(string.Join('.', substitution.Path)) is { } environment)
        {
            return new HoconScalar(environment, HoconScalarKind.String, substitution.Position);
        }

        return substitution.Optional
            ? null
            : throw Error(
                substitution.Position,
                $"undefined substitution ${{{name}}} in the value of '{HoconPath.Render(fieldPath)}' (not in the config, not an environment variable; use ${{?{name}}} if it is optional)");
    }

    private HoconValue? Lookup(ImmutableArray<string> path)
    {
        Slot? slot = _root;
        HoconValue? value = null;
        foreach (var segment in path)
        {
            if (value is null)
            {
                slot = BeforeSelf(slot!);
                if (slot is null)
                {
                    return null;
                }

                if (slot is ObjectSlot { Underlay: null } plain)
                {
                    if (!plain.Fields.TryGetValue(segment, out slot))
                    {
                        return null;
                    }

                    continue;
                }

                value = Resolve(slot);
            }

            if (value is not HoconObject parent || !parent.Fields.TryGetValue(segment, out value))
            {
                return null;
            }
        }

        if (value is not null)
        {
            return value;
        }

        slot = BeforeSelf(slot!);
        return slot is null ? null : Resolve(slot);
    }

    /// <summary>
    /// A lookup that reaches a field while that same field is being resolved is a self-reference: it means the
    /// value the field had before this definition (walking back while earlier definitions are also in progress).
    /// An object being merged over an earlier definition that is itself being resolved steps down to that
    /// definition the same way. With no earlier definition, a field naming itself is undefined, and a longer
    /// loop is a cycle.
    /// </summary>
    private Slot? BeforeSelf(Slot slot)
    {
        Slot? current = slot;
        while (true)
        {
            switch (current)
            {
                case PendingSlot { State: State.InProgress } pending:
                    if (pending.Previous is null && pending != _innermost)
                    {
                        throw Error(pending.Position, $"substitution cycle: the value of '{HoconPath.Render(pending.Path)}' depends on itself");
                    }

                    current = pending.Previous;
                    break;
                case ObjectSlot { State: State.InProgress, Underlay.State: State.InProgress } merging:
                    current = merging.Underlay;
                    break;
                default:
                    return current;
            }
        }
    }

    private HoconValue? Concatenate(RawConcat concat, ImmutableArray<string> path)
    {
        var values = new List<HoconValue>(concat.Parts.Length);
        var whitespace = new List<bool>(concat.Parts.Length);
        foreach (var part in concat.Parts)
        {
            if (Evaluate(part, path) is { } value)
            {
                values.Add(value);
                whitespace.Add(part is RawText { IsWhitespace: true });
            }
        }

        // Undefined optional substitutions vanish; whitespace then left at either end separates nothing.
        while (whitespace.Count > 0 && whitespace[^1])
        {
            values.RemoveAt(values.Count - 1);
            whitespace.RemoveAt(whitespace.Count - 1);
        }

        while (whitespace.Count > 0 && whitespace[0])
        {
            values.RemoveAt(0);
            whitespace.RemoveAt(0);
        }

        var solid = values.Where((_, i) => !whitespace[i]).ToList();
        if (solid.Count == 0)
        {
            return null;
        }

        if (solid.All(v => v is HoconObject))
        {
            return solid.Cast<HoconObject>().Aggregate((under, over) => over.WithFallback(under));
        }

        if (solid.All(v => v is HoconArray))
        {
            var items = solid.Cast<HoconArray>().SelectMany(a => a.Items).ToImmutableArray();
            return new HoconArray(items, concat.Position);
        }

        if (solid.FirstOrDefault(v => v is not HoconScalar) is { } misfit)
        {
            var other = solid.First(v => v.GetType() != misfit.GetType());
            throw Error(concat.Position, $"cannot concatenate {misfit.KindName} and {other.KindName} in the value of '{HoconPath.Render(path)}'");
        }

        if (values.Count == 1)
        {
            return values[0];
        }

        var builder = new StringBuilder();
        foreach (var value in values.Cast<HoconScalar>())
        {
            builder.Append(value.Text);
            if (builder.Length > _options.MaxValueSize)
            {
                throw Error(concat.Position, $"string concatenation for '{HoconPath.Render(path)}' exceeds {_options.MaxValueSize} characters (HoconReadOptions.MaxValueSize)");
            }
        }

        return new HoconScalar(builder.ToString(), HoconScalarKind.String, concat.Position);
    }

    private abstract class Slot(HoconPosition position)
    {
        public HoconPosition Position { get; } = position;

        public State State { get; set; }

        public HoconValue? Result { get; set; }
    }

    /// <summary>An object under construction; <see cref="Underlay"/> is a non-object definition it may merge over.</summary>
    private sealed class ObjectSlot(HoconPosition position, Slot? underlay, ImmutableArray<string> path) : Slot(position)
    {
        public ImmutableArray<string> Path { get; } = path;

        public Dictionary<string, Slot> Fields { get; } = new(StringComparer.Ordinal);

        public List<string> Order { get; } = [];

        public Slot? Underlay { get; } = underlay;

        public T Set<T>(string key, T value)
            where T : Slot
        {
            if (!Fields.ContainsKey(key))
            {
                Order.Add(key);
            }

            Fields[key] = value;
            return value;
        }
    }

    private sealed class ValueSlot(HoconValue value) : Slot(value.Position)
    {
        public HoconValue Value { get; } = value;
    }

    /// <summary>A non-object field value awaiting evaluation; <see cref="Previous"/> is what it overrides.</summary>
    private sealed class PendingSlot(RawValue expression, Slot? previous, ImmutableArray<string> path) : Slot(expression.Position)
    {
        public RawValue Expression { get; } = expression;

        public Slot? Previous { get; } = previous;

        public ImmutableArray<string> Path { get; } = path;
    }
}
