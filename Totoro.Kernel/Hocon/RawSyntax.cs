using System.Collections.Immutable;

namespace Totoro.Kernel.Hocon;

/// <summary>The parsed, not yet resolved document: what was written, before merging and substitution.</summary>
internal abstract record RawValue(HoconPosition Position);

/// <summary>Quoted or unquoted text, or the whitespace between two parts of a concatenation.</summary>
internal sealed record RawText(HoconPosition Position, string Text, bool Quoted, bool IsWhitespace) : RawValue(Position);

/// <summary>
/// <c>${path}</c> or <c>${?path}</c>. <see cref="IncludePrefix"/> is the object path an included file was
/// included under: the spec resolves its substitutions relative to that prefix first, then from the root.
/// </summary>
internal sealed record RawSubstitution(HoconPosition Position, ImmutableArray<string> Path, bool Optional, ImmutableArray<string> IncludePrefix)
    : RawValue(Position);

internal sealed record RawArray(HoconPosition Position, ImmutableArray<RawValue> Items) : RawValue(Position);

/// <summary>An object literal; included files are already spliced into <see cref="Fields"/> where the include stood.</summary>
internal sealed record RawObject(HoconPosition Position, ImmutableArray<RawField> Fields) : RawValue(Position);

/// <summary>Adjacent values with no separator: string, array or object concatenation, decided after resolution.</summary>
internal sealed record RawConcat(HoconPosition Position, ImmutableArray<RawValue> Parts) : RawValue(Position);

/// <summary>One <c>key = value</c> or <c>key += value</c>; <see cref="Key"/> is the dotted path split into segments.</summary>
internal sealed record RawField(HoconPosition Position, ImmutableArray<string> Key, bool Append, RawValue Value);
