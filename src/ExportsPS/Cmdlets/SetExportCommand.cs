using System.Management.Automation;
using ExportsPS.Completers;
using ExportsPS.Engine.Exports;
using ExportsPS.Internal;

namespace ExportsPS.Commands;

/// <summary>Set-Export: changes an export's definition in place, keeping its name, file, run history and
/// schedule. Only the parameters given change; the next run uses the new definition.</summary>
[Cmdlet(VerbsCommon.Set, "Export", SupportsShouldProcess = true)]
[OutputType(typeof(ExportInfo))]
public sealed class SetExportCommand : ExportCmdletBase
{
    #region Parameters

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ExportNameCompleter))]
    [Alias("ExportName")]
    public string[] Name { get; set; } = [];

    [Parameter]
    [AllowEmptyString]
    public string? Query { get; set; }

    [Parameter]
    [ArgumentCompleter(typeof(IndexNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string? Index { get; set; }

    [Parameter]
    [ArgumentCompleter(typeof(FormatNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string? Format { get; set; }

    /// <summary>The new field list; an empty list means every field.</summary>
    [Parameter]
    [Alias("Fields")]
    [AllowEmptyCollection]
    public string[]? Field { get; set; }

    /// <summary>An empty string removes the bound.</summary>
    [Parameter]
    [AllowEmptyString]
    public string? From { get; set; }

    /// <summary>An empty string removes the bound.</summary>
    [Parameter]
    [AllowEmptyString]
    public string? To { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? TimestampField { get; set; }

    /// <summary>-Compress:$false stops compressing.</summary>
    [Parameter]
    public SwitchParameter Compress { get; set; }

    /// <summary>-AllowCsvFormulas:$false neutralises formula cells again.</summary>
    [Parameter]
    public SwitchParameter AllowCsvFormulas { get; set; }

    [Parameter]
    public long? RecordCap { get; set; }

    /// <summary>TimeSpan.Zero removes the limit.</summary>
    [Parameter]
    public TimeSpan? TimeLimit { get; set; }

    [Parameter]
    [ArgumentCompleter(typeof(TenantNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string? Tenant { get; set; }

    [Parameter]
    [ArgumentCompleter(typeof(SourceNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string? Source { get; set; }

    [Parameter]
    [ValidateRange(1, 64)]
    public int? Slices { get; set; }

    /// <summary>LastRun makes the export incremental; an empty string makes every run cover -From..-To again.</summary>
    [Parameter]
    [ValidateSet("LastRun", "")]
    public string? Since { get; set; }

    /// <summary>TimeSpan.Zero for no limit.</summary>
    [Parameter]
    public TimeSpan? DownloadWindow { get; set; }

    [Parameter]
    [ArgumentCompleter(typeof(DistributionCompleter))]
    [ValidateNotNullOrEmpty]
    public string? Distribution { get; set; }

    [Parameter]
    [ValidateRange(1, long.MaxValue)]
    public long? StixRecordCap { get; set; }

    /// <summary>Returns the changed export.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    #endregion

    bool Given(string parameter) => MyInvocation.BoundParameters.ContainsKey(parameter);

    ExportDefinition Changed(ExportDefinition current)
    {
        return current with
        {
            Query = Query ?? current.Query,
            Index = Index ?? current.Index,
            Format = Format?.ToLowerInvariant() ?? current.Format,
            Fields = Field ?? current.Fields,
            From = Given(nameof(From)) ? (string.IsNullOrWhiteSpace(From) ? null : From) : current.From,
            To = Given(nameof(To)) ? (string.IsNullOrWhiteSpace(To) ? null : To) : current.To,
            TimestampField = TimestampField ?? current.TimestampField,
            Compression = Given(nameof(Compress)) ? (Compress ? CompressionKind.Gzip : CompressionKind.None) : current.Compression,
            NeutralizeCsvFormulas = Given(nameof(AllowCsvFormulas)) ? !AllowCsvFormulas : current.NeutralizeCsvFormulas,
            RecordCap = RecordCap ?? current.RecordCap,
            TimeLimit = TimeLimit is { } limit ? (limit == TimeSpan.Zero ? null : limit) : current.TimeLimit,
            Tenant = Tenant ?? current.Tenant,
            Source = Source ?? current.Source,
            Slices = Slices ?? current.Slices,
            SinceLastRun = Given(nameof(Since)) ? string.Equals(Since, "LastRun", StringComparison.OrdinalIgnoreCase) : current.SinceLastRun,
            DownloadWindow = DownloadWindow is { } window ? (window == TimeSpan.Zero ? null : window) : current.DownloadWindow,
            DownloadWindowIsDefault = DownloadWindow is null && current.DownloadWindowIsDefault,
            FormatOptions = FormatOptionParameters.Apply(current.FormatOptions, Distribution, StixRecordCap),
        };
    }

    /// <summary>The parameters whose value differs, for the confirmation and the verbose stream.</summary>
    static IEnumerable<string> Differences(ExportDefinition before, ExportDefinition after)
    {
        if (before.Query != after.Query) yield return $"query '{after.Query}'";
        if (before.Index != after.Index) yield return $"index {after.Index}";
        if (before.Format != after.Format) yield return $"format {after.Format}";
        if (!before.Fields.SequenceEqual(after.Fields)) yield return after.Fields.Count == 0 ? "every field" : $"fields {string.Join(", ", after.Fields)}";
        if (before.From != after.From) yield return $"from {after.From ?? "(none)"}";
        if (before.To != after.To) yield return $"to {after.To ?? "(none)"}";
        if (before.TimestampField != after.TimestampField) yield return $"timestamp field {after.TimestampField}";
        if (before.Compression != after.Compression) yield return after.Compression == CompressionKind.Gzip ? "gzip" : "no compression";
        if (before.NeutralizeCsvFormulas != after.NeutralizeCsvFormulas) yield return after.NeutralizeCsvFormulas ? "csv formulas neutralised" : "csv formulas allowed";
        if (before.RecordCap != after.RecordCap) yield return $"record cap {after.RecordCap:N0}";
        if (before.TimeLimit != after.TimeLimit) yield return $"time limit {after.TimeLimit?.ToString() ?? "(none)"}";
        if (before.Tenant != after.Tenant) yield return $"tenant {after.Tenant}";
        if (before.Source != after.Source) yield return $"source {after.Source}";
        if (before.Slices != after.Slices) yield return $"{after.Slices} slices";
        if (before.SinceLastRun != after.SinceLastRun) yield return after.SinceLastRun ? "since last run" : "full range each run";
        if (before.DownloadWindow != after.DownloadWindow) yield return $"download window {after.DownloadWindow?.ToString() ?? "(none)"}";
        if (!before.FormatOptions.OrderBy(o => o.Key).SequenceEqual(after.FormatOptions.OrderBy(o => o.Key)))
            yield return string.Join(", ", after.FormatOptions.Select(o => $"{o.Key} {o.Value}"));
    }

    protected override void ProcessRecord()
    {
        foreach (var name in Name)
        {
            InvokeForItem(() =>
            {
                var service = Service();
                var current = service.Get(name);
                // Refused before asking, so -WhatIf also reports a bad change.
                var changed = service.ExpandFields(Changed(current), Stopping);
                service.Validate(changed, Stopping);
                var differences = Differences(current, changed).ToList();
                if (differences.Count == 0)
                {
                    WriteVerbose($"Export '{current.Name}' already has that definition; nothing changed.");
                }
                else
                {
                    if (!ShouldProcess(current.Name, $"Change export: {string.Join("; ", differences)}")) return;
                    current = service.Update(changed, string.Join("; ", differences), Stopping);
                }
                if (PassThru) WriteObject(EngineAccess.ToInfo(service, current));
            });
        }
    }
}
