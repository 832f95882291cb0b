namespace Totoro.Kernel.Settings;

/// <summary>One or more invalid settings; the message lists every problem found, each naming its key path.</summary>
public sealed class SettingsException : Exception
{
    public SettingsException()
        : this([])
    {
    }

    public SettingsException(string message)
        : base(message) => Errors = [message];

    public SettingsException(string message, Exception innerException)
        : base(message, innerException) => Errors = [message];

    public SettingsException(IReadOnlyList<string> errors)
        : base(Format(errors)) => Errors = errors;

    /// <summary>Each problem on its own, as "key.path: what is wrong (file:line:col)".</summary>
    public IReadOnlyList<string> Errors { get; }

    private static string Format(IReadOnlyList<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        return errors.Count switch
        {
            0 => "invalid settings",
            1 => $"invalid setting: {errors[0]}",
            _ => $"{errors.Count} invalid settings:{Environment.NewLine}  {string.Join(Environment.NewLine + "  ", errors)}",
        };
    }
}
