namespace Disagg.TestSupport;

/// <summary>Where the built programs and guest images are, found from the repository root.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> LazyRoot = new(FindRoot);

    public static string Root => LazyRoot.Value;

    /// <summary>
    /// out/bin: the programs `make build` leaves there; DISAGG_BIN names another directory (a benchmark of the
    /// NativeAOT programs `make publish OUT=out/aot` made).
    /// </summary>
    public static string Bin => Environment.GetEnvironmentVariable("DISAGG_BIN") is { Length: > 0 } bin ? Path.GetFullPath(bin, Root) : Path.Combine(Root, "out", "bin");

    /// <summary>guests/build: the ELF images `make guests` leaves there.</summary>
    public static string Guests => Path.Combine(Root, "guests", "build");

    public static string Program(string name)
    {
        var path = Path.Combine(Bin, name);
        if (File.Exists(path))
        {
            return path;
        }

        throw new FileNotFoundException($"{name} is not in {Bin}; run `make build` first", path);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Disagg.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("Disagg.sln not found above " + AppContext.BaseDirectory);
    }
}
