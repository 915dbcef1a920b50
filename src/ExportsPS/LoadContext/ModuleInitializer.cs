using System.Management.Automation;
using System.Reflection;
using System.Runtime.Loader;

namespace ExportsPS.LoadContext;

/// <summary>Runs when Import-Module loads ExportsPS.dll: the only assembly PowerShell's default context
/// is asked for is ExportsPS.Engine, and it is answered from the module's own load context.</summary>
public sealed class ModuleInitializer : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    const string EngineAssembly = "ExportsPS.Engine";

    public void OnImport() => AssemblyLoadContext.Default.Resolving += ResolveEngine;

    public void OnRemove(PSModuleInfo module) => AssemblyLoadContext.Default.Resolving -= ResolveEngine;

    static Assembly? ResolveEngine(AssemblyLoadContext context, AssemblyName name) =>
        name.Name == EngineAssembly ? EngineLoadContext.Instance.LoadFromAssemblyName(name) : null;
}
