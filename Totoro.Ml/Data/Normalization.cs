namespace Totoro.Ml.Data;

/// <summary>Maps a grey level g ∈ [0, 255] to (g/255 − mean)/std.</summary>
public sealed record Normalization(float Mean, float Std)
{
    public float[] Apply(ReadOnlySpan<byte> pixels)
    {
        var result = new float[pixels.Length];
        var scale = 1f / (255f * Std);
        var shift = Mean / Std;
        for (var i = 0; i < pixels.Length; i++)
        {
            result[i] = pixels[i] * scale - shift;
        }

        return result;
    }
}
