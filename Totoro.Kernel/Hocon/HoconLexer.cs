using System.Collections.Immutable;
using System.Globalization;
using System.Text;

namespace Totoro.Kernel.Hocon;

/// <summary>Turns HOCON text into tokens, keeping whitespace because it matters inside string concatenations.</summary>
internal sealed class HoconLexer
{
    // Characters the spec forbids in unquoted text; '(' and ')' are allowed so include(required("x")) lexes as text.
    private const string Forbidden = "$\"{}[]:=,+#`^?!@*&\\";

    private readonly string _text;
    private readonly string _source;
    private readonly List<HoconToken> _tokens = [];
    private int _index;
    private int _line = 1;
    private int _column = 1;

    private HoconLexer(string text, string source)
    {
        _text = text;
        _source = source;
    }

    public static IReadOnlyList<HoconToken> Tokenize(string text, string source)
    {
        var lexer = new HoconLexer(text, source);
        lexer.Run();
        return lexer._tokens;
    }

    private HoconPosition Here => new(_source, _line, _column);

    private char Peek(int ahead = 0) => _index + ahead < _text.Length ? _text[_index + ahead] : '\0';

    private bool AtEnd => _index >= _text.Length;

    private void Run()
    {
        while (!AtEnd)
        {
            var start = Here;
            var c = Peek();
            switch (c)
            {
                case '\n':
                    Advance();
                    Add(HoconTokenKind.Newline, "\n", start);
                    break;
                case '#':
                    SkipComment();
                    break;
                case '/' when Peek(1) == '/':
                    SkipComment();
                    break;
                case ',':
                    Single(HoconTokenKind.Comma, start);
                    break;
                case ':':
                    Single(HoconTokenKind.Colon, start);
                    break;
                case '=':
                    Single(HoconTokenKind.Equals, start);
                    break;
                case '{':
                    Single(HoconTokenKind.OpenBrace, start);
                    break;
                case '}':
                    Single(HoconTokenKind.CloseBrace, start);
                    break;
                case '[':
                    Single(HoconTokenKind.OpenBracket, start);
                    break;
                case ']':
                    Single(HoconTokenKind.CloseBracket, start);
                    break;
                case '+' when Peek(1) == '=':
                    Advance();
                    Advance();
                    Add(HoconTokenKind.PlusEquals, "+=", start);
                    break;
                case '"' when Peek(1) == '"' && Peek(2) == '"':
                    ReadTripleQuoted(start);
                    break;
                case '"':
                    Add(HoconTokenKind.Quoted, ReadQuoted(), start);
                    break;
                case '$' when Peek(1) == '{':
                    ReadSubstitution(start);
                    break;
                default:
                    if (IsWhitespace(c))
                    {
                        ReadWhitespace(start);
                    }
                    else if (Forbidden.Contains(c, StringComparison.Ordinal))
                    {
                        throw Error(start, $"unexpected character '{c}'{Hint(c)}");
                    }
                    else
                    {
                        ReadUnquoted(start);
                    }

                    break;
            }
        }

        _tokens.Add(new HoconToken(HoconTokenKind.End, string.Empty, Here));
    }

    private static string Hint(char c) => c switch
    {
        '$' => " (a substitution is written ${path})",
        '+' => " (did you mean '+='?)",
        _ => " (quote the value if the character is meant literally)",
    };

    private static bool IsWhitespace(char c) => c != '\n' && (char.IsWhiteSpace(c) || c == '\uFEFF');

    private void Add(HoconTokenKind kind, string text, HoconPosition start) => _tokens.Add(new HoconToken(kind, text, start));

    private void Single(HoconTokenKind kind, HoconPosition start)
    {
        var c = Advance();
        Add(kind, c.ToString(), start);
    }

    private char Advance()
    {
        var c = _text[_index++];
        if (c == '\n')
        {
            _line++;
            _column = 1;
        }
        else
        {
            _column++;
        }

        return c;
    }

    private HoconException Error(HoconPosition position, string detail) => new(detail, position, null);

    private void SkipComment()
    {
        while (!AtEnd && Peek() != '\n')
        {
            Advance();
        }
    }

