namespace Totoro.Ml.Tensors;

/// <summary>Shape of one sample, channels × height × width, stored row-major (CHW); a vector is C×1×1.</summary>
public readonly record struct TensorShape(int Channels, int Height, int Width)
{
    public int Size => Channels * Height * Width;

    public static TensorShape Vector(int length) => new(length, 1, 1);

    public override string ToString() => $"{Channels}x{Height}x{Width}";
}
