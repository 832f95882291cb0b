using System.Collections.Immutable;

namespace Totoro.Kernel.Hocon;

/// <summary>
/// Recursive-descent parser from tokens to <see cref="RawObject"/>. Includes are read here and spliced into the
/// including object, so later fields of the including file override the included ones, as the spec requires.
/// </summary>
internal sealed class HoconParser
{
    private readonly IReadOnlyList<HoconToken> _tokens;
    private readonly HoconReadOptions _options;
    private readonly string? _directory;
    private readonly ImmutableList<string> _includeChain;
    private readonly ImmutableArray<string> _includePrefix;
    private readonly int _baseDepth;
    private int _index;

    private HoconParser(
        IReadOnlyList<HoconToken> tokens,
        HoconReadOptions options,
        string? directory,
        ImmutableList<string> includeChain,
        ImmutableArray<string> includePrefix,
        int baseDepth)
    {
        _tokens = tokens;
        _options = options;
        _directory = directory;
        _includeChain = includeChain;
        _includePrefix = includePrefix;
        _baseDepth = baseDepth;
    }

    /// <summary>Parses a whole document; <paramref name="filePath"/> is set when it came from a file (for includes and cycles).</summary>
    public static RawObject ParseDocument(string text, string source, string? filePath, HoconReadOptions options)
    {
        var chain = filePath is null ? ImmutableList<string>.Empty : [Path.GetFullPath(filePath)];
        var directory = filePath is null ? options.IncludeDirectory : Path.GetDirectoryName(Path.GetFullPath(filePath));
        return Parse(text, source, options, directory, chain, [], 0);
    }

    private static RawObject Parse(
        string text,
        string source,
        HoconReadOptions options,
        string? directory,
        ImmutableList<string> chain,
        ImmutableArray<string> prefix,
        int baseDepth)
    {
        var parser = new HoconParser(HoconLexer.Tokenize(text, source), options, directory, chain, prefix, baseDepth);
        return parser.Root();
    }

    private HoconToken Current => _tokens[_index];

    private static HoconException Error(HoconPosition position, string detail) => new(detail, position, null);

    private static string Describe(HoconToken token) => token.Kind switch
    {
        HoconTokenKind.End => "end of input",
        HoconTokenKind.Newline => "end of line",
        HoconTokenKind.Quoted => $"\"{token.Text}\"",
        HoconTokenKind.Substitution => $"${{{token.Text}}}",
        _ => $"'{token.Text}'",
    };

    private HoconToken Next() => _tokens[_index++];

    private void SkipWhitespace()
    {
        while (Current.Kind == HoconTokenKind.Whitespace)
        {
            _index++;
        }
    }

    private void SkipBlank()
    {
        while (Current.Kind is HoconTokenKind.Whitespace or HoconTokenKind.Newline)
        {
            _index++;
        }
    }

    private RawObject Root()
    {
        SkipBlank();
        RawObject root;
        if (Current.Kind == HoconTokenKind.OpenBrace)
        {
            root = BracedObject(_includePrefix, _baseDepth);
            SkipBlank();
            if (Current.Kind != HoconTokenKind.End)
            {
                throw Error(Current.Position, $"unexpected {Describe(Current)} after the closing '}}' of the root object");
            }
        }
        else if (Current.Kind == HoconTokenKind.OpenBracket)
        {
            throw Error(Current.Position, "the root of a document must be an object, not a list");
        }
        else
        {
            root = ObjectBody(HoconTokenKind.End, Current.Position, _includePrefix, _baseDepth);
        }

        return root;
    }

    private void CheckDepth(int depth, HoconPosition position)
    {
        if (depth > _options.MaxNestingDepth)
        {
            throw Error(position, $"nesting deeper than {_options.MaxNestingDepth} levels (HoconReadOptions.MaxNestingDepth)");
        }
    }

    private RawObject BracedObject(ImmutableArray<string> path, int depth)
    {
        var open = Next();
        var body = ObjectBody(HoconTokenKind.CloseBrace, open.Position, path, depth + 1);
        Next();
        return body;
    }

    private RawObject ObjectBody(HoconTokenKind close, HoconPosition start, ImmutableArray<string> path, int depth)
    {
        CheckDepth(depth, start);
        var fields = ImmutableArray.CreateBuilder<RawField>();
        while (true)
        {
            SkipBlank();
            if (Current.Kind == close)
            {
                return new RawObject(start, fields.ToImmutable());
            }

            if (Current.Kind == HoconTokenKind.End)
            {
                throw Error(Current.Position, "unexpected end of input; expected '}'");
            }

            if (IsInclude())
            {
                fields.AddRange(Include(path, depth));
            }
            else
            {
                fields.Add(Field(path, depth));
            }

            SkipWhitespace();
            switch (Current.Kind)
            {
                case HoconTokenKind.Comma:
                    _index++;
                    break;
                case HoconTokenKind.Newline:
                    break;
                case HoconTokenKind.End when close != HoconTokenKind.End:
                    throw Error(Current.Position, "unexpected end of input; expected '}'");
                default:
                    if (Current.Kind != close)
                    {
                        var last = fields.Count > 0 ? HoconPath.Render(fields[^1].Key) : "include";
                        throw Error(Current.Position, $"expected ',' or a new line after the value of '{last}', found {Describe(Current)}");
                    }

                    break;
            }
        }
    }

