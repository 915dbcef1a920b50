using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ExportsPS.Engine.Json;
using ExportsPS.Engine.Formats.Misp;

namespace ExportsPS.Engine.Formats.Stix;

/// <summary>Writes the bundle: the identity first, each attribute's objects as they arrive, and one report
/// per source event at the end (its object_refs need every member; the 10,000 cap bounds that list).</summary>
internal sealed class StixWriter : IRecordFormatter
{
    readonly Utf8JsonWriter _json;
    readonly FormatContext _context;
    readonly string _identity;
    readonly string _now;
    readonly List<Group> _groups = new();
    readonly Dictionary<string, Group> _byEvent = new(StringComparer.Ordinal);
    readonly HashSet<string> _writtenObservables = new(StringComparer.Ordinal);
    /// <summary>The SDOs written so far, by id, with their timestamp; the record cap bounds it.</summary>
    readonly Dictionary<string, string> _writtenSdos = new(StringComparer.Ordinal);
    long _record;

    sealed class Group(string key, string? eventUuid)
    {
        public readonly string Key = key;
        public readonly string? EventUuid = eventUuid;
        public string? Info;
        /// <summary>Each member's id and timestamp (its created and modified), in first-seen order, each id once.</summary>
        public readonly List<(string Id, string Timestamp)> Refs = new();
        public readonly HashSet<string> RefIds = new(StringComparer.Ordinal);
        public readonly List<string> EventTags = new();
    }

    public StixWriter(Stream output, FormatContext context)
    {
        _json = new Utf8JsonWriter(output, JsonWriting.Relaxed);
        _context = context;
        var organisation = context.Export.FormatOptions.TryGetValue(StixFormat.IdentityOption, out var name) ? name : "ExportsPS";
        _identity = StixFormat.DeterministicId("identity", "organisation:" + organisation);
        _now = StixFormat.Timestamp(DateTimeOffset.UtcNow);
        _organisation = organisation;
    }

    readonly string _organisation;

    public void WriteStart()
    {
        _json.WriteStartObject();
        _json.WriteString("type", "bundle");
        _json.WriteString("id", StixFormat.DeterministicId("bundle", "export:" + _context.Export.Name + ":" + _now));
        _json.WriteStartArray("objects");
        _json.WriteStartObject();
        Common("identity", _identity, Epoch);
        _json.WriteString("name", _organisation);
        _json.WriteString("identity_class", "organization");
        _json.WriteEndObject();
    }

    const string Epoch = "1970-01-01T00:00:00.000Z";

    void Common(string type, string id, string created)
    {
        _json.WriteString("type", type);
        _json.WriteString("spec_version", "2.1");
        _json.WriteString("id", id);
        _json.WriteString("created", created);
        _json.WriteString("modified", created);
    }

