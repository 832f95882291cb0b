namespace Totoro.Node.Cli;

/// <summary>
/// How a `totoro sim …` command reports a bad flag: one line naming the setting (and the value given), exit code 2.
/// A config file with several invalid keys gets one line per key.
/// </summary>
internal static class FlagErrors
{
    public static int Report(string command, Exception error)
    {
        if (error is Totoro.Kernel.Settings.SettingsException settings)
        {
            foreach (var problem in settings.Errors)
            {
                Console.Error.WriteLine($"totoro {command}: {problem}");
            }

            return 2;
        }

        var actual = error is ArgumentOutOfRangeException { ActualValue: { } value } ? $" (got {value})" : "";
        var message = error.Message.Split(Environment.NewLine)[0];
        if (error is ArgumentException { ParamName: { } parameter })
        {
            // The runtime appends the C# parameter name, which means nothing to someone typing flags.
            message = message.Replace($" (Parameter '{parameter}')", "", StringComparison.Ordinal);
        }

        Console.Error.WriteLine($"totoro {command}: {message}{actual}");
        return 2;
    }
}
