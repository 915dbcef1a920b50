using System.Management.Automation;

namespace ExportsPS.Module.Tests;

public sealed class ModuleLoadTests : IDisposable
{
    readonly PowerShellSession _ps = new();
    public void Dispose() => _ps.Dispose();

    [Fact]
    public void Module_exports_its_cmdlets_and_loads_engine_in_its_own_context()
    {
        var names = _ps.Ok("(Get-Module ExportsPS).ExportedCmdlets.Keys").Select(o => o.BaseObject.ToString()).ToList();
        Assert.Contains("New-Export", names);
        Assert.Contains("Receive-ExportFile", names);

        // Touch the engine (SQLite native + Lucene) and prove where it loaded.
        _ps.Ok("Get-Export");
        var contexts = _ps.Ok(
            "[AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -in 'ExportsPS.Engine','Microsoft.Data.Sqlite','Lucene.Net' } | " +
            "ForEach-Object { '{0}={1}' -f $_.GetName().Name, [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($_).Name }")
            .Select(o => o.ToString()).ToList();
        Assert.Contains("ExportsPS.Engine=ExportsPS", contexts);
        Assert.Contains("Microsoft.Data.Sqlite=ExportsPS", contexts);
        Assert.DoesNotContain(contexts, c => c.EndsWith("=Default", StringComparison.Ordinal));
    }

    [Fact]
    public void The_cmdlet_assembly_references_no_third_party_assembly_directly()
    {
        // A third-party type in a cmdlet's compiled code would be resolved in PowerShell's default load
        // context, where only ExportsPS.Engine is redirected: it must stay behind the engine's API.
        var references = _ps.Ok("[ExportsPS.ExportInfo].Assembly.GetReferencedAssemblies() | ForEach-Object Name").Select(r => r.ToString()!).ToList();
        Assert.Contains("ExportsPS.Engine", references);
        Assert.All(references, r => Assert.True(r is "ExportsPS.Engine" or "System.Management.Automation" or "netstandard" || r.StartsWith("System", StringComparison.Ordinal), r));
    }

    [Fact]
    public void Engine_assembly_is_not_beside_the_module_dll()
    {
        var moduleFolder = Path.GetDirectoryName(PowerShellSession.ModulePath)!;
        Assert.False(File.Exists(Path.Combine(moduleFolder, "ExportsPS.Engine.dll")));
        Assert.True(File.Exists(Path.Combine(moduleFolder, "dependencies", "ExportsPS.Engine.dll")));
        foreach (var rid in new[] { "linux-x64", "linux-arm64", "osx-x64", "osx-arm64", "win-x64" })
            Assert.True(Directory.Exists(Path.Combine(moduleFolder, "dependencies", "runtimes", rid, "native")), rid);
    }
}
