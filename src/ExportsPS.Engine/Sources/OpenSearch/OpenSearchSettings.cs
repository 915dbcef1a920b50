using System.Text.RegularExpressions;
using ExportsPS.Engine.Catalog;
using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Secrets;

namespace ExportsPS.Engine.Sources.OpenSearch;

public enum OpenSearchAuth { None, Basic, ApiKey, Bearer, AwsSigV4 }

/// <summary>How pages are read. Auto picks point-in-time when the cluster supports it (OpenSearch ≥ 2.4)
/// and scroll otherwise (older OpenSearch, Elasticsearch 7).</summary>
public enum OpenSearchReadMode { Auto, PointInTime, Scroll }

/// <summary>A registered OpenSearch source (catalog registration kind "source"). Secrets are held only in
/// their <see cref="SecretVault"/>-protected form: a settings object never carries a plain password, so
/// serialising, logging or formatting it cannot leak one.</summary>
public sealed partial record OpenSearchSettings
{
    public const string RegistrationKind = "source";

    public required string Name { get; init; }
    /// <summary>Node URLs, tried in order; a connection failure moves on to the next.</summary>
    public required IReadOnlyList<Uri> Urls { get; init; }
    public OpenSearchAuth Auth { get; init; } = OpenSearchAuth.None;
    public string? Username { get; init; }
    /// <summary>Password, API key or bearer token (by <see cref="Auth"/>), protected ("enc:v1:…").</summary>
    public string? ProtectedSecret { get; init; }
    /// <summary>For AWS SigV4: the region of the Amazon OpenSearch Service domain; credentials come from the
    /// AWS SDK's default chain (environment, shared profile, instance role).</summary>
    public string? AwsRegion { get; init; }
    public string AwsService { get; init; } = "es";
    public string? CertificateAuthorityPath { get; init; }
    public bool SkipCertificateCheck { get; init; }
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(60);
    public int PageSize { get; init; } = 5000;
    /// <summary>How long the cluster keeps the PIT or scroll context between pages.</summary>
    public string KeepAlive { get; init; } = "5m";
    /// <summary>A unique keyword (or numeric) field to sort on: required for PIT on OpenSearch before 3.3
    /// (no <c>_shard_doc</c>) and for resuming a run. Never <c>_id</c>: it has no doc values.</summary>
    public string? TiebreakerField { get; init; }
    public OpenSearchReadMode ReadMode { get; init; } = OpenSearchReadMode.Auto;
    public int MaxRetries { get; init; } = 5;
    /// <summary>First retry delay; later ones back off exponentially with jitter.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(500);
    /// <summary>The longest wait before a retry, a cluster's Retry-After included.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Logical index names (the seed's <c>attributes</c>, <c>events</c>) → real index names or patterns.</summary>
    public IReadOnlyDictionary<string, string> IndexMap { get; init; } = new Dictionary<string, string>();

    [GeneratedRegex(@"^\d+[smhd]$")]
    private static partial Regex KeepAlivePattern();

    public string ResolveIndex(string logical) => IndexMap.TryGetValue(logical, out var real) ? real : logical;

    /// <summary>Refuses a setting that cannot work, naming it and how to fix it; no network.</summary>
    public void Validate()
    {
        ExportNames.Validate(Name);
        if (string.Equals(Name, SourceNames.Embedded, StringComparison.OrdinalIgnoreCase))
            throw new ExportException(ExportErrorCode.InvalidName, "'embedded' is the built-in source; choose another -Name.", Name);
        if (Urls.Count == 0)
            throw new ExportException(ExportErrorCode.InvalidOption, "Give at least one node URL, e.g. -Uri https://search.example:9200.");
        foreach (var url in Urls)
        {
            if (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
                throw new ExportException(ExportErrorCode.InvalidOption,
                    $"'{url}' is not an http(s) URL. Give the node URL with its scheme, e.g. https://search.example:9200.", url.ToString());
            if (url.Query.Length > 0 || url.Fragment.Length > 0)
                throw new ExportException(ExportErrorCode.InvalidOption,
                    $"'{url}' has a query or fragment; give the node URL alone (a path a gateway serves the cluster under is fine).", url.ToString());
            if (!string.IsNullOrEmpty(url.UserInfo))
                throw new ExportException(ExportErrorCode.InvalidOption,
                    "Put credentials in -Credential, not in the URL: URLs are shown and logged.", url.GetLeftPart(UriPartial.Scheme) + url.Host);
        }
        if (PageSize is < 1 or > 10_000)
            throw new ExportException(ExportErrorCode.InvalidOption, $"-PageSize must be between 1 and 10000 (the default max_result_window), not {PageSize}.", PageSize);
        if (!KeepAlivePattern().IsMatch(KeepAlive))
            throw new ExportException(ExportErrorCode.InvalidOption, $"-KeepAlive '{KeepAlive}' is not a time unit like 5m, 90s or 1h.", KeepAlive);
        if (MaxRetries is < 0 or > 20)
            throw new ExportException(ExportErrorCode.InvalidOption, "-MaxRetries must be between 0 and 20.", MaxRetries);
        if (RequestTimeout <= TimeSpan.Zero)
            throw new ExportException(ExportErrorCode.InvalidOption, "-TimeoutSec must be positive.", RequestTimeout);
        if (TiebreakerField is "_id")
            throw new ExportException(ExportErrorCode.InvalidField,
                "_id cannot be the tiebreaker: OpenSearch does not sort on it efficiently. Use a unique keyword field such as uuid.", TiebreakerField);
        var needsSecret = Auth is OpenSearchAuth.Basic or OpenSearchAuth.ApiKey or OpenSearchAuth.Bearer;
        if (needsSecret && !SecretVault.IsProtected(ProtectedSecret))
            throw new ExportException(ExportErrorCode.InvalidOption, $"{Auth} authentication needs a secret (-Credential, -ApiKey or -BearerToken).");
        if (Auth == OpenSearchAuth.Basic && string.IsNullOrEmpty(Username))
            throw new ExportException(ExportErrorCode.InvalidOption, "Basic authentication needs a user name (-Credential).");
        if (Auth == OpenSearchAuth.AwsSigV4 && string.IsNullOrWhiteSpace(AwsRegion))
            throw new ExportException(ExportErrorCode.InvalidOption, "AWS SigV4 needs the domain's region (-AwsRegion eu-west-1).");
        if (CertificateAuthorityPath is not null && !File.Exists(CertificateAuthorityPath))
            throw new ExportException(ExportErrorCode.InvalidPath,
                $"The CA certificate '{CertificateAuthorityPath}' does not exist. Give the path of a PEM or DER file.", CertificateAuthorityPath);
        foreach (var (logical, real) in IndexMap)
            if (string.IsNullOrWhiteSpace(logical) || string.IsNullOrWhiteSpace(real))
                throw new ExportException(ExportErrorCode.InvalidOption, "-IndexMap entries map a logical name to a real index, e.g. @{ events = 'logs-*' }.");
    }

    public static OpenSearchSettings? Load(IExportCatalog catalog, string name) => Registrations.Load<OpenSearchSettings>(catalog, RegistrationKind, name);

    public static IReadOnlyList<OpenSearchSettings> List(IExportCatalog catalog) => Registrations.List<OpenSearchSettings>(catalog, RegistrationKind);

    public void Save(IExportCatalog catalog)
    {
        Validate();
        Registrations.Save(catalog, RegistrationKind, Name, this);
    }

    /// <summary>Never shows the secret, not even protected.</summary>
    public override string ToString() => $"{Name} ({string.Join(", ", Urls)}, auth {Auth})";
}
