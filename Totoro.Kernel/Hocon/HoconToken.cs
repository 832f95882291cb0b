using System.Collections.Immutable;

namespace Totoro.Kernel.Hocon;

internal enum HoconTokenKind
{
    End,
    Newline,
    Whitespace,
    Comma,
    Colon,
    Equals,
    PlusEquals,
    OpenBrace,
    CloseBrace,
    OpenBracket,
    CloseBracket,
    Unquoted,
    Quoted,
    Substitution,
}

/// <summary>
/// One lexeme. <see cref="Text"/> is the decoded string for quoted and unquoted text and the raw run for
/// whitespace; substitutions carry their parsed path and whether they are optional (<c>${?x}</c>).
/// </summary>
internal sealed record HoconToken(HoconTokenKind Kind, string Text, HoconPosition Position)
{
    public ImmutableArray<string> SubstitutionPath { get; init; } = [];

    public bool OptionalSubstitution { get; init; }

    public bool IsValueStart => Kind is HoconTokenKind.Unquoted or HoconTokenKind.Quoted or HoconTokenKind.Substitution
        or HoconTokenKind.OpenBrace or HoconTokenKind.OpenBracket;
}
