using System.Collections;
using System.Management.Automation;
using System.Net;
using System.Security;
using ExportsPS.Engine.Secrets;
using ExportsPS.Engine.Sources.OpenSearch;
using ExportsPS.Internal;

namespace ExportsPS.Commands;

/// <summary>Register-ExportSource: names an OpenSearch cluster (URLs, authentication, TLS, paging, index
/// map) so exports can read from it with -Source. Secrets are encrypted before they reach the catalog.</summary>
[Cmdlet(VerbsLifecycle.Register, "ExportSource", SupportsShouldProcess = true, DefaultParameterSetName = NoAuthSet)]
[OutputType(typeof(ExportSourceInfo))]
public sealed class RegisterExportSourceCommand : ExportCmdletBase
{
    const string NoAuthSet = "NoAuthentication";
    const string CredentialSet = "Credential";
    const string ApiKeySet = "ApiKey";
    const string BearerSet = "BearerToken";
    const string AwsSet = "AwsSigV4";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public Uri[] Uri { get; set; } = [];

    [Parameter(Mandatory = true, ParameterSetName = CredentialSet)]
    [Credential]
    public PSCredential? Credential { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = ApiKeySet)]
    public SecureString? ApiKey { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = BearerSet)]
    public SecureString? BearerToken { get; set; }

    /// <summary>Signs requests with AWS SigV4 for Amazon OpenSearch Service in this region (credentials from the AWS default chain).</summary>
    [Parameter(Mandatory = true, ParameterSetName = AwsSet)]
    public string? AwsRegion { get; set; }

    [Parameter(ParameterSetName = AwsSet)]
    [ValidateSet("es", "aoss")]
    public string AwsService { get; set; } = "es";

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? CertificatePath { get; set; }

    [Parameter]
    public SwitchParameter SkipCertificateCheck { get; set; }

    // "Timeout" binds Get-ExportSource's TimeSpan property when a source is piped in to copy or re-register it.
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("Timeout")]
    [WholeSeconds]
    [ValidateRange(1, 3600)]
    public int TimeoutSec { get; set; } = 60;

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, 10000)]
    public int PageSize { get; set; } = 5000;

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string KeepAlive { get; set; } = "5m";

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? TiebreakerField { get; set; }

    // A string, not the engine's enum: parameter types must resolve before the module's load context exists.
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateSet("Auto", "PointInTime", "Scroll")]
    public string ReadMode { get; set; } = "Auto";

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0, 20)]
    public int MaxRetries { get; set; } = 5;

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public Hashtable? IndexMap { get; set; }

    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord() => InvokeForItem(() =>
    {
        var service = Service();
        var auth = ParameterSetName switch
        {
            CredentialSet => OpenSearchAuth.Basic,
            ApiKeySet => OpenSearchAuth.ApiKey,
            BearerSet => OpenSearchAuth.Bearer,
            AwsSet => OpenSearchAuth.AwsSigV4,
            _ => OpenSearchAuth.None,
        };
        var secret = Credential?.Password ?? ApiKey ?? BearerToken;
        var settings = new OpenSearchSettings
        {
            Name = Name,
            Urls = Uri,
            Auth = auth,
            Username = Credential?.UserName,
            AwsRegion = AwsRegion,
            AwsService = AwsService,
            ProtectedSecret = secret is null ? null : SecretVault.NotYetProtected,
            CertificateAuthorityPath = string.IsNullOrWhiteSpace(CertificatePath) ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(CertificatePath),
            SkipCertificateCheck = SkipCertificateCheck,
            RequestTimeout = TimeSpan.FromSeconds(TimeoutSec),
            PageSize = PageSize,
            KeepAlive = KeepAlive,
            TiebreakerField = string.IsNullOrWhiteSpace(TiebreakerField) ? null : TiebreakerField,
            ReadMode = Enum.Parse<OpenSearchReadMode>(ReadMode, ignoreCase: true),
            MaxRetries = MaxRetries,
            IndexMap = IndexMap?.Cast<DictionaryEntry>().ToDictionary(e => e.Key.ToString()!, e => e.Value?.ToString() ?? "", StringComparer.Ordinal)
                       ?? new Dictionary<string, string>(),
        };
        settings.Validate();
        if (SkipCertificateCheck)
            WriteWarning($"Source '{Name}' will not verify the cluster's TLS certificate: anyone on the network path can read the exported data. Prefer -CertificatePath with the cluster's CA.");
        if (!ShouldProcess(Name, $"Register OpenSearch source at {string.Join(", ", Uri.Select(u => u.ToString()))}")) return;
        // Protected only now, so -WhatIf writes no master key and the plain secret lives for one statement.
        if (secret is not null) settings = settings with { ProtectedSecret = service.Vault.Protect(new NetworkCredential("", secret).Password) };
        service.Sources.Register(settings, Force);
        WriteObject(SourceViews.ToInfo(service, settings));
    });
}
