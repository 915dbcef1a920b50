using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Storage.S3;

namespace ExportsPS.Internal;

/// <summary>Storage targets as the cmdlets show them: never a secret, only which credentials are used.</summary>
internal static class StorageViews
{
    public static ExportStorageInfo ToInfo(ExportService service, S3StorageTarget target) => new()
    {
        Name = target.Name,
        Kind = "S3",
        Location = target.Describe(),
        Bucket = target.Bucket,
        Prefix = target.Prefix,
        Endpoint = target.Endpoint?.ToString(),
        Region = target.Region,
        Credentials = target.AccessKeyId is { } id ? $"access key {id}" : target.ProfileName is { } profile ? $"profile {profile}" : "AWS default chain",
        PartSizeMB = target.PartSize / (1024 * 1024),
        AllowKeysOverHttp = target.AllowKeysOverHttp,
        UsedBy = UsersOf(service, target.Name),
    };

    public static ExportStorageInfo Local(ExportService service) => new()
    {
        Name = StorageNames.Local,
        Kind = "Local",
        Location = service.Home.ExportsFolder,
        UsedBy = UsersOf(service, StorageNames.Local),
    };

    static string[] UsersOf(ExportService service, string name) =>
        Engine.Catalog.Registrations.UsedBy(service.Catalog, e => e.Storage, name).ToArray();
}
