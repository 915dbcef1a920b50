namespace ExportsPS.Engine.Exports;

/// <summary>The data folder: catalog, embedded indexes, artifacts. <c>$EXPORTSPS_HOME</c> wins so tests,
/// examples and runbooks each get an isolated one; otherwise a per-user folder.</summary>
public sealed class ExportsHome
{
    public const string EnvironmentVariable = "EXPORTSPS_HOME";

    public ExportsHome(string root)
    {
        if (string.IsNullOrWhiteSpace(root))
            throw new ExportException(ExportErrorCode.InvalidPath,
                "The data folder path is empty. Set $env:EXPORTSPS_HOME to a writable folder.", root);
        Root = Path.GetFullPath(root);
    }

    public string Root { get; }
    public string IndexesFolder => Path.Combine(Root, "indexes");
    public string ExportsFolder => Path.Combine(Root, "exports");
    public string CatalogPath => Path.Combine(Root, "catalog.db");

    public static ExportsHome Resolve()
    {
        var fromEnv = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnv)) return new ExportsHome(fromEnv);
        return new ExportsHome(DefaultRoot());
    }

    static string DefaultRoot()
    {
        // XDG on Linux, Library/Application Support on macOS, %LOCALAPPDATA% on Windows.
        var baseDir = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData,
            Environment.SpecialFolderOption.DoNotVerify);
        if (string.IsNullOrEmpty(baseDir))
            baseDir = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
        return Path.Combine(baseDir, "ExportsPS");
    }

    /// <summary>Creates the folders, refusing clearly when the location cannot be written.</summary>
    public void EnsureCreated()
    {
        try
        {
            Directory.CreateDirectory(Root);
            Directory.CreateDirectory(IndexesFolder);
            Directory.CreateDirectory(ExportsFolder);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ExportException(ExportErrorCode.InvalidPath,
                $"The data folder '{Root}' cannot be created or written ({ex.Message}). " +
                $"Point ${EnvironmentVariable} at a writable folder.", Root, ex);
        }
    }
}
