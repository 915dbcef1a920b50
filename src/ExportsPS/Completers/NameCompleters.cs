using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using ExportsPS.Internal;

namespace ExportsPS.Completers;

/// <summary>Shared shape of the name completers: candidates filtered by the typed prefix, quoted when needed.</summary>
public abstract class NameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var prefix = (wordToComplete ?? "").Trim('\'', '"');
        IEnumerable<string> candidates;
        try { candidates = Candidates(); }
        catch (Exception) { yield break; } // completion must never throw at the prompt
        // The cmdlets take wildcards, so a*<Tab> offers what a* would match; otherwise what starts with the word.
        Func<string, bool> matches = WildcardPattern.ContainsWildcardCharacters(prefix)
            ? WildcardPattern.Get(prefix, WildcardOptions.IgnoreCase).IsMatch
            : name => name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase);
        foreach (var name in candidates.Where(matches))
        {
            var text = name.IndexOfAny([' ', '\'', '"', '$', '`', '@', '(', ')', '{', '}', ';', ',']) >= 0 ? $"'{name.Replace("'", "''")}'" : name;
            yield return new CompletionResult(text, name, CompletionResultType.ParameterValue, name);
        }
    }

    private protected abstract IEnumerable<string> Candidates();
}

/// <summary>Completes export names from the catalog.</summary>
public sealed class ExportNameCompleter : NameCompleter
{
    private protected override IEnumerable<string> Candidates() => EngineAccess.Service(recover: false).List().Select(e => e.Name);
}

/// <summary>Completes embedded index names.</summary>
public sealed class IndexNameCompleter : NameCompleter
{
    private protected override IEnumerable<string> Candidates() => EngineAccess.Service(recover: false).Indexes.List();
}

/// <summary>Completes tenant names: "default", tenants with a policy, tenants owning an export.</summary>
public sealed class TenantNameCompleter : NameCompleter
{
    private protected override IEnumerable<string> Candidates() => EngineAccess.Service(recover: false).Tenants();
}

/// <summary>Completes format names (json, jsonl, csv, and any registered format).</summary>
public sealed class FormatNameCompleter : NameCompleter
{
    private protected override IEnumerable<string> Candidates() => EngineAccess.Service(recover: false).Formats.Names;
}

/// <summary>Completes MISP distribution level names.</summary>
public sealed class DistributionCompleter : NameCompleter
{
    private protected override IEnumerable<string> Candidates() =>
        ["Organisation", "Community", "Connected", "All"]; // SharingGroup and Inherit are refused on an exported event
}

/// <summary>Completes -Since (a set of one, checked by the cmdlet: a ValidateSet would refuse the null an export piped in binds).</summary>
public sealed class SinceCompleter : NameCompleter
{
    private protected override IEnumerable<string> Candidates() => ["LastRun"];
}

/// <summary>Completes source names: embedded and the registered OpenSearch sources.</summary>
public sealed class SourceNameCompleter : NameCompleter
{
    private protected override IEnumerable<string> Candidates()
    {
        var service = EngineAccess.Service(recover: false);
        return service.Sources.BuiltInNames.Concat(service.Sources.Registered().Select(s => s.Name));
    }
}

/// <summary>Completes registered source names only (what Unregister-ExportSource can remove).</summary>
public sealed class RegisteredSourceNameCompleter : NameCompleter
{
    private protected override IEnumerable<string> Candidates() => EngineAccess.Service(recover: false).Sources.Registered().Select(s => s.Name);
}

/// <summary>Completes registered storage names only (what Unregister-ExportStorage can remove).</summary>
public sealed class RegisteredStorageNameCompleter : NameCompleter
{
    private protected override IEnumerable<string> Candidates() =>
        Engine.Storage.S3.S3StorageTarget.List(EngineAccess.Service(recover: false).Catalog).Select(t => t.Name);
}

/// <summary>Completes storage names: local and the registered S3 targets.</summary>
public sealed class StorageNameCompleter : NameCompleter
{
    private protected override IEnumerable<string> Candidates() =>
        new[] { Engine.Exports.StorageNames.Local }.Concat(Engine.Storage.S3.S3StorageTarget.List(EngineAccess.Service(recover: false).Catalog).Select(t => t.Name));
}
