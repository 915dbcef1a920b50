using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Json;

namespace ExportsPS.Engine.Formats.Stix;

/// <summary>stix: a STIX 2.1 bundle. Attributes are grouped into their source events (by event_uuid, in
/// first-seen order; attributes without one form one extra group); each group becomes a report created by
/// one identity (the exporting organisation), and each attribute becomes, following misp-stix:
/// to_ids → an indicator with a STIX pattern; otherwise observed-data with its cyber observables;
/// vulnerability → a vulnerability; text, comment and any type without a mapping → a custom
/// x-misp-attribute object (never dropped). MISP type, category, to_ids and tags (the attribute's and its
/// source event's) become labels; TLP tags also become markings (<see cref="TlpMarking"/>).
/// Ids are UUIDv5 from the source uuid (a report's from its content), so re-running on the same data yields the same ids;
/// an observable's is STIX's own (<see cref="ObservableIds"/>).
/// Capped (default 10,000 records, FormatOptions "stixMaxRecords") before conversion.</summary>
public sealed class StixFormat : ExportFormat
{
    public override string? ContinueUnsupportedReason => "a STIX bundle is converted whole (at most 10,000 records), so a partial bundle cannot be continued";

    public const int DefaultMaxRecords = 10_000;
    public const string MaxRecordsOption = "stixMaxRecords";
    public const string IdentityOption = "stixIdentity";

    public override string Name => "stix";
    public override string FileExtension => "stix.json";
    public override string Description => "A STIX 2.1 bundle: one report per source event; indicators, observed data, vulnerabilities.";

    public override long? MaxRecords(ExportDefinition export) =>
        export.FormatOptions.TryGetValue(MaxRecordsOption, out var text) && long.TryParse(text, out var max) ? max : DefaultMaxRecords;

    public override void Validate(ExportDefinition export)
    {
        if (export.FormatOptions.TryGetValue(MaxRecordsOption, out var text) && !(long.TryParse(text, out var max) && max > 0))
            throw new ExportException(ExportErrorCode.InvalidOption, $"The STIX record cap '{text}' must be a whole number above 0.", text);
    }

    public override IRecordFormatter CreateWriter(Stream output, FormatContext context) => new StixWriter(output, context);

    public override IEnumerable<JsonElement> ReadRecords(Stream input, CancellationToken cancellationToken) =>
        JsonArrayStreamer.Read(input, new HashSet<string> { "objects" }, cancellationToken).Select(x => x.Element);

    /// <summary>UUIDv5 (SHA-1, RFC 9562) in the STIX namespace from misp-stix's convention of naming by source uuid.</summary>
    public static string DeterministicId(string type, string name)
    {
        var ns = new Guid("00abedb4-aa42-466c-9c01-fed23315a9b7").ToByteArray(bigEndian: true);
        var hash = SHA1.HashData([.. ns, .. Encoding.UTF8.GetBytes(name)]);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return $"{type}--{new Guid(hash.AsSpan(0, 16), bigEndian: true)}";
    }

    public static string Timestamp(DateTimeOffset value) =>
        value.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