    private bool IsInclude()
    {
        if (Current.Kind != HoconTokenKind.Unquoted || Current.Text != "include")
        {
            return false;
        }

        var after = _index + 1;
        while (_tokens[after].Kind == HoconTokenKind.Whitespace)
        {
            after++;
        }

        return after > _index + 1 && _tokens[after].Kind is HoconTokenKind.Quoted or HoconTokenKind.Unquoted;
    }

    private RawField Field(ImmutableArray<string> path, int depth)
    {
        var keyStart = Current.Position;
        var keyIndex = _index;
        var key = Key(allowWhitespace: true);
        var fullPath = path.AddRange(key);
        CheckDepth(depth + key.Length, keyStart);
        SkipWhitespace();
        var separator = Current;
        bool append;
        switch (separator.Kind)
        {
            case HoconTokenKind.Colon or HoconTokenKind.Equals:
                _index++;
                append = false;
                break;
            case HoconTokenKind.PlusEquals:
                _index++;
                append = true;
                break;
            case HoconTokenKind.OpenBrace:
                return new RawField(keyStart, key, false, BracedObject(fullPath, depth + key.Length - 1));
            default:
                // "port 2552" is, by the spec, the key "port 2552" with no value; a forgotten '=' is far likelier,
                // so name the key before the space and show what followed it.
                _index = keyIndex;
                var firstWord = path.AddRange(Key(allowWhitespace: false));
                SkipWhitespace();
                throw Error(keyStart, $"expected '=' or ':' after key '{HoconPath.Render(firstWord)}', found {Describe(Current)}");
        }

        SkipWhitespace();
        if (!Current.IsValueStart)
        {
            throw Error(Current.Position, $"expected a value after '{separator.Text}' for key '{HoconPath.Render(fullPath)}', found {Describe(Current)}");
        }

        return new RawField(keyStart, key, append, Value(fullPath, depth + key.Length - 1));
    }

    private ImmutableArray<string> Key(bool allowWhitespace)
    {
        var segments = ImmutableArray.CreateBuilder<string>();
        var current = new System.Text.StringBuilder();
        var started = false;
        var start = Current.Position;
        var pendingWhitespace = string.Empty;
        while (true)
        {
            var token = Current;
            if (token.Kind == HoconTokenKind.Whitespace && allowWhitespace)
            {
                pendingWhitespace += token.Text;
                _index++;
                continue;
            }

            if (token.Kind is not (HoconTokenKind.Unquoted or HoconTokenKind.Quoted))
            {
                break;
            }

            if (pendingWhitespace.Length > 0)
            {
                // Whitespace between two key parts belongs to the key ("a b" is one key); before the separator it does not.
                current.Append(pendingWhitespace);
                pendingWhitespace = string.Empty;
            }

            _index++;
            if (token.Kind == HoconTokenKind.Quoted)
            {
                current.Append(token.Text);
                started = true;
                continue;
            }

            foreach (var c in token.Text)
            {
                if (c == '.')
                {
                    EndSegment(token.Position);
                }
                else
                {
                    current.Append(c);
                    started = true;
                }
            }
        }

        // Give the trailing whitespace back so the separator check sees the same token stream.
        while (pendingWhitespace.Length > 0 && _tokens[_index - 1].Kind == HoconTokenKind.Whitespace)
        {
            pendingWhitespace = pendingWhitespace[..^_tokens[_index - 1].Text.Length];
            _index--;
        }

        if (segments.Count == 0 && !started)
        {
            throw Error(start, $"expected a key, found {Describe(Current)}");
        }

        EndSegment(start);
        return segments.ToImmutable();

        void EndSegment(HoconPosition at)
        {
            if (!started)
            {
                throw Error(at, "a key path has an empty segment (write \"\" for an empty key)");
            }

            segments.Add(current.ToString());
            current.Clear();
            started = false;
        }
    }

