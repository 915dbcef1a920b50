using System.Management.Automation;
using ExportsPS.Internal;

namespace ExportsPS.Commands;

/// <summary>What every ExportsPS cmdlet shares: cancellation wired to Ctrl+C / StopProcessing, and
/// engine errors turned into ErrorRecords with stable ids. Holds no engine type (see EngineAccess).</summary>
public abstract class ExportCmdletBase : PSCmdlet
{
    readonly CancellationTokenSource _stopping = new();

    /// <summary>Canceled when the pipeline stops (Ctrl+C). Deliberately replaces Cmdlet.Stopping (a bool
    /// with the same meaning) so every cmdlet hands the same token to the engine.</summary>
    private protected new CancellationToken Stopping => _stopping.Token;

    protected override void StopProcessing() => _stopping.Cancel();

    /// <summary>Runs <paramref name="action"/>; an engine error becomes a terminating error.</summary>
    private protected void Invoke(Action action)
    {
        try { action(); }
        catch (Exception ex) when (EngineError(ex) is { } engine) { ThrowTerminatingError(ErrorRecords.From(engine)); }
    }

    /// <summary>Runs <paramref name="action"/> for one pipeline item; an engine error is written as a
    /// non-terminating error so the other items still run.</summary>
    private protected void InvokeForItem(Action action)
    {
        try { action(); }
        catch (Exception ex) when (EngineError(ex) is { } engine) { WriteError(ErrorRecords.From(engine)); }
    }

    /// <summary>ShouldProcess, except that <paramref name="force"/> skips the confirmation prompt. -Force never
    /// overrides -WhatIf, whether given here or inherited ($WhatIfPreference, a calling function's -WhatIf),
    /// nor an explicit -Confirm.</summary>
    private protected bool ShouldProcessUnlessForced(bool force, string target, string action)
    {
        var confirm = MyInvocation.BoundParameters.TryGetValue("Confirm", out var c) && ((SwitchParameter)c).IsPresent;
        return (force && !WhatIfInEffect && !confirm) || ShouldProcess(target, action);
    }

    /// <summary>-WhatIf given here, or inherited ($WhatIfPreference, a calling function's -WhatIf).</summary>
    private protected bool WhatIfInEffect => MyInvocation.BoundParameters.TryGetValue("WhatIf", out var whatIf)
        ? ((SwitchParameter)whatIf).IsPresent
        : LanguagePrimitives.IsTrue(SessionState.PSVariable.GetValue("WhatIfPreference"));

    /// <summary>The engine; its recovery sweep (failing runs whose process died, removing their temp files) is skipped
    /// under -WhatIf, which must change nothing.</summary>
    private protected Engine.Exports.ExportService Service() => EngineAccess.Service(recover: !WhatIfInEffect);

    readonly HashSet<string> _written = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Writes the item <paramref name="item"/> makes unless this command already wrote one under <paramref name="key"/>:
    /// an item named again (by another pattern, or by the next of several exports piped in that share it) is written, and
    /// made, once.</summary>
    private protected void WriteOnce(string key, Func<object> item)
    {
        if (_written.Add(key)) WriteObject(item());
    }

    /// <summary>Writes the items whose name matches any of <paramref name="patterns"/> (wildcards allowed); a
    /// pattern without wildcards that matches nothing is a non-terminating error saying how to add one.</summary>
    private protected void WriteMatching<T>(IReadOnlyList<T> all, Func<T, string> nameOf, string[] patterns, string what, string addHint)
    {
        foreach (var pattern in patterns)
        {
            var wildcard = WildcardPattern.Get(pattern, WildcardOptions.IgnoreCase);
            var matches = all.Where(item => wildcard.IsMatch(nameOf(item))).ToList();
            if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(pattern))
                WriteError(ErrorRecords.From(new Engine.Exports.ExportException(Engine.Exports.ExportErrorCode.InvalidOption,
                    $"No {what} named '{pattern}' is registered. {addHint}", pattern)));
            foreach (var match in matches) WriteOnce(nameOf(match), () => match!);
        }
    }

    /// <summary>The engine error behind <paramref name="ex"/>, also when a waited-on task wrapped it.</summary>
    static Engine.Exports.ExportException? EngineError(Exception ex) => ex switch
    {
        Engine.Exports.ExportException engine => engine,
        AggregateException { InnerExceptions.Count: 1 } aggregate => EngineError(aggregate.InnerException!),
        // The catalog's database failing mid-command (PostgreSQL restarting, a locked SQLite file): a clear error, not a crash.
        System.Data.Common.DbException database => new Engine.Exports.ExportException(Engine.Exports.ExportErrorCode.CatalogFailed,
            $"The catalog's database failed: {database.Message.TrimEnd('.')}. Check that it is reachable, then run the command again.", null, database),
        _ => null,
    };
}
