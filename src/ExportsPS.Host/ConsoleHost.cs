using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Security;

namespace ExportsPS.Host;

/// <summary>Just enough of a PSHost for Out-Default to render the module's table views and for
/// warnings, verbose output and progress to reach the console.</summary>
internal sealed class ConsoleHost : PSHost
{
    readonly ConsoleUserInterface _ui = new();
    public override string Name => "ExportsPS.Host";
    public override Version Version => new(1, 0);
    public override Guid InstanceId { get; } = Guid.NewGuid();
    public override PSHostUserInterface UI => _ui;
    public override CultureInfo CurrentCulture => CultureInfo.InvariantCulture;
    public override CultureInfo CurrentUICulture => CultureInfo.InvariantCulture;
    public int ExitCode { get; private set; }
    public override void SetShouldExit(int exitCode) => ExitCode = exitCode;
    public override void EnterNestedPrompt() => throw new NotSupportedException();
    public override void ExitNestedPrompt() => throw new NotSupportedException();
    public override void NotifyBeginApplication() { }
    public override void NotifyEndApplication() { }
}

internal sealed class ConsoleUserInterface : PSHostUserInterface
{
    readonly ConsoleRawUserInterface _raw = new();
    readonly Dictionary<long, int> _progressShown = new();
    public override PSHostRawUserInterface RawUI => _raw;
    /// <summary>Colours only on a terminal; logs and pipes get plain text.</summary>
    public override bool SupportsVirtualTerminal => !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("NO_COLOR") is null;

    public override void Write(string value) => Console.Out.Write(Plain(value));
    public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) => Console.Out.Write(Plain(value));
    public override void WriteLine(string value) => Console.Out.WriteLine(Plain(value));
    public override void WriteErrorLine(string value) => Console.Error.WriteLine(Plain(value));

    static readonly System.Text.RegularExpressions.Regex Escapes = new(@"\u001b\[[0-9;?]*[A-Za-z]", System.Text.RegularExpressions.RegexOptions.Compiled);

    /// <summary>The formatter emits VT styling for table headers; a log or pipe should not get it.</summary>
    string Plain(string text) => SupportsVirtualTerminal || text.IndexOf('\u001b') < 0 ? text : Escapes.Replace(text, "");
    public override void WriteDebugLine(string message) => Console.Error.WriteLine($"DEBUG: {message}");
    public override void WriteVerboseLine(string message) => Console.Error.WriteLine($"VERBOSE: {message}");
    public override void WriteWarningLine(string message) => Console.Error.WriteLine($"WARNING: {message}");

    /// <summary>Progress as occasional lines on stderr (every 25%), not a redrawn bar.</summary>
    public override void WriteProgress(long sourceId, ProgressRecord record)
    {
        if (Environment.GetEnvironmentVariable("EXPORTSPS_HOST_QUIET_PROGRESS") == "1") return;
        var key = sourceId * 1000 + record.ActivityId;
        var bucket = record.RecordType == ProgressRecordType.Completed ? 4 : Math.Max(0, record.PercentComplete) / 25;
        if (_progressShown.TryGetValue(key, out var shown) && shown >= bucket) return;
        _progressShown[key] = bucket;
        if (record.RecordType == ProgressRecordType.Completed) { _progressShown.Remove(key); return; }
        var percent = record.PercentComplete >= 0 ? $"[{record.PercentComplete,3}%] " : "";
        Console.Error.WriteLine($"  {percent}{record.Activity}: {record.StatusDescription}");
    }

    public override string ReadLine() => Console.ReadLine() ?? "";
    public override SecureString ReadLineAsSecureString() => throw new NotSupportedException("no interactive input in the script host");
    public override Dictionary<string, PSObject> Prompt(string caption, string message, System.Collections.ObjectModel.Collection<FieldDescription> descriptions) =>
        throw new NotSupportedException("no interactive input in the script host");
    public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) =>
        throw new NotSupportedException("no interactive input in the script host");
    public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName,
        PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options) =>
        throw new NotSupportedException("no interactive input in the script host");
    public override int PromptForChoice(string caption, string message, System.Collections.ObjectModel.Collection<ChoiceDescription> choices, int defaultChoice) =>
        throw new NotSupportedException("no interactive input in the script host: pass -Confirm:$false or -Force");
}

internal sealed class ConsoleRawUserInterface : PSHostRawUserInterface
{
    public override ConsoleColor ForegroundColor { get; set; } = ConsoleColor.Gray;
    public override ConsoleColor BackgroundColor { get; set; } = ConsoleColor.Black;
    public override Coordinates CursorPosition { get; set; }
    public override Coordinates WindowPosition { get; set; }
    public override int CursorSize { get; set; } = 1;
    public override Size BufferSize { get; set; } = new(Width(), 9999);
    public override Size WindowSize { get; set; } = new(Width(), 50);
    public override Size MaxWindowSize => WindowSize;
    public override Size MaxPhysicalWindowSize => WindowSize;
    public override bool KeyAvailable => false;
    public override string WindowTitle { get; set; } = "ExportsPS";

    static int Width()
    {
        try { return Console.IsOutputRedirected ? 160 : Math.Max(80, Console.WindowWidth); }
        catch (IOException) { return 160; }
    }

    public override KeyInfo ReadKey(ReadKeyOptions options) => throw new NotSupportedException();
    public override void FlushInputBuffer() { }
    public override BufferCell[,] GetBufferContents(Rectangle rectangle) => throw new NotSupportedException();
    public override void SetBufferContents(Coordinates origin, BufferCell[,] contents) { }
    public override void SetBufferContents(Rectangle rectangle, BufferCell fill) { }
    public override void ScrollBufferContents(Rectangle source, Coordinates destination, Rectangle clip, BufferCell fill) { }
}
