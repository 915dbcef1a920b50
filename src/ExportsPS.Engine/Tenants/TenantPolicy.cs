using System.Text.Json;
using ExportsPS.Engine.Exports;

namespace ExportsPS.Engine.Tenants;

/// <summary>Per-tenant governance: how many runs may execute at once (the rest stay queued until a slot
/// frees) and how many compressed bytes its runs may produce per calendar month (UTC, resetting on the 1st).
/// Stored in the catalog's registrations (kind "tenant"); unconfigured tenants get the defaults.</summary>
public sealed record TenantPolicy
{
    public const string RegistrationKind = "tenant";
    public const int DefaultConcurrencyLimit = 1;
    public const long DefaultMonthlyQuotaBytes = 10L * 1024 * 1024 * 1024;

    public required string Tenant { get; init; }
    public int ConcurrencyLimit { get; init; } = DefaultConcurrencyLimit;
    public long MonthlyQuotaBytes { get; init; } = DefaultMonthlyQuotaBytes;

    public static DateTimeOffset MonthStart(DateTimeOffset now) => new(now.UtcDateTime.Year, now.UtcDateTime.Month, 1, 0, 0, 0, TimeSpan.Zero);

    public static TenantPolicy Load(Catalog.IExportCatalog catalog, string tenant) =>
        catalog.FindRegistration(RegistrationKind, tenant) is { } json
            ? JsonSerializer.Deserialize<TenantPolicy>(json)! with { Tenant = tenant }
            : new TenantPolicy { Tenant = tenant };

    public void Save(Catalog.IExportCatalog catalog)
    {
        if (ConcurrencyLimit < 1)
            throw new ExportException(ExportErrorCode.InvalidOption, $"The concurrency limit of tenant '{Tenant}' must be at least 1.", ConcurrencyLimit);
        if (MonthlyQuotaBytes < 0)
            throw new ExportException(ExportErrorCode.InvalidOption, $"The monthly quota of tenant '{Tenant}' cannot be negative.", MonthlyQuotaBytes);
        catalog.SaveRegistration(RegistrationKind, Tenant, JsonSerializer.Serialize(this));
    }
}
