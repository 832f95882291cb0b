using System.Text.Json;
using System.Text.Json.Serialization;

namespace Totoro.Node.Ops;

/// <summary>An ops shell request (<c>ops.request.v1</c>); an empty <see cref="Palette"/> asks for the palette descriptions.</summary>
internal sealed record OpsRequest(string Token, string Palette, string Command, IReadOnlyList<string> Args)
{
    public override string ToString() => $"OpsRequest {Palette} {Command} ({Args.Count} args)";
}

/// <summary>The node's answer (<c>ops.reply.v1</c>): an error, or a JSON document.</summary>
internal sealed record OpsReply(string Error, string Json);

/// <summary>What <c>totoro cmd</c> learns on connect: every palette and command with its arguments.</summary>
internal sealed record PaletteDescription(string Name, string Description, IReadOnlyList<CommandDescription> Commands);

internal sealed record CommandDescription(string Name, string Description, IReadOnlyList<ArgumentDescription> Arguments)
{
    public string Usage => string.Join(' ', Arguments.Select(a => a.Required ? a.Name.ToUpperInvariant() : $"[{a.Name.ToUpperInvariant()}]").Prepend(Name));

    public string? Check(IReadOnlyList<string> arguments)
    {
        var required = Arguments.Count(a => a.Required);
        if (arguments.Count < required)
        {
            return $"missing argument {Arguments[arguments.Count].Name.ToUpperInvariant()}; usage: {Usage}";
        }
        return arguments.Count > Arguments.Count ? $"too many arguments; usage: {Usage}" : null;
    }
}

internal sealed record ArgumentDescription(string Name, string Description, bool Required, bool LocalFile = false);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = false)]
[JsonSerializable(typeof(OpsTable))]
[JsonSerializable(typeof(List<PaletteDescription>))]
internal sealed partial class OpsJson : JsonSerializerContext
{
    public static string Describe(IEnumerable<CommandPalette> palettes) => JsonSerializer.Serialize(
        palettes.Select(p => new PaletteDescription(p.Name, p.Description,
            [.. p.Commands.Select(c => new CommandDescription(c.Name, c.Description, [.. c.Arguments.Select(a => new ArgumentDescription(a.Name, a.Description, a.Required, a.LocalFile))]))])).ToList(),
        Default.ListPaletteDescription);

    public static List<PaletteDescription> ReadDescriptions(string json) =>
        JsonSerializer.Deserialize(json, Default.ListPaletteDescription) ?? throw new JsonException("empty palette description");

    public static string Write(OpsTable table) => JsonSerializer.Serialize(table, Default.OpsTable);

    public static OpsTable ReadTable(string json) =>
        JsonSerializer.Deserialize(json, Default.OpsTable) ?? throw new JsonException("empty table");
}
