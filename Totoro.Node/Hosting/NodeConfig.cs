using System.Globalization;
using System.Text;
using Microsoft.Extensions.Configuration;
using Totoro.Kernel.Hocon;
using Totoro.Kernel.Settings;
using Totoro.Transport.Tcp;

namespace Totoro.Node.Hosting;

/// <summary>Where a node's HOCON comes from: the embedded reference.conf files, a deployment file, the environment.</summary>
public static class NodeConfig
{
    /// <summary>The defaults of the node, the TCP transport and the kernel (each assembly's embedded reference.conf).</summary>
    public static HoconConfig Reference() =>
        ReferenceConfig.Load(typeof(NodeConfig).Assembly)
            .WithFallback(ReferenceConfig.Load(typeof(TcpTransportSettings).Assembly))
            .WithFallback(ReferenceConfig.Load(typeof(KernelSettings).Assembly));

    /// <summary>Reads a deployment file over the reference; <c>${?VAR}</c> reads <paramref name="environment"/> (the process's by default).</summary>
    public static HoconConfig Load(string path, Func<string, string?>? environment = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            throw new SettingsException($"config file '{path}' does not exist");
        }
        var options = new HoconReadOptions { Fallback = Reference() };
        if (environment is not null)
        {
            options = options with { Environment = environment };
        }
        return HoconConfig.ParseFile(path, options);
    }

    /// <summary>
    /// Turns an <see cref="IConfiguration"/> (appsettings.json, environment, command line) into HOCON over the
    /// reference: the section <c>totoro</c> maps key for key (<c>Totoro:Node:Name</c> → <c>totoro.node.name</c>,
    /// keys lower-cased), and children named 0, 1, 2… become a list.
    /// </summary>
    public static HoconConfig FromConfiguration(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var text = new StringBuilder();
        var section = configuration.GetSection("totoro");
        if (section.Exists())
        {
            text.Append("totoro ");
            Write(section, text);
        }
        return HoconConfig.Parse(text.ToString(), "IConfiguration", new HoconReadOptions { Fallback = Reference() });
    }

    private static void Write(IConfigurationSection section, StringBuilder text)
    {
        text.Append("{\n");
        foreach (var child in section.GetChildren())
        {
            text.Append(Quote(child.Key.ToLowerInvariant()));
            var items = child.GetChildren().ToArray();
            if (items.Length == 0)
            {
                text.Append(" = ").Append(Quote(child.Value ?? "")).Append('\n');
            }
            else if (items.All(c => int.TryParse(c.Key, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
            {
                var values = items.OrderBy(c => int.Parse(c.Key, CultureInfo.InvariantCulture)).Select(c => Quote(c.Value ?? ""));
                text.Append(" = [").Append(string.Join(", ", values)).Append("]\n");
            }
            else
            {
                text.Append(' ');
                Write(child, text);
            }
        }
        text.Append("}\n");
    }

    private static string Quote(string value)
    {
        var escaped = new StringBuilder("\"");
        foreach (var c in value)
        {
            escaped.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when char.IsControl(c) => string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"),
                _ => c.ToString(),
            });
        }
        return escaped.Append('"').ToString();
    }
}
