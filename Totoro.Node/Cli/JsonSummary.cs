using System.Text.Json;
using System.Text.Json.Serialization;

namespace Totoro.Node.Cli;

/// <summary>Every bench/sim command prints exactly one JSON object on stdout when given --json.</summary>
internal static class JsonSummary
{
    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = false,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static void Write<T>(TextWriter output, T summary) =>
        output.WriteLine(JsonSerializer.Serialize(summary, Options));

    /// <summary>
    /// The end of every sim command: with --json the summary as one JSON line on stdout, else its human table on
    /// <paramref name="log"/>. Returns the exit code 0.
    /// </summary>
    public static int Emit<T>(T summary, bool asJson, Action<T, TextWriter> print, TextWriter log)
    {
        if (asJson)
        {
            Write(Console.Out, summary);
        }
        else
        {
            print(summary, log);
        }

        return 0;
    }
}
