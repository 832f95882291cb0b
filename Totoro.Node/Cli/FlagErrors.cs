namespace Totoro.Node.Cli;

/// <summary>How a `totoro sim …` command reports a bad flag: one line naming the setting (and the value given), exit code 2.</summary>
internal static class FlagErrors
{
    public static int Report(string command, Exception error)
    {
        var actual = error is ArgumentOutOfRangeException { ActualValue: { } value } ? $" (got {value})" : "";
        Console.Error.WriteLine($"totoro {command}: {error.Message.Split(Environment.NewLine)[0]}{actual}");
        return 2;
    }
}
