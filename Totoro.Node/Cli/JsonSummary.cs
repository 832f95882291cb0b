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
}
