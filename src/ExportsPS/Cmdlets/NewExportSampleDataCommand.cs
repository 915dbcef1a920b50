using System.Management.Automation;
using ExportsPS.Engine.Sample;
using ExportsPS.Engine.Sources.Embedded;
using ExportsPS.Internal;

namespace ExportsPS.Commands;

/// <summary>New-ExportSampleData: generates realistic, deterministic ECS events or MISP attributes into
/// an embedded index, for demos, runbook tests and benchmarks.</summary>
[Cmdlet(VerbsCommon.New, "ExportSampleData", SupportsShouldProcess = true)]
[OutputType(typeof(ExportImportResult))]
public sealed class NewExportSampleDataCommand : ExportCmdletBase
{
    [Parameter(Position = 0)]
    [ValidateSet("Events", "Attributes")]
    public string Kind { get; set; } = "Events";

    [Parameter(Position = 1)]
    [ValidateRange(1, 100_000_000)]
    public long Count { get; set; } = 10_000;

    /// <summary>Target index; default 'events' or 'attributes' by kind.</summary>
    [Parameter]
    public string? Index { get; set; }

    /// <summary>Same seed, same documents.</summary>
    [Parameter]
    public int Seed { get; set; } = 42;

    /// <summary>Timestamps spread over this many days ending now.</summary>
    [Parameter]
    [ValidateRange(1, 3650)]
    public int Days { get; set; } = 7;

    /// <summary>Anchor for the timestamps (default: now); fixes the data completely for tests.</summary>
    [Parameter]
    public DateTimeOffset? EndTime { get; set; }

    [Parameter]
    public SwitchParameter Replace { get; set; }

    /// <summary>Explicit field types, as for Import-ExportData.</summary>
    [Parameter]
    public System.Collections.Hashtable? Mapping { get; set; }

    /// <summary>Index only the fields in -Mapping (fast bulk loads for benchmarks and memory tests).</summary>
    [Parameter]
    public SwitchParameter MappedFieldsOnly { get; set; }

    protected override void ProcessRecord() => Invoke(() =>
    {
        var kind = Enum.Parse<SampleKind>(Kind, ignoreCase: true);
        var index = Index ?? SampleDataGenerator.DefaultIndexOf(kind);
        EmbeddedIndexStore.ValidateName(index);
        if (!ShouldProcess(index, $"Generate {Count:N0} sample {Kind.ToLowerInvariant()}")) return;
        var service = Service();
        var documents = SampleDataGenerator.Generate(kind, Count, Seed, EndTime ?? DateTimeOffset.UtcNow, TimeSpan.FromDays(Days));
        var options = new ImportOptions
        {
            Replace = Replace,
            DefaultColumns = SampleDataGenerator.ColumnsOf(kind),
            Mapping = ImportExportDataCommand.ToMapping(Mapping),
            MappedFieldsOnly = MappedFieldsOnly,
        };
        WriteObject(ImportExportDataCommand.ImportWithProgress(this, service, index, documents, options, Stopping));
    });
}
