using System.Globalization;
using System.Text;

namespace Totoro.Node.Cli;

/// <summary>One line of a chart: (x, y) points in order.</summary>
internal sealed record ChartSeries(string Name, IReadOnlyList<(double X, double Y)> Points);

/// <summary>A small dependency-free SVG line chart (log or linear x axis, linear y axis from 0), for sim reports.</summary>
internal static class SvgLineChart
{
    private const int Width = 640;
    private const int Height = 400;
    private const int Left = 60;
    private const int Right = 20;
    private const int Top = 40;
    private const int Bottom = 50;
    private static readonly string[] Colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd"];

    public static string Render(string title, string xLabel, string yLabel, IReadOnlyList<ChartSeries> series, bool logX)
    {
        ArgumentNullException.ThrowIfNull(series);
        var points = series.SelectMany(s => s.Points).ToArray();
        if (points.Length == 0)
        {
            throw new ArgumentException("A chart needs at least one point", nameof(series));
        }

        double X(double x) => logX ? Math.Log10(x) : x;
        var xMin = points.Min(p => X(p.X));
        var xMax = points.Max(p => X(p.X));
        if (xMax <= xMin)
        {
            xMax = xMin + 1;
        }

        var yMax = NiceCeiling(points.Max(p => p.Y));
        double Px(double x) => Left + ((X(x) - xMin) / (xMax - xMin) * (Width - Left - Right));
        double Py(double y) => Height - Bottom - (y / yMax * (Height - Top - Bottom));
        var svg = new StringBuilder();
        svg.Append(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" font-family=\"sans-serif\" font-size=\"12\">\n"));
        svg.Append(Invariant($"<rect width=\"{Width}\" height=\"{Height}\" fill=\"white\"/>\n"));
        svg.Append(Invariant($"<text x=\"{Width / 2}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{Escape(title)}</text>\n"));
        svg.Append(Invariant($"<line x1=\"{Left}\" y1=\"{Height - Bottom}\" x2=\"{Width - Right}\" y2=\"{Height - Bottom}\" stroke=\"black\"/>\n"));
        svg.Append(Invariant($"<line x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{Height - Bottom}\" stroke=\"black\"/>\n"));
        for (var tick = 0; tick <= 5; tick++)
        {
            var y = yMax * tick / 5;
            svg.Append(Invariant($"<line x1=\"{Left - 4}\" y1=\"{Py(y):F1}\" x2=\"{Width - Right}\" y2=\"{Py(y):F1}\" stroke=\"#ddd\"/>"));
            svg.Append(Invariant($"<text x=\"{Left - 8}\" y=\"{Py(y) + 4:F1}\" text-anchor=\"end\">{y:0.##}</text>\n"));
        }

        // Few points: label each x. Many points on a linear axis (curves): six evenly spaced ticks instead.
        var xs = points.Select(p => p.X).Distinct().Order().ToArray();
        var ticks = logX || xs.Length <= 12 ? xs : [.. Enumerable.Range(0, 6).Select(i => xMin + ((xMax - xMin) * i / 5))];
        foreach (var x in ticks)
        {
            svg.Append(Invariant($"<text x=\"{Px(x):F1}\" y=\"{Height - Bottom + 18}\" text-anchor=\"middle\">{FormatX(x)}</text>\n"));
        }

        svg.Append(Invariant($"<text x=\"{(Left + Width - Right) / 2}\" y=\"{Height - 10}\" text-anchor=\"middle\">{Escape(xLabel)}</text>\n"));
        svg.Append(Invariant($"<text x=\"16\" y=\"{(Top + Height - Bottom) / 2}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {(Top + Height - Bottom) / 2})\">{Escape(yLabel)}</text>\n"));
        for (var index = 0; index < series.Count; index++)
        {
            var color = Colors[index % Colors.Length];
            var line = string.Join(' ', series[index].Points.Select(p => Invariant($"{Px(p.X):F1},{Py(p.Y):F1}")));
            svg.Append(Invariant($"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{line}\"/>\n"));
            foreach (var (x, y) in series[index].Points)
            {
                svg.Append(Invariant($"<circle cx=\"{Px(x):F1}\" cy=\"{Py(y):F1}\" r=\"3\" fill=\"{color}\"/>\n"));
            }

            svg.Append(Invariant($"<text x=\"{Left + 10}\" y=\"{Top + 14 + (index * 16)}\" fill=\"{color}\">{Escape(series[index].Name)}</text>\n"));
        }

        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static double NiceCeiling(double value)
    {
        if (!(value > 0))
        {
            return 1;
        }

        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(value)));
        return new[] { 1, 2, 2.5, 5, 10 }.Select(step => step * magnitude).First(candidate => candidate >= value);
    }

    private static string FormatX(double x) =>
        x >= 1000 && Math.Abs(Math.Log10(x) - Math.Round(Math.Log10(x))) < 1e-9
            ? Invariant($"10^{Math.Round(Math.Log10(x)):0}")
            : x.ToString("0.##", CultureInfo.InvariantCulture);

    private static string Escape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
