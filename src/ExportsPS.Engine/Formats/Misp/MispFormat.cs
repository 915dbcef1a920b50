using System.Globalization;
using System.Text;
using System.Text.Json;
using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Json;

namespace ExportsPS.Engine.Formats.Misp;

/// <summary>misp: every matching attribute in ONE MISP event named after the export, even when the
/// attributes come from different source events. Attribute hits contribute themselves; event hits
/// ({"Event":{…}} or a bare event) contribute their attributes, and their objects with theirs, each
/// attribute also tagged with the source event's tags (its TLP would be lost with the event). Streams:
/// attributes go straight out; objects are spooled to a temp file and appended after the attribute
/// array, so memory stays flat at any count.
/// Event fields: info = export name, distribution = -Distribution, threat_level_id 4 (undefined),
/// analysis 2 (completed), date = the run's UTC date, timestamp = the run's time, published false.</summary>
public sealed class MispFormat : ExportFormat
{
    public override string? ContinueUnsupportedReason => "a MISP event holds its objects apart until the run ends (they close the event), so a partial event cannot be continued";

    public override string Name => "misp";
    public override string FileExtension => "misp.json";
    public override string Description => "One MISP event (named after the export) holding every matching attribute and object.";

    public override void Validate(ExportDefinition export) => MispDistribution.Parse(export.FormatOptions, Name);

    public override IRecordFormatter CreateWriter(Stream output, FormatContext context) =>
        new Writer(output, context, MispDistribution.Parse(context.Export.FormatOptions, Name));

    /// <summary>The event's attributes, then its objects' attributes (each with object_relation).</summary>
    public override IEnumerable<JsonElement> ReadRecords(Stream input, CancellationToken cancellationToken)
    {
        foreach (var (path, element) in JsonArrayStreamer.Read(input, new HashSet<string> { "Event.Attribute", "Event.Object" }, cancellationToken))
        {
            if (path == "Event.Attribute") { yield return element; continue; }
            if (element.TryGetProperty("Attribute", out var attributes) && attributes.ValueKind == JsonValueKind.Array)
                foreach (var attribute in attributes.EnumerateArray()) yield return attribute;
        }
    }

    sealed class Writer : IRecordFormatter
    {
        readonly Stream _output;
        readonly FormatContext _context;
        readonly string _distribution;
        readonly Utf8JsonWriter _json;
        string? _objectsPath;
        FileStream? _objects;
        Utf8JsonWriter? _objectsJson;
        long _record;

        public Writer(Stream output, FormatContext context, string distribution)
        {
            _output = output;
            _context = context;
            _distribution = distribution;
            _json = new Utf8JsonWriter(output, JsonWriting.Relaxed);
        }

        public void WriteStart()
        {
            var now = DateTimeOffset.UtcNow;
            _output.Write("{\"Event\":"u8);
            _json.WriteStartObject();
            _json.WriteString("info", _context.Export.Name);
            _json.WriteString("distribution", _distribution);
            _json.WriteString("threat_level_id", "4");
            _json.WriteString("analysis", "2");
            _json.WriteString("date", now.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            _json.WriteString("timestamp", now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
            _json.WriteBoolean("published", false);
            _json.WriteStartArray("Attribute");
            _json.Flush();
        }

        public void WriteRecord(ReadOnlySpan<byte> sourceJson)
        {
            _record++;
            var reader = new Utf8JsonReader(JsonText.ValidUtf8(sourceJson));
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            var evt = MispAttributeMapper.EventOf(root);
            if (evt is null)
            {
                WriteAttribute(root, null, $"record {_record}");
                return;
            }
            if (evt.Value.TryGetProperty("Attribute", out var attributes) && attributes.ValueKind == JsonValueKind.Array)
                foreach (var attribute in attributes.EnumerateArray()) WriteAttribute(attribute, evt, $"record {_record} (event)");
            if (evt.Value.TryGetProperty("Object", out var objects) && objects.ValueKind == JsonValueKind.Array)
                foreach (var item in objects.EnumerateArray()) SpoolObject(item, evt.Value);
        }

        /// <summary>The writer stays inside the Attribute array across records, so it places the commas.</summary>
        void WriteAttribute(JsonElement attribute, JsonElement? sourceEvent, string where)
        {
            MispAttributeMapper.Write(_json, attribute, sourceEvent, _context.Warn, where);
            _json.Flush();
        }

        void SpoolObject(JsonElement item, JsonElement sourceEvent)
        {
            if (_objects is null)
            {
                _objectsPath = Path.Combine(Path.GetTempPath(), $"exportsps-misp-objects-{Guid.NewGuid():N}.json");
                _objects = new FileStream(_objectsPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
                _objectsJson = new Utf8JsonWriter(_objects, JsonWriting.Relaxed);
                _objectsJson.WriteStartArray();
            }
            var json = _objectsJson!;
            json.WriteStartObject();
            foreach (var field in new[] { "name", "meta-category", "description", "template_uuid", "template_version", "comment", "distribution", "timestamp", "first_seen", "last_seen" })
            {
                if (MispAttributeMapper.Text(item, field) is not { } value) continue;
                if (field is "first_seen" or "last_seen")
                {
                    if (MispAttributeMapper.TryMispTime(item.GetProperty(field), out var formatted)) json.WriteString(field, formatted);
                    continue;
                }
                json.WriteString(field, field == "distribution" ? MispDistribution.Portable(value) : value);
            }
            json.WriteStartArray("Attribute");
            if (item.TryGetProperty("Attribute", out var attributes) && attributes.ValueKind == JsonValueKind.Array)
                foreach (var attribute in attributes.EnumerateArray())
                    MispAttributeMapper.Write(json, attribute, sourceEvent, _context.Warn, $"record {_record} (object {MispAttributeMapper.Text(item, "name")})");
            json.WriteEndArray();
            json.WriteEndObject();
            json.Flush();
        }

        public void WriteEnd()
        {
            _json.Flush();
            _output.Write("]"u8);
            if (_objects is not null)
            {
                _objectsJson!.WriteEndArray();
                _objectsJson.Flush();
                _output.Write(",\"Object\":"u8);
                _objects.Position = 0;
                _objects.CopyTo(_output);
            }
            _output.Write("}}\n"u8);
        }

        public void Dispose()
        {
            _json.Dispose();
            _objectsJson?.Dispose();
            _objects?.Dispose();
        }
    }
}
