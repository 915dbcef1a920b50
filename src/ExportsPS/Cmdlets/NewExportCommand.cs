using System.Management.Automation;
using ExportsPS.Completers;
using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Runs;
using ExportsPS.Internal;

namespace ExportsPS.Commands;

/// <summary>New-Export: defines an export and, unless -NoRun, runs it at once.</summary>
[Cmdlet(VerbsCommon.New, "Export", SupportsShouldProcess = true, DefaultParameterSetName = WaitSet)]
[OutputType(typeof(ExportRunInfo), ParameterSetName = [WaitSet])]
[OutputType(typeof(ExportInfo), ParameterSetName = [NoRunSet])]
[OutputType(typeof(Job), ParameterSetName = [JobSet])]
[OutputType(typeof(ExportKeyInfo))]
public sealed class NewExportCommand : ExportCmdletBase
{
    const string WaitSet = "Wait";
    const string NoRunSet = "NoRun";
    const string JobSet = "AsJob";

    #region Parameters

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [AllowEmptyString]
    public string Query { get; set; } = "";

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(IndexNameCompleter))]
    public string Index { get; set; } = "events";

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(FormatNameCompleter))]
    public string Format { get; set; } = "jsonl";

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("Fields")]
    public string[] Field { get; set; } = [];

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? From { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? To { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string TimestampField { get; set; } = "@timestamp";

    [Parameter]
    public SwitchParameter Compress { get; set; }

    /// <summary>The same choice as -Compress, by name, so an export piped in (Get-Export | New-Export -Name copy) keeps it.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateSet("none", "gzip")]
    public string? Compression { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public SwitchParameter AllowCsvFormulas { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public long RecordCap { get; set; } = ExportDefinition.DefaultRecordCap;

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public TimeSpan? TimeLimit { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(TenantNameCompleter))]
    public string Tenant { get; set; } = "default";

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(SourceNameCompleter))]
    public string Source { get; set; } = SourceNames.Embedded;

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, 64)]
    public int Slices { get; set; } = 1;

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(StorageNameCompleter))]
    public string Storage { get; set; } = StorageNames.Local;

    /// <summary>LastRun: each run exports only documents newer than the previous complete run's high-water mark.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(SinceCompleter))]
    public string? Since { get; set; }

    [Parameter]
    public SwitchParameter Encrypt { get; set; }

    /// <summary>A SecureString or base64 string; with -Encrypt and no key, one is generated and returned once.</summary>
    [Parameter]
    public object? EncryptionKey { get; set; }

    /// <summary>How long each run's file can be downloaded; default 24 hours for one-off exports, none for
    /// scheduled ones; TimeSpan.Zero for no limit.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public TimeSpan? DownloadWindow { get; set; }

    /// <summary>MISP distribution level (0-5 or a name such as Organisation, Community, All); required for misp.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(DistributionCompleter))]
    public string? Distribution { get; set; }

    /// <summary>The most records a stix export may convert (default 10,000); more fails the run before conversion.</summary>
    // No ValidateRange: an export piped in binds its null here (not a stix export), which a validation attribute refuses;
    // the stix format refuses a cap that is not positive ("The STIX record cap '0' ...").
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public long? StixRecordCap { get; set; }

    /// <summary>Also runs the export on this 5-field crontab (UTC), as Set-ExportSchedule -Cron.</summary>
    [Parameter]
    public string? Schedule { get; set; }

    /// <summary>Also runs the export at this interval, as Set-ExportSchedule -Interval.</summary>
    [Parameter]
    public TimeSpan? Interval { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = NoRunSet)]
    public SwitchParameter NoRun { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = JobSet)]
    public SwitchParameter AsJob { get; set; }

    #endregion

    #region Members

    Dictionary<string, string> FormatOptions() => FormatOptionParameters.Apply(new Dictionary<string, string>(), Distribution, StixRecordCap);

    #endregion

    #region Overrides

    bool _compressionTyped;

    /// <summary>Before the pipeline binds anything, the parameters bound are the ones typed.</summary>
    protected override void BeginProcessing() => _compressionTyped = MyInvocation.BoundParameters.ContainsKey(nameof(Compression));

    protected override void ProcessRecord() => InvokeForItem(() =>
    {
        var service = Service();
        if (Since is not null && !string.Equals(Since, "LastRun", StringComparison.OrdinalIgnoreCase))
            throw new ExportException(ExportErrorCode.InvalidOption, $"-Since takes LastRun (each run exports what arrived since the last completed one), not '{Since}'.", Since);
        // Only when both are typed: a piped export's Compression gives way to -Compress on the command line.
        if (Compress && _compressionTyped && string.Equals(Compression, "none", StringComparison.OrdinalIgnoreCase))
            throw new ExportException(ExportErrorCode.InvalidOption, "-Compress and -Compression none contradict each other: give one of them.");
        if (EncryptionKey is not null && !Encrypt)
            throw new ExportException(ExportErrorCode.InvalidOption, "-EncryptionKey needs -Encrypt.");
        var key = Encrypt ? EncryptionKeys.From(EncryptionKey) ?? Engine.Storage.ArtifactKey.Generate() : null;
        if (key is not null && (Schedule is not null || Interval is not null))
            throw new ExportException(ExportErrorCode.InvalidSchedule,
                "An encrypted export cannot be scheduled: only you hold its key. Run it with Start-Export -EncryptionKey, or schedule it unencrypted.");
        var definition = new ExportDefinition
        {
            Name = Name,
            Query = Query,
            Index = Index,
            Format = Format.ToLowerInvariant(),
            Fields = Field,
            From = string.IsNullOrWhiteSpace(From) ? null : From,
            To = string.IsNullOrWhiteSpace(To) ? null : To,
            TimestampField = TimestampField,
            Compression = Compress || string.Equals(Compression, "gzip", StringComparison.OrdinalIgnoreCase) ? CompressionKind.Gzip : CompressionKind.None,
            NeutralizeCsvFormulas = !AllowCsvFormulas,
            RecordCap = RecordCap,
            TimeLimit = TimeLimit,
            Tenant = Tenant,
            Source = Source,
            Slices = Slices,
            Storage = Storage,
            SinceLastRun = Since is not null,
            KeyFingerprint = key?.Fingerprint,
            DownloadWindow = DownloadWindow is { } window
                ? (window == TimeSpan.Zero ? null : window)
                : (Schedule is null && Interval is null ? TimeSpan.FromHours(24) : null),
            DownloadWindowIsDefault = DownloadWindow is null && Schedule is null && Interval is null,
            FormatOptions = FormatOptions(),
        };
        // Refuse bad input before asking for confirmation, so -WhatIf also reports it.
        definition = service.ExpandFields(definition, Stopping);
        if (definition.Fields.Count != Field.Length || !definition.Fields.SequenceEqual(Field))
            WriteVerbose($"Fields: {string.Join(", ", definition.Fields)}");
        service.Validate(definition, Stopping);
        if (Schedule is not null && Interval is not null)
            throw new Engine.Exports.ExportException(Engine.Exports.ExportErrorCode.InvalidSchedule, "Give -Schedule or -Interval, not both.");
        // The schedule validated is the one saved.
        (Engine.Scheduling.ScheduleKind Kind, string Expression)? schedule =
            Schedule is not null ? (Engine.Scheduling.ScheduleKind.Cron, Schedule.Trim())
            : Interval is { } every ? (Engine.Scheduling.ScheduleKind.Interval, every.ToString("c"))
            : null;
        if (schedule is { } requested) Engine.Scheduling.ExportSchedule.Validate(requested.Kind, requested.Expression);
        if (!ShouldProcess(Name, NoRun ? "Create export" : "Create and run export")) return;

        var created = service.Create(definition, Stopping);
        if (schedule is { } saved) service.Schedules.Set(created.Name, saved.Kind, saved.Expression, service.Catalog.Now());
        // A generated key is returned whether or not the export runs now: it exists nowhere else.
        if (key is not null && EncryptionKey is null)
        {
            WriteWarning($"Export '{created.Name}' is encrypted with a new key (fingerprint {key.Fingerprint}) returned once in the EncryptionKey property. " +
                         "Save it now (e.g. in a SecretManagement vault): without it the export cannot run and its file cannot be downloaded, and ExportsPS does not keep it.");
            WriteObject(new PSObject(new ExportKeyInfo { Name = created.Name, EncryptionKey = EncryptionKeys.ToSecureString(key), Fingerprint = key.Fingerprint }));
        }
        if (NoRun)
        {
            WriteObject(EngineAccess.ToInfo(service, created));
            return;
        }
        var handle = service.Start(created.Name, RunTrigger.Create, key, cancellationToken: Stopping);
        if (AsJob)
        {
            var job = new ExportRunJob(MyInvocation.Line, handle);
            JobRepository.Add(job);
            WriteObject(job);
            return;
        }
        RunWaiter.Report(this, RunWaiter.Wait(this, handle, 1, Stopping));
    });

    #endregion
}
