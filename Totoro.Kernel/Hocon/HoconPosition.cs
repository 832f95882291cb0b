namespace Totoro.Kernel.Hocon;

/// <summary>Where a token or value came from: source name (file path or a label), 1-based line and column.</summary>
public readonly record struct HoconPosition(string Source, int Line, int Column)
{
    public override string ToString() => $"{Source}:{Line}:{Column}";
}