    private void ReadWhitespace(HoconPosition start)
    {
        var from = _index;
        while (!AtEnd && IsWhitespace(Peek()))
        {
            Advance();
        }

        Add(HoconTokenKind.Whitespace, _text[from.._index], start);
    }

    private void ReadUnquoted(HoconPosition start)
    {
        var from = _index;
        while (!AtEnd)
        {
            var c = Peek();
            if (c == '\n' || IsWhitespace(c) || Forbidden.Contains(c, StringComparison.Ordinal) || (c == '/' && Peek(1) == '/'))
            {
                break;
            }

            Advance();
        }

        Add(HoconTokenKind.Unquoted, _text[from.._index], start);
    }

    private string ReadQuoted()
    {
        var start = Here;
        Advance();
        var value = new StringBuilder();
        while (true)
        {
            if (AtEnd || Peek() == '\n')
            {
                throw Error(start, "unterminated quoted string (a quoted string cannot span lines; use \"\"\"...\"\"\")");
            }

            var c = Advance();
            if (c == '"')
            {
                return value.ToString();
            }

            if (c != '\\')
            {
                value.Append(c);
                continue;
            }

            var escapeAt = Here;
            if (AtEnd)
            {
                throw Error(escapeAt, "unterminated escape sequence");
            }

            var escaped = Advance();
            switch (escaped)
            {
                case '"': value.Append('"'); break;
                case '\\': value.Append('\\'); break;
                case '/': value.Append('/'); break;
                case 'b': value.Append('\b'); break;
                case 'f': value.Append('\f'); break;
                case 'n': value.Append('\n'); break;
                case 'r': value.Append('\r'); break;
                case 't': value.Append('\t'); break;
                case 'u':
                    if (_index + 4 > _text.Length
                        || !int.TryParse(_text.AsSpan(_index, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code))
                    {
                        throw Error(escapeAt, "\\u must be followed by four hex digits");
                    }

                    for (var k = 0; k < 4; k++)
                    {
                        Advance();
                    }

                    value.Append((char)code);
                    break;
                default:
                    throw Error(escapeAt, $"invalid escape sequence '\\{escaped}'");
            }
        }
    }

    private void ReadTripleQuoted(HoconPosition start)
    {
        Advance();
        Advance();
        Advance();
        var from = _index;
        while (true)
        {
            if (AtEnd)
            {
                throw Error(start, "unterminated triple-quoted string");
            }

            // Per spec, extra quotes before the closing """ belong to the string: """a"""" is a".
            if (Peek() == '"' && Peek(1) == '"' && Peek(2) == '"' && Peek(3) != '"')
            {
                var value = _text[from.._index];
                Advance();
                Advance();
                Advance();
                Add(HoconTokenKind.Quoted, value, start);
                return;
            }

            Advance();
        }
    }

    private void ReadSubstitution(HoconPosition start)
    {
        Advance();
        Advance();
        var optional = false;
        if (Peek() == '?')
        {
            Advance();
            optional = true;
        }

        var expression = new StringBuilder();
        while (true)
        {
            if (AtEnd || Peek() == '\n')
            {
                throw Error(start, "unterminated substitution; expected '}'");
            }

            var c = Peek();
            if (c == '}')
            {
                Advance();
                break;
            }

            if (c == '"')
            {
                // Keep quotes so HoconPath.Parse knows the segment must not be split on dots.
                expression.Append('"').Append(ReadQuoted().Replace("\"", string.Empty, StringComparison.Ordinal)).Append('"');
            }
            else if (IsWhitespace(c) || (Forbidden.Contains(c, StringComparison.Ordinal) && c != '.'))
            {
                throw Error(Here, $"unexpected character '{c}' in substitution path (quote path segments with special characters)");
            }
            else
            {
                expression.Append(Advance());
            }
        }

        var raw = expression.ToString();
        if (raw.Length == 0)
        {
            throw Error(start, "empty substitution ${}");
        }

        ImmutableArray<string> path;
        try
        {
            path = HoconPath.Parse(raw);
        }
        catch (HoconException e)
        {
            throw Error(start, e.Detail ?? e.Message);
        }

        _tokens.Add(new HoconToken(HoconTokenKind.Substitution, raw, start) { SubstitutionPath = path, OptionalSubstitution = optional });
    }
}
