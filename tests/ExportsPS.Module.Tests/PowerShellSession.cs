using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace ExportsPS.Module.Tests;

/// <summary>A hosted PowerShell 7.6 runspace with the staged module imported by its full psd1 path and
/// its own data folder. Tests in this assembly run one at a time: EXPORTSPS_HOME is process-wide.</summary>
public sealed class PowerShellSession : IDisposable
{
    readonly Runspace _runspace;

    public PowerShellSession()
    {
        Home = Path.Combine(Path.GetTempPath(), "exportsps-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Home);
        Environment.SetEnvironmentVariable("EXPORTSPS_HOME", Home);
        _runspace = OpenRunspace();
    }

    /// <summary>An open runspace with the staged module imported by its full psd1 path (a broken import throws),
    /// under <paramref name="host"/> when a test needs one that answers prompts.</summary>
    public static Runspace OpenRunspace(System.Management.Automation.Host.PSHost? host = null)
    {
        var state = InitialSessionState.CreateDefault2();
        state.ThrowOnRunspaceOpenError = true;
        state.ImportPSModule([ModulePath]);
        var runspace = host is null ? RunspaceFactory.CreateRunspace(state) : RunspaceFactory.CreateRunspace(host, state);
        runspace.Open();
        return runspace;
    }

    public string Home { get; }

    public static string RepoRoot { get; } = FindRepoRoot();
    public static string ModulePath => Path.Combine(RepoRoot, "out", "ExportsPS", "ExportsPS.psd1");

    static string FindRepoRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
            if (File.Exists(Path.Combine(folder.FullName, "ExportsPS.sln"))) return folder.FullName;
        throw new InvalidOperationException("ExportsPS.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Runs a script; returns its output and everything it reported.</summary>
    public Result Run(string script, IDictionary<string, object?>? variables = null)
    {
        Environment.SetEnvironmentVariable("EXPORTSPS_HOME", Home);
        using var shell = PowerShell.Create(_runspace);
        foreach (var (name, value) in variables ?? new Dictionary<string, object?>())
            _runspace.SessionStateProxy.SetVariable(name, value);
        shell.AddScript(script);
        Collection<PSObject> output;
        Exception? terminating = null;
        try { output = shell.Invoke(); }
        catch (RuntimeException ex) { output = new Collection<PSObject>(); terminating = ex; }
        return new Result(output, shell.Streams.Error.ToList(), shell.Streams.Progress.ToList(),
            shell.Streams.Warning.Select(w => w.Message).ToList(), terminating);
    }

    /// <summary>Runs a script that must not report any error.</summary>
    public Collection<PSObject> Ok(string script)
    {
        var result = Run(script);
        if (result.Terminating is not null) throw new Xunit.Sdk.XunitException($"script threw: {result.Terminating.Message}\n{script}");
        if (result.Errors.Count > 0)
            throw new Xunit.Sdk.XunitException($"script reported errors: {string.Join("\n", result.Errors.Select(e => $"{e.FullyQualifiedErrorId}: {e}"))}\n{script}");
        return result.Output;
    }

    public void Dispose()
    {
        _runspace.Dispose();
        try { Directory.Delete(Home, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    public sealed record Result(
        Collection<PSObject> Output,
        List<ErrorRecord> Errors,
        List<ProgressRecord> Progress,
        List<string> Warnings,
        Exception? Terminating)
    {
        /// <summary>The FullyQualifiedErrorId of the terminating error, or else of the first error.</summary>
        public string? ErrorId => (Terminating as IContainsErrorRecord)?.ErrorRecord.FullyQualifiedErrorId ?? Errors.FirstOrDefault()?.FullyQualifiedErrorId;
    }
}
