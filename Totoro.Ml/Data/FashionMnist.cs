using Totoro.Ml.Tensors;

namespace Totoro.Ml.Data;

/// <summary>The FashionMNIST files are missing or inconsistent.</summary>
public sealed class DatasetUnavailableException(string message) : Exception(message);

/// <summary>
/// FashionMNIST from the IDX files of the Debian package <c>dataset-fashion-mnist</c>
/// (60,000 training and 10,000 test images, 28×28 grey levels, 10 classes).
/// </summary>
public static class FashionMnist
{
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";
    public const string DebianPackage = "dataset-fashion-mnist";

    /// <summary>Per-pixel statistics of the training set (after scaling to [0, 1]).</summary>
    public static readonly Normalization Normalization = new(0.2860f, 0.3530f);

    private static readonly TensorShape Shape = new(1, 28, 28);

    public static (SampleStore Train, SampleStore Test) Load(string directory = DefaultDirectory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var train = LoadSplit(directory, "train");
        var test = LoadSplit(directory, "t10k");
        return (train, test);
    }

    private static SampleStore LoadSplit(string directory, string prefix)
    {
        var imagePath = Path.Combine(directory, prefix + "-images-idx3-ubyte.gz");
        var labelPath = Path.Combine(directory, prefix + "-labels-idx1-ubyte.gz");
        foreach (var path in new[] { imagePath, labelPath })
        {
            if (!File.Exists(path))
            {
                throw new DatasetUnavailableException(
                    $"FashionMNIST file {path} not found. Install the Debian package {DebianPackage} " +
                    $"(apt-get install -y {DebianPackage}) or pass the directory holding the IDX files.");
            }
        }

        (int Count, int Rows, int Columns, byte[] Pixels) images;
        byte[] labels;
        using (var stream = File.OpenRead(imagePath))
        {
            images = IdxReader.ReadImages(stream, imagePath);
        }

        using (var stream = File.OpenRead(labelPath))
        {
            labels = IdxReader.ReadLabels(stream, labelPath);
        }

        if (images.Rows != Shape.Height || images.Columns != Shape.Width)
        {
            throw new IdxFormatException($"{imagePath}: images are {images.Rows}x{images.Columns}, expected {Shape.Height}x{Shape.Width}");
        }

        if (labels.Length != images.Count)
        {
            throw new IdxFormatException($"{labelPath}: {labels.Length} labels for {images.Count} images in {imagePath}");
        }

        var labelInts = new int[labels.Length];
        for (var i = 0; i < labels.Length; i++)
        {
            if (labels[i] > 9)
            {
                throw new IdxFormatException($"{labelPath}: label {labels[i]} at position {i} is not a class in 0..9");
            }

            labelInts[i] = labels[i];
        }

        return new SampleStore(Normalization.Apply(images.Pixels), labelInts, Shape, 10);
    }
}