    private RawValue Value(ImmutableArray<string> path, int depth)
    {
        var start = Current.Position;
        var parts = ImmutableArray.CreateBuilder<RawValue>();
        while (true)
        {
            var token = Current;
            switch (token.Kind)
            {
                case HoconTokenKind.Unquoted or HoconTokenKind.Quoted or HoconTokenKind.Whitespace:
                    _index++;
                    parts.Add(new RawText(token.Position, token.Text, token.Kind == HoconTokenKind.Quoted, token.Kind == HoconTokenKind.Whitespace));
                    break;
                case HoconTokenKind.Substitution:
                    _index++;
                    parts.Add(new RawSubstitution(token.Position, token.SubstitutionPath, token.OptionalSubstitution, _includePrefix));
                    break;
                case HoconTokenKind.OpenBrace:
                    parts.Add(BracedObject(path, depth));
                    break;
                case HoconTokenKind.OpenBracket:
                    parts.Add(Array(path, depth));
                    break;
                default:
                    while (parts.Count > 0 && parts[^1] is RawText { IsWhitespace: true })
                    {
                        parts.RemoveAt(parts.Count - 1);
                    }

                    return parts.Count == 1 ? parts[0] : new RawConcat(start, parts.ToImmutable());
            }
        }
    }

    private RawArray Array(ImmutableArray<string> path, int depth)
    {
        var open = Next();
        CheckDepth(depth + 1, open.Position);
        var items = ImmutableArray.CreateBuilder<RawValue>();
        while (true)
        {
            SkipBlank();
            if (Current.Kind == HoconTokenKind.CloseBracket)
            {
                _index++;
                return new RawArray(open.Position, items.ToImmutable());
            }

            if (!Current.IsValueStart)
            {
                throw Error(Current.Position, $"expected a list element or ']' in the list at {open.Position}, found {Describe(Current)}");
            }

            items.Add(Value(path, depth + 1));
            SkipWhitespace();
            if (Current.Kind == HoconTokenKind.Comma)
            {
                _index++;
            }
            else if (Current.Kind is not (HoconTokenKind.Newline or HoconTokenKind.CloseBracket))
            {
                throw Error(Current.Position, $"expected ',' or ']' in the list at {open.Position}, found {Describe(Current)}");
            }
        }
    }

    private IEnumerable<RawField> Include(ImmutableArray<string> path, int depth)
    {
        var at = Next().Position;
        SkipWhitespace();
        var (name, required) = IncludeTarget(at);
        if (_directory is null)
        {
            throw Error(at, $"include \"{name}\": this document has no directory to include from");
        }

        var candidates = Path.HasExtension(name)
            ? [Path.GetFullPath(Path.Combine(_directory, name))]
            : new[] { name, name + ".conf", name + ".json" }.Select(n => Path.GetFullPath(Path.Combine(_directory, n))).ToArray();
        var file = candidates.FirstOrDefault(File.Exists);
        if (file is null)
        {
            return required ? throw Error(at, $"required include \"{name}\" not found (looked for {string.Join(", ", candidates)})") : [];
        }

        if (_includeChain.Contains(file))
        {
            throw Error(at, $"include cycle: {string.Join(" -> ", _includeChain.Add(file))}");
        }

        if (_includeChain.Count > _options.MaxIncludeDepth)
        {
            throw Error(at, $"includes nested deeper than {_options.MaxIncludeDepth} levels (HoconReadOptions.MaxIncludeDepth)");
        }

        string text;
        try
        {
            text = File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new HoconException($"{at}: cannot read include \"{name}\": {e.Message}", e);
        }

        var source = Path.GetRelativePath(Environment.CurrentDirectory, file);
        return Parse(text, source, _options, Path.GetDirectoryName(file), _includeChain.Add(file), path, depth).Fields;
    }

    private (string Name, bool Required) IncludeTarget(HoconPosition at)
    {
        // The lexer allows '(' and ')' in unquoted text, so "required(file(" may arrive as one token or several.
        var opener = Gather();
        var closers = opener switch
        {
            "" => 0,
            "file(" or "required(" => 1,
            "required(file(" => 2,
            _ => throw Error(at, $"include supports \"file\", file(\"file\") and required(\"file\"), found '{opener}' (classpath() and url() are not supported)"),
        };
        if (Current.Kind != HoconTokenKind.Quoted)
        {
            throw Error(at, $"expected a quoted file name after include {opener}");
        }

        var name = Next().Text;
        var expected = new string(')', closers);
        return Gather() == expected
            ? (name, opener.StartsWith("required(", StringComparison.Ordinal))
            : throw Error(at, $"expected '{expected}' to close the include of \"{name}\"");
    }

    private string Gather()
    {
        var text = new System.Text.StringBuilder();
        while (Current.Kind is HoconTokenKind.Unquoted or HoconTokenKind.Whitespace)
        {
            var token = Next();
            if (token.Kind == HoconTokenKind.Unquoted)
            {
                text.Append(token.Text);
            }
        }

        return text.ToString();
    }
}
