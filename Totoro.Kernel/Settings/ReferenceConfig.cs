using System.Reflection;
using Totoro.Kernel.Hocon;

namespace Totoro.Kernel.Settings;

/// <summary>
/// Loads the commented defaults an assembly embeds as <c>reference.conf</c>
/// (<c>&lt;EmbeddedResource Include="reference.conf" LogicalName="reference.conf" /&gt;</c>).
/// Deployment files are read over it: <c>HoconConfig.ParseFile(path, new() { Fallback = reference })</c>.
/// </summary>
public static class ReferenceConfig
{
    public const string ResourceName = "reference.conf";

    public static HoconConfig Load(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        var name = assembly.GetName().Name;
        using var stream = assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"assembly {name} embeds no {ResourceName}; add <EmbeddedResource Include=\"reference.conf\" LogicalName=\"reference.conf\" />");
        using var reader = new StreamReader(stream);
        return HoconConfig.Parse(reader.ReadToEnd(), $"{name}/{ResourceName}");
    }
}
