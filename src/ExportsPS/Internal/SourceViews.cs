using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Sources;
using ExportsPS.Engine.Sources.OpenSearch;

namespace ExportsPS.Internal;

/// <summary>Sources and probes as the cmdlets show them (no secret ever leaves the engine).</summary>
internal static class SourceViews
{
    public static ExportSourceInfo ToInfo(ExportService service, OpenSearchSettings settings) => new()
    {
        Name = settings.Name,
        Kind = "OpenSearch",
        Uri = settings.Urls.Select(u => u.ToString()).ToArray(),
        Authentication = settings.Auth.ToString(),
        UserName = settings.Username,
        ReadMode = settings.ReadMode.ToString(),
        PageSize = settings.PageSize,
        KeepAlive = settings.KeepAlive,
        TiebreakerField = settings.TiebreakerField,
        MaxRetries = settings.MaxRetries,
        Timeout = settings.RequestTimeout,
        CertificatePath = settings.CertificateAuthorityPath,
        SkipCertificateCheck = settings.SkipCertificateCheck,
        IndexMap = new System.Collections.Hashtable(settings.IndexMap.ToDictionary(p => (object)p.Key, p => (object?)p.Value)),
        UsedBy = UsersOf(service, settings.Name),
    };

    public static ExportSourceInfo Embedded(ExportService service) => new()
    {
        Name = SourceNames.Embedded,
        Kind = "Embedded",
        Uri = [service.Indexes.Root],
        ReadMode = "Snapshot",
        UsedBy = UsersOf(service, SourceNames.Embedded),
    };

    static string[] UsersOf(ExportService service, string name) =>
        Engine.Catalog.Registrations.UsedBy(service.Catalog, e => e.Source, name).ToArray();

    public static ExportSourceTestResult ToResult(SourceProbe probe) => new()
    {
        Name = probe.Name,
        Uri = probe.Url,
        Distribution = probe.Distribution,
        Version = probe.Version,
        ClusterName = probe.ClusterName,
        SupportsPointInTime = probe.SupportsPointInTime,
        SupportsShardDoc = probe.SupportsShardDoc,
        ReadMode = probe.ReadMode,
        SortKey = probe.SortKey,
        Index = probe.Index,
        ResolvedIndex = probe.ResolvedIndex,
        IndexExists = probe.IndexExists,
        Documents = probe.DocumentCount,
        MaxResultWindow = probe.MaxResultWindow,
        Field = probe.Fields.ToArray(),
        Latency = probe.Latency,
    };
}
