namespace Totoro.Tests.TestKit;

/// <summary>Files of the checkout the tests run from (hocon/, examples/, scripts/).</summary>
internal static class Repository
{
    /// <summary>The directory holding TotoroActors.sln, found by walking up from the test assembly.</summary>
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "TotoroActors.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("TotoroActors.sln not found above " + AppContext.BaseDirectory);
    }
}
