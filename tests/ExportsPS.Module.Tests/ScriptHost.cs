using System.Diagnostics;

namespace ExportsPS.Module.Tests;

/// <summary>Runs a script in a separate process through the repo's script host (the same PowerShell
/// engine and staged module), for tests that need a process of their own: memory, crashes, concurrency.</summary>
public static class ScriptHost
{
    public static string HostDll => Path.Combine(PowerShellSession.RepoRoot, "src", "ExportsPS.Host", "bin", "Debug", "net10.0", "exportsps-host.dll");

    public static Process Start(string home, string script, IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(HostDll);
        info.ArgumentList.Add("--module");
        info.ArgumentList.Add(PowerShellSession.ModulePath);
        info.ArgumentList.Add("-Command");
        info.ArgumentList.Add(script);
        info.Environment["EXPORTSPS_HOME"] = home;
        info.Environment["NO_COLOR"] = "1";
        info.Environment["EXPORTSPS_HOST_QUIET_PROGRESS"] = "1";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) info.Environment[key] = value;
        return Process.Start(info)!;
    }

    /// <summary>Runs to completion and returns stdout; fails the test with stderr on a non-zero exit.</summary>
    public static string Run(string home, string script, TimeSpan timeout, IDictionary<string, string>? environment = null)
    {
        using var process = Start(home, script, environment);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new Xunit.Sdk.XunitException($"script host timed out after {timeout}: {script}");
        }
        if (process.ExitCode != 0)
            throw new Xunit.Sdk.XunitException($"script host exited {process.ExitCode}: {stderr.Result}\n{stdout.Result}");
        return stdout.Result;
    }

    /// <summary>Appended to a script: prints the process's peak resident memory in MB (Linux VmHWM).</summary>
    public const string PrintPeakMemory =
        "; 'PEAK_MB=' + [math]::Round(([regex]::Match([System.IO.File]::ReadAllText('/proc/self/status'), 'VmHWM:\\s+(\\d+)').Groups[1].Value -as [long]) / 1024)";

    public static long ReadValue(string output, string name)
    {
        var line = output.Split('\n').Select(l => l.Trim()).Last(l => l.StartsWith(name + "=", StringComparison.Ordinal));
        return (long)double.Parse(line[(name.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }
}