    public void WriteRecord(ReadOnlySpan<byte> sourceJson)
    {
        _record++;
        var reader = new Utf8JsonReader(JsonText.ValidUtf8(sourceJson));
        using var document = JsonDocument.ParseValue(ref reader);
        var root = document.RootElement;
        var evt = MispAttributeMapper.EventOf(root);
        if (evt is { } e)
        {
            var eventUuid = MispAttributeMapper.Text(e, "uuid");
            var info = MispAttributeMapper.Text(e, "info");
            if (e.TryGetProperty("Attribute", out var attributes) && attributes.ValueKind == JsonValueKind.Array)
                foreach (var attribute in attributes.EnumerateArray())
                    Attribute(attribute, eventUuid, info, e);
            // Object attributes join the event's report like plain attributes, so nothing in an event is dropped.
            if (e.TryGetProperty("Object", out var objects) && objects.ValueKind == JsonValueKind.Array)
                foreach (var item in objects.EnumerateArray())
                    if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("Attribute", out var objectAttributes) && objectAttributes.ValueKind == JsonValueKind.Array)
                        foreach (var attribute in objectAttributes.EnumerateArray())
                            Attribute(attribute, eventUuid, info, e);
            var group = GroupOf(eventUuid, info);
            foreach (var (name, _) in MispAttributeMapper.Tags(e))
                if (!group.EventTags.Contains(name)) group.EventTags.Add(name);
            _json.Flush();
            return;
        }
        var (summaryUuid, summaryInfo) = MispAttributeMapper.EventSummaryOf(root);
        Attribute(root, summaryUuid, summaryInfo, null);
        _json.Flush(); // hand each record's objects to the stream; the writer must not buffer the bundle
    }

    void Attribute(JsonElement attribute, string? eventUuid, string? eventInfo, JsonElement? sourceEvent)
    {
        var type = MispAttributeMapper.Text(attribute, "type");
        var value = MispAttributeMapper.Text(attribute, "value");
        if (string.IsNullOrEmpty(type) || string.IsNullOrEmpty(value))
        {
            _context.Warn($"record {_record}: skipped an attribute without type or value.");
            return;
        }
        var firstSeen = Seen(attribute, "first_seen", type, value);
        var lastSeen = Seen(attribute, "last_seen", type, value);
        if (!MispAttributeMapper.TryTimestamp(attribute, out var timestamp))
            _context.Warn($"record {_record}: timestamp '{attribute.GetProperty("timestamp")}' of {type} attribute '{value}' is not epoch seconds; the run's time is used instead.");
        var group = GroupOf(eventUuid, eventInfo);
        var source = MispAttributeMapper.Text(attribute, "uuid") ?? $"{eventUuid}|{type}|{value}";
        var created = timestamp is { } instant ? StixFormat.Timestamp(instant) : _now;
        var toIds = MispAttributeMapper.ToIds(attribute);
        var (normalised, problem) = StixObservables.Normalise(type, value);
        if (problem is not null)
            _context.Warn($"record {_record}: {type} attribute '{value}' {problem}; kept as an x-misp-attribute, not as a STIX {(type == "vulnerability" ? "vulnerability" : toIds ? "indicator" : "observable")}.");
        var pattern = normalised is not null && toIds && type != "vulnerability" ? StixPatterns.For(type, normalised) : null;
        var observables = normalised is null || type == "vulnerability" || pattern is not null ? null : StixObservables.For(type, normalised);
        var kind = normalised is null ? "x-misp-attribute"
            : type == "vulnerability" ? "vulnerability" : pattern is not null ? "indicator" : observables is not null ? "observed-data" : "x-misp-attribute";
        var id = StixFormat.DeterministicId(kind, source);
        // A repeat of a source (one attribute in two hits; a uuid-less one repeated in its event, whose id
        // is its event, type and value) is the same STIX object: written once, as first seen, and referenced
        // once per report. Two objects under one id and modified would contradict each other.
        if (_writtenSdos.TryGetValue(id, out var writtenCreated))
        {
            if (group.RefIds.Add(id)) group.Refs.Add((id, writtenCreated));
            return;
        }
        _writtenSdos[id] = created;
        group.RefIds.Add(id);
        group.Refs.Add((id, created));
        var labels = Labels(attribute, sourceEvent, type, toIds);
        DefineMarkings(labels);
        if (kind == "vulnerability") Vulnerability(id, value, normalised!, created, labels, attribute);
        else if (pattern is not null) Indicator(id, type, pattern, created, firstSeen, lastSeen, labels, attribute);
        else if (observables is not null) ObservedData(id, observables, created, firstSeen, lastSeen, labels);
        else Custom(id, type, value, created, labels, attribute);
    }

    /// <summary>The attribute's first_seen or last_seen as a STIX timestamp; null when it has none, or holds
    /// something that is no time (a warning: the attribute's timestamp stands in).</summary>
    string? Seen(JsonElement attribute, string field, string type, string value)
    {
        if (!attribute.TryGetProperty(field, out var raw) || raw.ValueKind == JsonValueKind.Null) return null;
        if (MispAttributeMapper.TrySeenTime(raw, out var instant)) return StixFormat.Timestamp(instant);
        _context.Warn($"record {_record}: {field} '{raw}' of {type} attribute '{value}' is not epoch seconds, epoch milliseconds or ISO-8601; the attribute's timestamp is used instead.");
        return null;
    }

    Group GroupOf(string? eventUuid, string? info)
    {
        var key = eventUuid ?? "";
        if (!_byEvent.TryGetValue(key, out var group))
        {
            _byEvent[key] = group = new Group(key, eventUuid);
            _groups.Add(group);
        }
        group.Info ??= info;
        return group;
    }

    /// <summary>MISP type, category and to_ids, then the attribute's tags and its source event's: each object
    /// stands alone in a bundle, so an event's TLP or other marking must travel with it.</summary>
    List<string> Labels(JsonElement attribute, JsonElement? sourceEvent, string type, bool toIds)
    {
        var labels = new List<string> { $"misp:type=\"{type}\"" };
        if (MispAttributeMapper.Text(attribute, "category") is { } category) labels.Add($"misp:category=\"{category}\"");
        labels.Add($"misp:to_ids=\"{(toIds ? "True" : "False")}\"");
        foreach (var (name, _) in MispAttributeMapper.Tags(attribute).Concat(sourceEvent is { } e ? MispAttributeMapper.Tags(e) : []))
            if (!labels.Contains(name)) labels.Add(name);
        return labels;
    }

    /// <summary>The labels, and the TLP markings among them as references to STIX's own TLP marking definitions,
    /// which consumers enforce (a label they only display).</summary>
    void Labels(List<string> labels)
    {
        _json.WriteStartArray("labels");
        foreach (var label in labels) _json.WriteStringValue(label);
        _json.WriteEndArray();
        var markings = TlpMarking.Of(labels);
        if (markings.Count == 0) return;
        _json.WriteStartArray("object_marking_refs");
        foreach (var marking in markings) _json.WriteStringValue(marking.Id);
        _json.WriteEndArray();
    }

    readonly HashSet<TlpMarking> _definedMarkings = new();

    /// <summary>Writes the definitions of the TLP markings <paramref name="labels"/> refer to, each once, before the
    /// object that refers to them, so the bundle carries every marking it uses.</summary>
    void DefineMarkings(IEnumerable<string> labels)
    {
        foreach (var marking in TlpMarking.Of(labels))
            if (_definedMarkings.Add(marking)) marking.Write(_json);
    }

    void Description(JsonElement attribute)
    {
        if (MispAttributeMapper.Text(attribute, "comment") is { Length: > 0 } comment) _json.WriteString("description", comment);
    }

    /// <summary>An indicator valid from first_seen (else the attribute's timestamp) until last_seen, as misp-stix maps them.</summary>
    void Indicator(string id, string type, string pattern, string created, string? firstSeen, string? lastSeen, List<string> labels, JsonElement attribute)
    {
        // STIX requires valid_until after valid_from: first and last given the wrong way round are swapped (as
        // for observed-data; same format, they compare as text), and a last_seen not after the start is left
        // out rather than declaring an indicator that was never valid.
        var validFrom = firstSeen ?? created;
        var validUntil = lastSeen;
        if (firstSeen is not null && lastSeen is not null && string.CompareOrdinal(lastSeen, firstSeen) < 0) (validFrom, validUntil) = (lastSeen, firstSeen);
        if (validUntil is not null && string.CompareOrdinal(validUntil, validFrom) <= 0) validUntil = null;
        _json.WriteStartObject();
        Common("indicator", id, created);
        _json.WriteString("created_by_ref", _identity);
        _json.WriteString("name", $"{type} attribute");
        Description(attribute);
        _json.WriteString("pattern", pattern);
        _json.WriteString("pattern_type", "stix");
        _json.WriteString("pattern_version", "2.1");
        _json.WriteString("valid_from", validFrom);
        if (validUntil is not null) _json.WriteString("valid_until", validUntil);
        if (MispAttributeMapper.Text(attribute, "category") is { } category)
        {
            _json.WriteStartArray("kill_chain_phases");
            _json.WriteStartObject();
            _json.WriteString("kill_chain_name", "misp-category");
            _json.WriteString("phase_name", category);
            _json.WriteEndObject();
            _json.WriteEndArray();
        }
        Labels(labels);
        _json.WriteEndObject();
    }

    /// <summary>A vulnerability named as in MISP; a CVE id (normalised) also becomes its external reference.</summary>
    void Vulnerability(string id, string value, string normalised, string created, List<string> labels, JsonElement attribute)
    {
        _json.WriteStartObject();
        Common("vulnerability", id, created);
        _json.WriteString("created_by_ref", _identity);
        _json.WriteString("name", value);
        Description(attribute);
        if (normalised.StartsWith("CVE-", StringComparison.Ordinal))
        {
            _json.WriteStartArray("external_references");
            _json.WriteStartObject();
            _json.WriteString("source_name", "cve");
            _json.WriteString("external_id", normalised);
            _json.WriteEndObject();
            _json.WriteEndArray();
        }
        Labels(labels);
        _json.WriteEndObject();
    }

    void Custom(string id, string type, string value, string created, List<string> labels, JsonElement attribute)
    {
        _json.WriteStartObject();
        // Shaped like a custom observable (no created/modified): the OASIS bundle schema accepts a custom
        // object only when exactly one of core / cyber-observable-core matches, and an SDO-shaped one matches both.
        _json.WriteString("type", "x-misp-attribute");
        _json.WriteString("spec_version", "2.1");
        _json.WriteString("id", id);
        _json.WriteString("x_misp_type", type);
        _json.WriteString("x_misp_value", value);
        if (MispAttributeMapper.Text(attribute, "category") is { } category) _json.WriteString("x_misp_category", category);
        if (MispAttributeMapper.Text(attribute, "comment") is { Length: > 0 } comment) _json.WriteString("x_misp_comment", comment);
        Labels(labels);
        _json.WriteEndObject();
    }

    /// <summary>observed-data and those of its SCOs not yet written.</summary>
    void ObservedData(string id, List<Observable> observables, string created, string? firstSeen, string? lastSeen, List<string> labels)
    {
        foreach (var observable in observables)
            if (_writtenObservables.Add(observable.Id)) observable.Write(_json);
        // STIX requires last_observed >= first_observed. A lone last_seen before the attribute's timestamp opens the
        // span itself; first and last given the wrong way round are swapped (same format: they compare as text).
        var first = firstSeen ?? created;
        var last = lastSeen ?? first;
        if (string.CompareOrdinal(last, first) < 0) (first, last) = firstSeen is null ? (last, last) : (last, first);
        _json.WriteStartObject();
        Common("observed-data", id, created);
        _json.WriteString("created_by_ref", _identity);
        _json.WriteString("first_observed", first);
        _json.WriteString("last_observed", last);
        _json.WriteNumber("number_observed", 1);
        _json.WriteStartArray("object_refs");
        foreach (var observable in observables) _json.WriteStringValue(observable.Id);
        _json.WriteEndArray();
        Labels(labels);
        _json.WriteEndObject();
    }

    public void WriteEnd()
    {
        foreach (var group in _groups.Where(g => g.Refs.Count > 0))
        {
            var name = group.Info ?? (group.EventUuid is null ? $"{_context.Export.Name}: attributes without an event" : $"MISP event {group.EventUuid}");
            var (id, created, modified) = ReportVersion(group, name);
            DefineMarkings(group.EventTags);
            _json.WriteStartObject();
            _json.WriteString("type", "report");
            _json.WriteString("spec_version", "2.1");
            _json.WriteString("id", id);
            _json.WriteString("created", created);
            _json.WriteString("modified", modified);
            _json.WriteString("created_by_ref", _identity);
            _json.WriteString("name", name);
            _json.WriteString("published", modified);
            _json.WriteStartArray("report_types");
            _json.WriteStringValue("threat-report");
            _json.WriteEndArray();
            _json.WriteStartArray("object_refs");
            foreach (var (reference, _) in group.Refs) _json.WriteStringValue(reference);
            _json.WriteEndArray();
            if (group.EventUuid is not null || group.EventTags.Count > 0)
                Labels(group.EventUuid is null ? group.EventTags : ["misp:name=\"misp-event\"", .. group.EventTags]);
            _json.WriteEndObject();
        }
        _json.WriteEndArray();
        _json.WriteEndObject();
        _json.Flush();
    }

    /// <summary>A report's id is a digest of what it says: its event, name, and members with their timestamps.
    /// One run cannot know what an earlier run wrote, so it cannot keep STIX's versioning rules for an id it
    /// reuses (created unchanged, modified later whenever anything changes): two runs selecting different
    /// attributes of one event wrote one id with one modified and different object_refs, and every
    /// attribute without an event shared one id per export. Now different content is a different report,
    /// and the same content re-run is the same report, with the same id, created and modified.
    /// created/modified span the members' timestamps, so a report is never older than what it holds.</summary>
    (string Id, string Created, string Modified) ReportVersion(Group group, string name)
    {
        var content = new StringBuilder(group.EventUuid is null ? "ungrouped\n" : "event:" + group.EventUuid + "\n").Append(name);
        foreach (var (id, timestamp) in group.Refs.OrderBy(r => r.Id, StringComparer.Ordinal)) content.Append('\n').Append(id).Append(' ').Append(timestamp);
        var digest = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(content.ToString())));
        // Timestamps share one fixed-width format, so they order as text.
        var timestamps = group.Refs.Select(r => r.Timestamp).ToList();
        return (StixFormat.DeterministicId("report", "content:" + digest), timestamps.Min(StringComparer.Ordinal)!, timestamps.Max(StringComparer.Ordinal)!);
    }

    public void Dispose() => _json.Dispose();
}
