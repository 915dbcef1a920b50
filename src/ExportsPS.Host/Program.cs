using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace ExportsPS.Host;

/// <summary>
/// exportsps-host [--module &lt;psd1&gt;] &lt;script.ps1&gt; [args…]   runs a script
/// exportsps-host [--module &lt;psd1&gt;] -Command '&lt;text&gt;'           runs a command line
/// The module is imported before the script runs (default: out/ExportsPS/ExportsPS.psd1 found from the
/// current folder upwards or beside this program). Exit code: 0, or 1 after a terminating error or any
/// error record when $ErrorActionPreference is Stop.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var arguments = args.ToList();
        var modulePath = TakeOption(arguments, "--module") ?? FindModule();
        if (modulePath is null)
        {
            Console.Error.WriteLine("Cannot find out/ExportsPS/ExportsPS.psd1: build first with 'dotnet build' or pass --module <path>.");
            return 2;
        }
        var command = TakeOption(arguments, "-Command");
        if (command is null && arguments.Count == 0)
        {
            Console.Error.WriteLine("usage: exportsps-host [--module <psd1>] <script.ps1> [args...] | -Command '<text>'");
            return 2;
        }

        var host = new ConsoleHost();
        var state = InitialSessionState.CreateDefault2();
        state.ThrowOnRunspaceOpenError = true;
        state.ImportPSModule([Path.GetFullPath(modulePath)]);
        if (OperatingSystem.IsWindows()) state.ExecutionPolicy = Microsoft.PowerShell.ExecutionPolicy.Bypass;
        using var runspace = RunspaceFactory.CreateRunspace(host, state);
        runspace.Open();
        if (!host.UI.SupportsVirtualTerminal)
        {
            using var plain = PowerShell.Create(runspace);
            plain.AddScript("$PSStyle.OutputRendering = 'PlainText'").Invoke();
        }
        using var shell = PowerShell.Create(runspace);
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; shell.BeginStop(null, null); };

        if (command is not null) shell.AddScript(command);
        else
        {
            var script = Path.GetFullPath(arguments[0]);
            shell.AddCommand(script);
            foreach (var argument in arguments.Skip(1)) shell.AddArgument(argument);
        }
        shell.AddCommand("Out-Default");
        shell.Commands.Commands[0].MergeMyResults(PipelineResultTypes.Error, PipelineResultTypes.Output);
        try
        {
            shell.Invoke();
        }
        catch (RuntimeException ex)
        {
            Console.Error.WriteLine($"{ex.ErrorRecord?.InvocationInfo?.PositionMessage}\n{ex.Message}".Trim());
            Console.Error.WriteLine($"  FullyQualifiedErrorId: {ex.ErrorRecord?.FullyQualifiedErrorId}");
            return 1;
        }
        return shell.HadErrors && host.ExitCode == 0 ? 1 : host.ExitCode;
    }

    static string? TakeOption(List<string> arguments, string name)
    {
        var index = arguments.FindIndex(a => a.Equals(name, StringComparison.OrdinalIgnoreCase));
        if (index < 0 || index == arguments.Count - 1) return null;
        var value = arguments[index + 1];
        arguments.RemoveRange(index, 2);
        return value;
    }

    static string? FindModule()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var folder = new DirectoryInfo(start); folder is not null; folder = folder.Parent)
            {
                var candidate = Path.Combine(folder.FullName, "out", "ExportsPS", "ExportsPS.psd1");
                if (File.Exists(candidate)) return candidate;
            }
        }
        return null;
    }
}
