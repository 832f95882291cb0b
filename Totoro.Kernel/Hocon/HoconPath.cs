using System.Collections.Immutable;
using System.Text;

namespace Totoro.Kernel.Hocon;

/// <summary>Parses and renders key paths such as <c>totoro.remote."host.name"</c>.</summary>
internal static class HoconPath
{
    private const string SpecialCharacters = "$\"{}[]:=,+#`^?!@*&\\. \t";

    /// <summary>Splits a path expression: unquoted runs split on '.', quoted segments stay whole.</summary>
    public static ImmutableArray<string> Parse(string expression)
    {
        ArgumentNullException.ThrowIfNull(expression);
        var segments = ImmutableArray.CreateBuilder<string>();
        var current = new StringBuilder();
        var segmentStarted = false;
        var i = 0;
        while (i < expression.Length)
        {
            var c = expression[i];
            if (c == '"')
            {
                var end = expression.IndexOf('"', i + 1);
                if (end < 0)
                {
                    throw new HoconException($"path '{expression}': unterminated quoted segment", null, null);
                }

                current.Append(expression, i + 1, end - i - 1);
                segmentStarted = true;
                i = end + 1;
            }
            else if (c == '.')
            {
                EndSegment();
                i++;
            }
            else
            {
                current.Append(c);
                segmentStarted = true;
                i++;
            }
        }

        EndSegment();
        return segments.ToImmutable();

        void EndSegment()
        {
            if (!segmentStarted)
            {
                throw new HoconException($"path '{expression}' has an empty segment; quote it (\"\") if the key is empty", null, null);
            }

            segments.Add(current.ToString());
            current.Clear();
            segmentStarted = false;
        }
    }

    public static string Render(IEnumerable<string> segments) => string.Join('.', segments.Select(RenderSegment));

    private static string RenderSegment(string segment) =>
        segment.Length == 0 || segment.Any(c => SpecialCharacters.Contains(c, StringComparison.Ordinal) || char.IsWhiteSpace(c))
            ? $"\"{segment.Replace("\"", "\\\"", StringComparison.Ordinal)}\""
            : segment;
}
