using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace ExportsPS.LoadContext;

/// <summary>The module's private load context (Microsoft's "bridge" pattern for dependency conflicts):
/// ExportsPS.Engine and everything it depends on (Lucene.Net, SQLite, CsvHelper, AWS SDK…) load from
/// <c>dependencies/</c> into this context, never into PowerShell's default one. It also resolves native
/// libraries (e_sqlite3) from <c>dependencies/runtimes/&lt;rid&gt;/native</c>, which PowerShell does
/// not probe for modules.</summary>
internal sealed class EngineLoadContext : AssemblyLoadContext
{
    static readonly Lazy<EngineLoadContext> Shared = new(() => new EngineLoadContext(DependencyFolder()));
    readonly string _dependencies;

    EngineLoadContext(string dependencies) : base("ExportsPS", isCollectible: false) => _dependencies = dependencies;

    public static EngineLoadContext Instance => Shared.Value;

    static string DependencyFolder() =>
        Path.Combine(Path.GetDirectoryName(typeof(EngineLoadContext).Assembly.Location)!, "dependencies");

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        var path = Path.Combine(_dependencies, assemblyName.Name + ".dll");
        // Framework assemblies (System.*) are not in dependencies/: returning null shares the runtime's.
        return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        foreach (var rid in RuntimeIdentifiers())
        foreach (var file in NativeFileNames(unmanagedDllName))
        {
            var path = Path.Combine(_dependencies, "runtimes", rid, "native", file);
            if (File.Exists(path)) return LoadUnmanagedDllFromPath(path);
        }
        return IntPtr.Zero; // let the runtime try its default probing
    }

    static IEnumerable<string> RuntimeIdentifiers()
    {
        var arch = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => "x64",
            Architecture.Arm64 => "arm64",
            Architecture.X86 => "x86",
            Architecture.Arm => "arm",
            var other => other.ToString().ToLowerInvariant(),
        };
        if (OperatingSystem.IsWindows()) yield return $"win-{arch}";
        else if (OperatingSystem.IsMacOS()) yield return $"osx-{arch}";
        else
        {
            if (IsMusl()) yield return $"linux-musl-{arch}";
            yield return $"linux-{arch}";
        }
    }

    static bool IsMusl() =>
        OperatingSystem.IsLinux() && RuntimeInformation.RuntimeIdentifier.Contains("musl", StringComparison.Ordinal);

    static IEnumerable<string> NativeFileNames(string name)
    {
        if (OperatingSystem.IsWindows()) { yield return name + ".dll"; yield return name; }
        else if (OperatingSystem.IsMacOS()) { yield return $"lib{name}.dylib"; yield return name + ".dylib"; yield return name; }
        else { yield return $"lib{name}.so"; yield return name + ".so"; yield return name; }
    }
}
