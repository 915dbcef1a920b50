using System.Text.RegularExpressions;
using ExportsPS.Engine.Catalog;
using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Secrets;

namespace ExportsPS.Engine.Storage.S3;

/// <summary>A registered S3-compatible bucket (catalog registration kind "storage"): AWS, MinIO, Garage,
/// Ceph. Credentials are an access key pair whose secret is held only <see cref="SecretVault"/>-protected,
/// a named shared-credentials profile, or nothing (the AWS SDK's default chain: environment, profile, role).</summary>
public sealed partial record S3StorageTarget
{
    public const string RegistrationKind = "storage";

    public required string Name { get; init; }
    public required string Bucket { get; init; }
    /// <summary>Key prefix inside the bucket ("exports/"); objects go to <c>&lt;prefix&gt;&lt;export&gt;/&lt;file&gt;</c>.
    /// A prefix without its trailing slash gets one: "exports" must not turn export "x" into key "exportsx/".</summary>
    public string Prefix
    {
        get => _prefix;
        init => _prefix = value is { Length: > 0 } && !value.EndsWith('/') ? value + "/" : value ?? "";
    }
    readonly string _prefix = "";
    /// <summary>The S3 endpoint for non-AWS servers (http://127.0.0.1:7480); null for AWS itself.</summary>
    public Uri? Endpoint { get; init; }
    public string Region { get; init; } = "us-east-1";
    /// <summary>bucket in the path (endpoint/bucket/key) instead of the host name; what most non-AWS servers need.</summary>
    public bool ForcePathStyle { get; init; } = true;
    public string? AccessKeyId { get; init; }
    public string? ProtectedSecretAccessKey { get; init; }
    public string? ProfileName { get; init; }
    /// <summary>Bytes per multipart part (5 MiB minimum); memory per upload is about part size × (parts in flight + 1).</summary>
    public int PartSize { get; init; } = 8 * 1024 * 1024;
    public int PartsInFlight { get; init; } = 3;
    /// <summary>Lets encrypted exports send their keys to an http endpoint on another machine (a network the user trusts).</summary>
    public bool AllowKeysOverHttp { get; init; }

    [GeneratedRegex(@"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")]
    private static partial Regex BucketPattern();

    /// <summary>Where the files are: the same location means the same keys, whatever the registration's name.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public (string? Endpoint, string Bucket, string Prefix) Location => (Endpoint?.GetLeftPart(UriPartial.Authority).ToLowerInvariant(), Bucket, Prefix);

    public string Describe() => Endpoint is null ? $"s3://{Bucket}/{Prefix}" : $"{Endpoint.GetLeftPart(UriPartial.Authority)}/{Bucket}/{Prefix}";

    public void Validate()
    {
        ExportNames.Validate(Name);
        if (string.Equals(Name, StorageNames.Local, StringComparison.OrdinalIgnoreCase))
            throw new ExportException(ExportErrorCode.InvalidName, "'local' is the built-in storage; choose another -Name.", Name);
        if (!BucketPattern().IsMatch(Bucket) || Bucket.Contains(".."))
            throw new ExportException(ExportErrorCode.InvalidOption,
                $"'{Bucket}' is not a valid bucket name: 3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit.", Bucket);
        if (Prefix.StartsWith('/') || Prefix.Contains("//") || Prefix.Contains(".."))
            throw new ExportException(ExportErrorCode.InvalidOption, $"-Prefix '{Prefix}' must be a relative key prefix such as exports/ (no leading /, no // or ..).", Prefix);
        if (Endpoint is not null)
        {
            if (!Endpoint.IsAbsoluteUri || (Endpoint.Scheme != Uri.UriSchemeHttp && Endpoint.Scheme != Uri.UriSchemeHttps))
                throw new ExportException(ExportErrorCode.InvalidOption,
                    $"-Endpoint '{Endpoint}' must be an http(s) URL such as https://s3.example.net or http://127.0.0.1:9000.", Endpoint.ToString());
            if (!string.IsNullOrEmpty(Endpoint.UserInfo))
                throw new ExportException(ExportErrorCode.InvalidOption, "Put credentials in -Credential, not in the endpoint URL.", Endpoint.Host);
        }
        if (string.IsNullOrWhiteSpace(Region))
            throw new ExportException(ExportErrorCode.InvalidOption, "-Region is empty; use the bucket's region (us-east-1 for most S3-compatible servers).");
        if (AccessKeyId is not null && ProfileName is not null)
            throw new ExportException(ExportErrorCode.InvalidOption, "Give an access key (-Credential) or -ProfileName, not both.", ProfileName);
        if ((AccessKeyId is null) != (ProtectedSecretAccessKey is null))
            throw new ExportException(ExportErrorCode.InvalidOption, "Give both the access key id and the secret access key (-Credential), or neither.");
        if (ProtectedSecretAccessKey is not null && !SecretVault.IsProtected(ProtectedSecretAccessKey))
            throw new ExportException(ExportErrorCode.InvalidOption, "The secret access key must be stored protected.");
        if (PartSize < 5 * 1024 * 1024 || PartSize > 512 * 1024 * 1024)
            throw new ExportException(ExportErrorCode.InvalidOption, "-PartSizeMB must be between 5 and 512.", PartSize);
        if (PartsInFlight is < 1 or > 16)
            throw new ExportException(ExportErrorCode.InvalidOption, "Parts in flight must be between 1 and 16.", PartsInFlight);
    }

    /// <summary>SSE-C sends an encrypted export's key in the headers of every request: over plain http to another
    /// machine anyone on the network path could read it (AWS and MinIO refuse such requests; Ceph and Garage can be
    /// set to take them). A loopback endpoint, where the key never leaves the machine, needs no opt-in.</summary>
    public void CheckKeyTransport(string exportName)
    {
        if (Endpoint is { } endpoint && endpoint.Scheme == Uri.UriSchemeHttp && !endpoint.IsLoopback && !AllowKeysOverHttp)
            throw new ExportException(ExportErrorCode.InvalidOption,
                $"Export '{exportName}' is encrypted, and storage '{Name}' is at {endpoint.GetLeftPart(UriPartial.Authority)} over plain http: " +
                "its key would travel in the clear in every request. Register the storage with an https -Endpoint, " +
                "or (on a network you trust) again with -AllowKeysOverHttp.", Name);
    }

    public static S3StorageTarget? Load(IExportCatalog catalog, string name) => Registrations.Load<S3StorageTarget>(catalog, RegistrationKind, name);

    public static IReadOnlyList<S3StorageTarget> List(IExportCatalog catalog) => Registrations.List<S3StorageTarget>(catalog, RegistrationKind);

    public void Save(IExportCatalog catalog)
    {
        Validate();
        Registrations.Save(catalog, RegistrationKind, Name, this);
    }

    /// <summary>Never shows the secret, not even protected.</summary>
    public override string ToString() => $"{Name} ({Describe()})";
}
