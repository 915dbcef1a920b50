using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Formats;
using ExportsPS.Engine.Formats.Misp;
using ExportsPS.Engine.Formats.Stix;
using ExportsPS.Engine.Runs;
using ExportsPS.Engine.Sample;

namespace ExportsPS.Engine.Tests;

public sealed class ThreatIntelFormatTests
{
    internal static readonly ExportDefinition Export = new()
    {
        Name = "intel", Query = "*", Format = "misp",
        FormatOptions = new Dictionary<string, string> { ["distribution"] = "Community" },
    };

    static (string Output, List<string> Warnings) Write(ExportFormat format, ExportDefinition export, params string[] records)
    {
        var warnings = new List<string>();
        using var output = new MemoryStream();
        using (var writer = format.CreateWriter(output, new FormatContext(export, [], warnings.Add)))
        {
            writer.WriteStart();
            foreach (var record in records) writer.WriteRecord(Encoding.UTF8.GetBytes(record));
            writer.WriteEnd();
        }
        return (Encoding.UTF8.GetString(output.ToArray()), warnings);
    }

    internal const string IpAttribute = """{"uuid":"5f0c4d1e-0000-4000-8000-000000000001","event_uuid":"e1","event_info":"Phishing wave","id":"77","type":"ip-dst","category":"Network activity","value":"203.0.113.5","to_ids":true,"timestamp":1718755200,"first_seen":1718755200,"last_seen":"2026-06-19T10:00:00Z","comment":null,"tags":["tlp:white","malware:emotet"]}""";

    internal static readonly string EventDocument = """
        {"Event":{"uuid":"e2","id":"9","info":"Source event","Attribute":[{"uuid":"a-1","id":"1","type":"domain","category":"Network activity","value":"bad.example","to_ids":false,"Tag":[{"name":"osint","colour":"#004646"}]}],
         "Object":[{"uuid":"o-1","id":"3","name":"file","meta-category":"file","first_seen":1718755200000,"Attribute":[{"uuid":"oa-1","id":"4","type":"md5","object_relation":"md5","category":"Payload delivery","value":"d41d8cd98f00b204e9800998ecf8427e","to_ids":true},{"uuid":"oa-2","type":"filename","object_relation":"filename","value":"a.exe"}]}]}}
        """.Replace("\n", "");

    [Fact]
    public void Misp_puts_every_attribute_into_one_event_named_after_the_export_without_ids()
    {
        var (output, warnings) = Write(new MispFormat(), Export, IpAttribute, EventDocument);
        Assert.Empty(warnings);
        using var doc = JsonDocument.Parse(output);
        var evt = doc.RootElement.GetProperty("Event");
        Assert.Equal("intel", evt.GetProperty("info").GetString());
        Assert.Equal("1", evt.GetProperty("distribution").GetString());
        var attributes = evt.GetProperty("Attribute").EnumerateArray().ToList();
        Assert.Equal(["ip-dst", "domain"], attributes.Select(a => a.GetProperty("type").GetString()));
        var objects = evt.GetProperty("Object").EnumerateArray().ToList();
        Assert.Single(objects);
        Assert.Equal(2, objects[0].GetProperty("Attribute").GetArrayLength());
        // No uuid or id anywhere: an import always creates fresh records.
        Assert.DoesNotMatch("\"(uuid|id|event_id)\"\\s*:", output);
        Assert.All(attributes, a => Assert.False(a.GetProperty("disable_correlation").GetBoolean()));
        Assert.Equal(["tlp:white", "malware:emotet"], attributes[0].GetProperty("Tag").EnumerateArray().Select(t => t.GetProperty("name").GetString()));
        Assert.Equal("#004646", attributes[1].GetProperty("Tag")[0].GetProperty("colour").GetString());
        Assert.False(attributes[0].TryGetProperty("comment", out _)); // nulls omitted
        Assert.Equal("object_relation", objects[0].GetProperty("Attribute")[0].EnumerateObject().Select(p => p.Name).First(n => n == "object_relation"));
    }

    [Theory]
    [InlineData("1718755200", "2024-06-19T00:00:00.000000+00:00")]        // epoch seconds
    [InlineData("1718755200123", "2024-06-19T00:00:00.123000+00:00")]     // epoch milliseconds
    [InlineData("\"2024-06-19T02:00:00+02:00\"", "2024-06-19T00:00:00.000000+00:00")] // ISO with offset
    [InlineData("\"2024-06-19\"", "2024-06-19T00:00:00.000000+00:00")]
    public void Misp_writes_first_seen_as_microsecond_iso_with_offset(string input, string expected)
    {
        var (output, _) = Write(new MispFormat(), Export, $$"""{"type":"domain","value":"x.example","first_seen":{{input}}}""");
        using var doc = JsonDocument.Parse(output);
        Assert.Equal(expected, doc.RootElement.GetProperty("Event").GetProperty("Attribute")[0].GetProperty("first_seen").GetString());
    }

    [Fact]
    public void Misp_reports_bad_records_as_warnings_and_keeps_going()
    {
        var (output, warnings) = Write(new MispFormat(), Export,
            """{"type":"domain"}""", """{"value":"x"}""", """{"type":"url","value":"https://a.example/","first_seen":"yesterday"}""");
        Assert.Equal(3, warnings.Count);
        Assert.Contains("without type or value", warnings[0]);
        Assert.Contains("first_seen 'yesterday'", warnings[2]);
        using var doc = JsonDocument.Parse(output);
        var only = Assert.Single(doc.RootElement.GetProperty("Event").GetProperty("Attribute").EnumerateArray());
        Assert.False(only.TryGetProperty("first_seen", out _));
    }

    /// <summary>Times beyond what a date holds (a corrupted field, nanoseconds taken for seconds) are one record's
    /// problem: warned about and left out, never an exception that fails the whole export.</summary>
    [Fact]
    public void Times_beyond_any_date_are_warned_about_not_fatal_in_misp_and_stix()
    {
        const string damaged = """{"uuid":"5f0c4d1e-0000-4000-8000-00000000000b","event_uuid":"e1","type":"domain","value":"far.example","to_ids":true,"timestamp":9000000000000000000,"first_seen":9000000000000000000,"last_seen":"-9223372036854775808"}""";

        var (misp, mispWarnings) = Write(new MispFormat(), Export, damaged);
        using var mispDocument = JsonDocument.Parse(misp);
        var attribute = mispDocument.RootElement.GetProperty("Event").GetProperty("Attribute")[0];
        Assert.False(attribute.TryGetProperty("first_seen", out _));
        Assert.False(attribute.TryGetProperty("last_seen", out _));
        Assert.False(attribute.TryGetProperty("timestamp", out _));
        Assert.Equal(3, mispWarnings.Count(w => w.Contains("is not epoch seconds")));

        var before = DateTimeOffset.UtcNow.AddMinutes(-1);
        var (stix, stixWarnings) = Write(new StixFormat(), StixExport, damaged);
        using var bundle = JsonDocument.Parse(stix);
        var indicator = bundle.RootElement.GetProperty("objects").EnumerateArray().Single(o => o.GetProperty("type").GetString() == "indicator");
        Assert.InRange(DateTimeOffset.Parse(indicator.GetProperty("created").GetString()!), before, DateTimeOffset.UtcNow.AddMinutes(1)); // the run's time
        Assert.Equal(3, stixWarnings.Count(w => w.Contains("is not epoch seconds")));
        AssertValid(stix);
    }

    [Theory]
    [InlineData(null, "needs a distribution level")]
    [InlineData("Everyone", "is not a MISP distribution level")]
    [InlineData("7", "is not a MISP distribution level")]
    // MISP refuses an event with 5 and an event with 4 but no sharing_group_id, which an export cannot name.
    [InlineData("5", "is for attributes and objects")]
    [InlineData("Inherit", "is for attributes and objects")]
    [InlineData("4", "needs the id of a sharing group")]
    [InlineData("SharingGroup", "needs the id of a sharing group")]
    public void Misp_requires_a_valid_distribution(string? distribution, string message)
    {
        var options = distribution is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["distribution"] = distribution };
        var error = Assert.Throws<ExportException>(() => new MispFormat().Validate(Export with { FormatOptions = options }));
        Assert.Equal(ExportErrorCode.InvalidOption, error.Code);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void Misp_output_of_generated_attributes_and_events_validates_against_the_lax_schema()
    {
        var records = SampleDataGenerator.Generate(SampleKind.Attributes, 500, 3, DateTimeOffset.UnixEpoch.AddYears(56), TimeSpan.FromDays(5))
            .Select(e => e.GetRawText()).Append(EventDocument).Append("""{"type":"comment","value":"only required fields"}""").ToArray();
        var (output, warnings) = Write(new MispFormat(), Export, records);
        Assert.Empty(warnings);
        var errors = SharedReference.Misp.Validate(output);
        Assert.True(errors.Count == 0, string.Join("\n", errors.Take(5)));
        // Shapes the lax schema does not check: first_seen/last_seen and objects.
        Assert.All(Regex.Matches(output, "\"(first|last)_seen\":\"([^\"]+)\"").Select(m => m.Groups[2].Value),
            v => Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$", v));
    }

    /// <summary>An attribute as MISP's attributes/restSearch returns it: type and value, with Event and Object summaries.</summary>
    const string RestSearchAttribute = """{"id":"12","type":"ip-src","category":"Network activity","value":"198.51.100.23","to_ids":false,"timestamp":"1718755200","last_seen":"2020-01-01T00:00:00Z","Event":{"id":"3","uuid":"e9","info":"Scan from abroad","org_id":"1"},"Object":{"id":"0","distribution":"5"}}""";

    [Fact]
    public void An_attribute_in_MISPs_own_search_shape_is_one_attribute_in_misp_and_stix()
    {
        var (misp, mispWarnings) = Write(new MispFormat(), Export, RestSearchAttribute);
        Assert.Empty(mispWarnings);
        using var mispDocument = JsonDocument.Parse(misp);
        var attribute = Assert.Single(mispDocument.RootElement.GetProperty("Event").GetProperty("Attribute").EnumerateArray());
        Assert.Equal("198.51.100.23", attribute.GetProperty("value").GetString());

        var (stix, _) = Write(new StixFormat(), Export with { Format = "stix" }, RestSearchAttribute);
        using var bundle = JsonDocument.Parse(stix);
        var objects = bundle.RootElement.GetProperty("objects").EnumerateArray().ToList();
        var report = Assert.Single(objects, o => o.GetProperty("type").GetString() == "report");
        Assert.Equal("Scan from abroad", report.GetProperty("name").GetString());
        // last_seen (2020) before the attribute's timestamp (2024): the observation still spans forwards.
        var observed = Assert.Single(objects, o => o.GetProperty("type").GetString() == "observed-data");
        Assert.True(string.CompareOrdinal(observed.GetProperty("last_observed").GetString(), observed.GetProperty("first_observed").GetString()) >= 0);
        var errors = SharedReference.Stix("observed-data").Validate(observed.GetRawText());
        Assert.True(errors.Count == 0, string.Join("\n", errors.Take(5)));
    }

    [Fact]
    public void Misp_accepts_a_bare_event_and_attribute_tags_given_as_objects()
    {
        const string bareEvent = """{"uuid":"e3","info":"Bare","Attribute":[{"uuid":"b-1","type":"url","value":"https://bad.example/x","tags":[{"name":"tlp:amber"},{"name":"tlp:amber"},"osint"]}],"Object":[{"name":"domain-ip","Attribute":[{"type":"ip-dst","object_relation":"ip","value":"198.51.100.1"}]}]}""";
        var (output, warnings) = Write(new MispFormat(), Export, bareEvent);
        Assert.Empty(warnings);
        using var doc = JsonDocument.Parse(output);
        var evt = doc.RootElement.GetProperty("Event");
        var attribute = Assert.Single(evt.GetProperty("Attribute").EnumerateArray());
        Assert.Equal(["tlp:amber", "osint"], attribute.GetProperty("Tag").EnumerateArray().Select(t => t.GetProperty("name").GetString()));
        var item = Assert.Single(evt.GetProperty("Object").EnumerateArray());
        Assert.Equal("domain-ip", item.GetProperty("name").GetString());
        Assert.Equal("ip", item.GetProperty("Attribute")[0].GetProperty("object_relation").GetString());
        Assert.DoesNotContain("\"uuid\"", output);
        var errors = SharedReference.Misp.Validate(output);
        Assert.True(errors.Count == 0, string.Join("\n", errors.Take(5)));
    }

    /// <summary>A source event marked TLP:RED whose attributes carry no TLP of their own, one of them and one object
    /// shared with a sharing group of the source instance (id 7 there, meaningless anywhere else).</summary>
    const string RedEvent = """{"Event":{"uuid":"e-red","info":"Red","Tag":[{"name":"tlp:red","colour":"#CC0033"},{"name":"osint"}],"Attribute":[{"uuid":"r-1","type":"domain","value":"red.example","to_ids":true,"distribution":"4","sharing_group_id":"7","Tag":[{"name":"osint"}]}],"Object":[{"name":"file","distribution":"4","sharing_group_id":"7","Attribute":[{"uuid":"r-2","type":"md5","object_relation":"md5","value":"d41d8cd98f00b204e9800998ecf8427e","to_ids":true,"distribution":"2"}]}]}}""";

    [Fact]
    public void Misp_keeps_the_source_events_tags_on_its_attributes_and_never_opens_a_sharing_group()
    {
        var (output, warnings) = Write(new MispFormat(), Export, RedEvent);
        Assert.Empty(warnings);
        using var doc = JsonDocument.Parse(output);
        var evt = doc.RootElement.GetProperty("Event");
        var attribute = Assert.Single(evt.GetProperty("Attribute").EnumerateArray());
        Assert.Equal(["osint", "tlp:red"], attribute.GetProperty("Tag").EnumerateArray().Select(t => t.GetProperty("name").GetString()));
        Assert.Equal("#CC0033", attribute.GetProperty("Tag")[1].GetProperty("colour").GetString());
        Assert.Equal("0", attribute.GetProperty("distribution").GetString());
        var item = Assert.Single(evt.GetProperty("Object").EnumerateArray());
        Assert.Equal("0", item.GetProperty("distribution").GetString());
        var objectAttribute = item.GetProperty("Attribute")[0];
        Assert.Equal("2", objectAttribute.GetProperty("distribution").GetString());
        Assert.Equal(["tlp:red", "osint"], objectAttribute.GetProperty("Tag").EnumerateArray().Select(t => t.GetProperty("name").GetString()));
        Assert.DoesNotContain("sharing_group_id", output);
        var errors = SharedReference.Misp.Validate(output);
        Assert.True(errors.Count == 0, string.Join("\n", errors.Take(5)));
    }

    [Fact]
    public void Stix_labels_every_object_and_the_report_with_the_source_events_tags()
    {
        var (output, _) = Write(new StixFormat(), StixExport, RedEvent);
        using var bundle = JsonDocument.Parse(output);
        var objects = bundle.RootElement.GetProperty("objects").EnumerateArray().ToList();
        var labelled = objects.Where(o => o.GetProperty("type").GetString() is "indicator" or "report").ToList();
        Assert.Equal(3, labelled.Count);
        Assert.All(labelled, o => Assert.Contains("tlp:red", o.GetProperty("labels").EnumerateArray().Select(l => l.GetString())));
        AssertValid(output);
    }

    /// <summary>TLP tags become references to STIX's predefined TLP marking definitions (their ids from the OASIS
    /// schema), each definition written once; an attribute's and its event's markings both apply.</summary>
    [Fact]
    public void Stix_marks_objects_with_the_predefined_tlp_marking_definitions_of_their_tags()
    {
        var schema = File.ReadAllText(Path.Combine(SharedReference.Folder, "stix2.1-json-schemas", "schemas", "common", "marking-definition.json"));
        string IdOf(string colour) => Regex.Match(schema, $@"""tlp_{colour}"".*?""(marking-definition--[0-9a-f-]+)""", RegexOptions.Singleline).Groups[1].Value;
        var greenAttribute = Attribute("domain", "green.example", true, "g-1");                       // tlp:green
        var clearAttribute = Attribute("domain", "clear.example", false, "c-1").Replace("tlp:green", "TLP:CLEAR");
        var strictAttribute = Attribute("domain", "strict.example", true, "s-1", evt: null).Replace("tlp:green", "tlp:amber+strict");
        var (output, _) = Write(new StixFormat(), StixExport, RedEvent, greenAttribute, clearAttribute, strictAttribute);
        AssertValid(output);
        using var bundle = JsonDocument.Parse(output);
        var objects = bundle.RootElement.GetProperty("objects").EnumerateArray().ToList();
        var definitions = objects.Where(o => o.GetProperty("type").GetString() == "marking-definition").ToList();
        Assert.Equal([IdOf("red"), IdOf("green"), IdOf("white")], definitions.Select(d => d.GetProperty("id").GetString()));
        Assert.Equal(["TLP:RED", "TLP:GREEN", "TLP:WHITE"], definitions.Select(d => d.GetProperty("name").GetString()));
        string[] MarkingsOf(Func<JsonElement, bool> which) =>
            objects.Single(which).TryGetProperty("object_marking_refs", out var refs) ? refs.EnumerateArray().Select(r => r.GetString()!).ToArray() : [];
        bool Named(JsonElement o, string pattern) => o.TryGetProperty("pattern", out var p) && p.GetString()!.Contains(pattern);
        Assert.Equal([IdOf("red")], MarkingsOf(o => Named(o, "red.example")));                      // the event's tag
        Assert.Equal([IdOf("green")], MarkingsOf(o => Named(o, "green.example")));
        Assert.Equal([IdOf("white")], MarkingsOf(o => o.GetProperty("type").GetString() == "observed-data"));
        Assert.Empty(MarkingsOf(o => Named(o, "strict.example")));                                     // no STIX 2.1 definition:
        Assert.Contains("tlp:amber+strict", objects.Single(o => Named(o, "strict.example")).GetProperty("labels").EnumerateArray().Select(l => l.GetString()));
        Assert.Equal([IdOf("red")], MarkingsOf(o => o.GetProperty("type").GetString() == "report" && o.GetProperty("name").GetString() == "Red"));
        // Every marking an object refers to is in the bundle, before the object.
        var positions = objects.Select((o, i) => (Id: o.GetProperty("id").GetString()!, i)).ToDictionary(x => x.Id, x => x.i);
        foreach (var (item, index) in objects.Select((o, i) => (o, i)))
            if (item.TryGetProperty("object_marking_refs", out var refs))
                Assert.All(refs.EnumerateArray(), r => Assert.True(positions[r.GetString()!] < index));
    }

    /// <summary>Observables have the ids STIX 2.1 defines (UUIDv5 over the JCS form of their ID contributing
    /// properties), so other tools derive the same: the first two are the specification's own examples; the others
    /// were computed with Python's uuid.uuid5 over json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False).</summary>
    [Theory]
    [InlineData("ip-dst", "198.51.100.3", "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4")]
    [InlineData("domain", "example.com", "domain-name--bedb4899-d24b-5401-bc86-8f6b4cc18ec7")]
    [InlineData("AS", "AS15139", "autonomous-system--3aa27478-50b5-5ab8-9da9-cdc12b657fff")]
    [InlineData("filename|md5", "a.exe|d41d8cd98f00b204e9800998ecf8427e", "file--7e567502-8994-53ff-9c69-79240cae362d")]
    [InlineData("regkey|value", "HKCU\\Software\\Run|evil.exe", "windows-registry-key--c6e9d543-4f10-561c-8afa-5ce2f275b382")]
    [InlineData("ip-dst|port", "198.51.100.3|443", "network-traffic--fb7cb25a-b62c-5ab5-b8f4-8cc00760df3a")]
    [InlineData("email-subject", "Rechnung \"dringend\" \u00e9\u0001", "email-message--7fa33b77-44ef-5cad-94d4-269875941907")]
    public void Stix_observables_have_the_ids_the_specification_derives(string type, string value, string id)
    {
        var (output, _) = Write(new StixFormat(), StixExport, Attribute(type, value, false, "u-1"));
        using var bundle = JsonDocument.Parse(output);
        var observables = bundle.RootElement.GetProperty("objects").EnumerateArray()
            .Where(o => !o.TryGetProperty("created", out _)).Select(o => o.GetProperty("id").GetString()).ToList();
        Assert.Contains(id, observables);
        AssertValid(output);
    }

    [Fact]
    public void Misp_reads_back_attributes_as_records()
    {
        var (output, _) = Write(new MispFormat(), Export, IpAttribute, EventDocument);
        var records = new MispFormat().ReadRecords(new MemoryStream(Encoding.UTF8.GetBytes(output)), CancellationToken.None).ToList();
        Assert.Equal(["ip-dst", "domain", "md5", "filename"], records.Select(r => r.GetProperty("type").GetString()));
    }

    static readonly ExportDefinition StixExport = new() { Name = "intel-stix", Query = "*", Format = "stix" };

    static string Attribute(string type, string value, bool toIds, string uuid, string? evt = "e1") =>
        JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["uuid"] = uuid, ["event_uuid"] = evt, ["event_info"] = evt is null ? null : $"Event {evt}", ["type"] = type,
            ["category"] = "Network activity", ["value"] = value, ["to_ids"] = toIds, ["timestamp"] = 1718755200, ["tags"] = new[] { "tlp:green" },
        });

    public static TheoryData<string, string, string> Mapped => new()
    {
        { "ip-src", "198.51.100.7", "[network-traffic:src_ref.type = 'ipv4-addr' AND network-traffic:src_ref.value = '198.51.100.7']" },
        { "ip-dst", "2001:db8::1", "[network-traffic:dst_ref.type = 'ipv6-addr' AND network-traffic:dst_ref.value = '2001:db8::1']" },
        { "ip-src|port", "198.51.100.7|4444", "[network-traffic:src_ref.type = 'ipv4-addr' AND network-traffic:src_ref.value = '198.51.100.7' AND network-traffic:src_port = 4444]" },
        { "ip-dst|port", "198.51.100.8|443", "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '198.51.100.8' AND network-traffic:dst_port = 443]" },
        { "domain", "evil.example", "[domain-name:value = 'evil.example']" },
        { "hostname", "www.evil.example", "[domain-name:value = 'www.evil.example']" },
        { "domain|ip", "evil.example|198.51.100.9", "[domain-name:value = 'evil.example' AND domain-name:resolves_to_refs[*].value = '198.51.100.9']" },
        { "url", "https://evil.example/a?b='c'", "[url:value = 'https://evil.example/a?b=\\'c\\'']" },
        { "uri", "/wp-login.php", "[url:value = '/wp-login.php']" },
        { "link", "https://osint.example/r/1", "[url:value = 'https://osint.example/r/1']" },
        { "email-src", "a@evil.example", "[email-message:from_ref.value = 'a@evil.example']" },
        { "email-dst", "b@corp.example", "[email-message:to_refs[*].value = 'b@corp.example']" },
        { "email-subject", "Invoice 'urgent'", "[email-message:subject = 'Invoice \\'urgent\\'']" },
        { "md5", "d41d8cd98f00b204e9800998ecf8427e", "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']" },
        { "sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709", "[file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']" },
        { "sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "[file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']" },
        { "sha512", new string('a', 128), $"[file:hashes.'SHA-512' = '{new string('a', 128)}']" },
        { "filename", "C:\\Temp\\a.exe", "[file:name = 'C:\\\\Temp\\\\a.exe']" },
        { "filename|md5", "a.exe|d41d8cd98f00b204e9800998ecf8427e", "[file:name = 'a.exe' AND file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']" },
        { "filename|sha1", "a.exe|da39a3ee5e6b4b0d3255bfef95601890afd80709", "[file:name = 'a.exe' AND file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']" },
        { "filename|sha256", "a.exe|e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "[file:name = 'a.exe' AND file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']" },
        { "mutex", "Global\\abc", "[mutex:name = 'Global\\\\abc']" },
        { "regkey", "HKLM\\Software\\Run", "[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\Software\\\\Run']" },
        { "regkey|value", "HKCU\\Software\\Run|evil.exe", "[windows-registry-key:key = 'HKEY_CURRENT_USER\\\\Software\\\\Run' AND windows-registry-key:values[*].data = 'evil.exe']" },
        { "AS", "AS64500", "[autonomous-system:number = 64500]" },
        { "mac-address", "00:1A:2B:3C:4D:5E", "[mac-addr:value = '00:1a:2b:3c:4d:5e']" },
        { "mac-address", "AA-BB-CC-DD-EE-FF", "[mac-addr:value = 'aa:bb:cc:dd:ee:ff']" },
        // A composite's empty part is left out, not compared with '' (which matches nothing).
        { "ip-dst|port", "198.51.100.8|", "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '198.51.100.8']" },
        { "ip-src|port", "198.51.100.7", "[network-traffic:src_ref.type = 'ipv4-addr' AND network-traffic:src_ref.value = '198.51.100.7']" },
        { "domain|ip", "evil.example|", "[domain-name:value = 'evil.example']" },
        { "domain|ip", "|198.51.100.9", "[domain-name:resolves_to_refs[*].value = '198.51.100.9']" },
        { "filename|md5", "|d41d8cd98f00b204e9800998ecf8427e", "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']" },
        { "filename|sha1", "a.exe|", "[file:name = 'a.exe']" },
        { "regkey|value", "HKLM\\Software\\Run|", "[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\Software\\\\Run']" },
        { "regkey|value", "|evil.exe", "[windows-registry-key:values[*].data = 'evil.exe']" },
        { "user-agent", "Mozilla/5.0 (X11)", "[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = 'Mozilla/5.0 (X11)']" },
    };

    /// <summary>MISP itself writes to_ids as true, 1 or "1" depending on version and API; one attribute must mean the
    /// same in both formats: to_ids in the misp event, an indicator (not observed-data) in the STIX bundle.</summary>
    [Theory]
    [InlineData("true", true)]
    [InlineData("1", true)]
    [InlineData("\"1\"", true)]
    [InlineData("\"True\"", true)]
    [InlineData("\" TRUE \"", true)]
    [InlineData("4294967296", true)]
    [InlineData("false", false)]
    [InlineData("0", false)]
    [InlineData("\"0\"", false)]
    [InlineData("null", false)]
    public void To_ids_means_the_same_in_misp_and_stix_in_each_form_misp_writes_it(string toIds, bool expected)
    {
        var attribute = $$"""{"uuid":"5f0c4d1e-0000-4000-8000-00000000000a","event_uuid":"e1","type":"domain","category":"Network activity","value":"evil.example","to_ids":{{toIds}},"timestamp":"1718755200"}""";

        var (misp, _) = Write(new MispFormat(), Export, attribute);
        using var mispDocument = JsonDocument.Parse(misp);
        Assert.Equal(expected, mispDocument.RootElement.GetProperty("Event").GetProperty("Attribute")[0].GetProperty("to_ids").GetBoolean());

        var (stix, _) = Write(new StixFormat(), StixExport, attribute);
        using var bundle = JsonDocument.Parse(stix);
        var mapped = bundle.RootElement.GetProperty("objects").EnumerateArray()
            .Single(o => o.GetProperty("type").GetString() is "indicator" or "observed-data");
        Assert.Equal(expected ? "indicator" : "observed-data", mapped.GetProperty("type").GetString());
        Assert.Contains($"misp:to_ids=\"{(expected ? "True" : "False")}\"", mapped.GetProperty("labels").EnumerateArray().Select(l => l.GetString()));
        Assert.Equal("2024-06-19T00:00:00.000Z", mapped.GetProperty("created").GetString()); // the attribute's timestamp, given as a string
        AssertValid(stix);
    }

    [Theory]
    [MemberData(nameof(Mapped))]
    public void Stix_maps_each_type_to_an_escaped_pattern_and_to_observables_that_validate(string type, string value, string pattern)
    {
        var (indicators, _) = Write(new StixFormat(), StixExport, Attribute(type, value, true, "u-" + type));
        using var bundle = JsonDocument.Parse(indicators);
        var indicator = bundle.RootElement.GetProperty("objects").EnumerateArray().Single(o => o.GetProperty("type").GetString() == "indicator");
        Assert.Equal(pattern, indicator.GetProperty("pattern").GetString());
        Assert.Contains($"misp:type=\"{type}\"", indicator.GetProperty("labels").EnumerateArray().Select(l => l.GetString()));
        Assert.Contains("tlp:green", indicator.GetProperty("labels").EnumerateArray().Select(l => l.GetString()));
        AssertValid(indicators);

        var (observed, _) = Write(new StixFormat(), StixExport, Attribute(type, value, false, "u-" + type));
        using var observedBundle = JsonDocument.Parse(observed);
        var types = observedBundle.RootElement.GetProperty("objects").EnumerateArray().Select(o => o.GetProperty("type").GetString()).ToList();
        // user-agent has no observable the OASIS schemas accept here; it becomes the documented custom object.
        Assert.Contains(type == "user-agent" ? "x-misp-attribute" : "observed-data", types);
        AssertValid(observed);
    }

    /// <summary>Values STIX cannot hold as their type (an indicator would never match, or the bundle would fail
    /// its schema) are warned about and kept as the custom object, never dropped.</summary>
    [Theory]
    [InlineData("mac-address", "AA-BB-CC-DD-EE", "is no MAC address")]
    [InlineData("mac-address", "gg:bb:cc:dd:ee:ff", "is no MAC address")]
    [InlineData("ip-dst|port", "198.51.100.8|http", "has port 'http', no port number")]
    [InlineData("ip-src|port", "198.51.100.8|70000", "has port '70000', no port number")]
    [InlineData("ip-dst|port", "|443", "has no address")]
    [InlineData("domain|ip", "|", "has neither part")]
    [InlineData("AS", "ASX", "is no AS number")]
    [InlineData("vulnerability", "cve-2021-1", "is no CVE id")]
    public void Stix_keeps_values_stix_cannot_hold_as_custom_objects_with_a_warning(string type, string value, string problem)
    {
        foreach (var toIds in new[] { true, false })
        {
            var (output, warnings) = Write(new StixFormat(), StixExport, Attribute(type, value, toIds, "bad-" + type));
            Assert.Contains(problem, Assert.Single(warnings));
            using var bundle = JsonDocument.Parse(output);
            var mapped = bundle.RootElement.GetProperty("objects").EnumerateArray().Where(o => o.GetProperty("type").GetString() is not ("identity" or "report" or "marking-definition")).ToList();
            Assert.Equal(value, Assert.Single(mapped, o => o.GetProperty("type").GetString() == "x-misp-attribute").GetProperty("x_misp_value").GetString());
            Assert.Single(mapped);
            AssertValid(output);
        }
    }

    [Fact]
    public void Stix_writes_a_cve_id_in_the_form_its_schema_requires()
    {
        var (output, warnings) = Write(new StixFormat(), StixExport, Attribute("vulnerability", " cve-2024-3094", true, "u-cve"));
        Assert.Empty(warnings);
        using var bundle = JsonDocument.Parse(output);
        var vulnerability = bundle.RootElement.GetProperty("objects").EnumerateArray().Single(o => o.GetProperty("type").GetString() == "vulnerability");
        Assert.Equal("CVE-2024-3094", vulnerability.GetProperty("external_references")[0].GetProperty("external_id").GetString());
        AssertValid(output);
    }

    [Theory]
    [InlineData("vulnerability", "CVE-2024-3094", "vulnerability")]
    [InlineData("text", "free text", "x-misp-attribute")]
    [InlineData("comment", "a comment", "x-misp-attribute")]
    [InlineData("btc", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "x-misp-attribute")]
    public void Stix_maps_vulnerabilities_and_keeps_unmapped_types_as_custom_objects(string type, string value, string stixType)
    {
        var (output, _) = Write(new StixFormat(), StixExport, Attribute(type, value, true, "u-" + type));
        using var bundle = JsonDocument.Parse(output);
        var objects = bundle.RootElement.GetProperty("objects").EnumerateArray().ToList();
        var mapped = objects.Single(o => o.GetProperty("type").GetString() == stixType);
        Assert.Equal(stixType == "vulnerability" ? "CVE-2024-3094" : value,
            stixType == "vulnerability" ? mapped.GetProperty("name").GetString() : mapped.GetProperty("x_misp_value").GetString());
        AssertValid(output);
    }

    [Fact]
    public void Stix_groups_attributes_into_reports_by_source_event_in_first_seen_order_with_deterministic_ids()
    {
        string[] records =
        [
            Attribute("domain", "a.example", true, "u1", "e2"), Attribute("domain", "b.example", true, "u2", "e1"),
            Attribute("domain", "c.example", false, "u3", "e2"), Attribute("domain", "d.example", true, "u4", null),
        ];
        var (first, _) = Write(new StixFormat(), StixExport, records);
        var (second, _) = Write(new StixFormat(), StixExport, records);
        using var bundle = JsonDocument.Parse(first);
        var objects = bundle.RootElement.GetProperty("objects").EnumerateArray().ToList();
        var reports = objects.Where(o => o.GetProperty("type").GetString() == "report").ToList();
        Assert.Equal(["Event e2", "Event e1", "intel-stix: attributes without an event"], reports.Select(r => r.GetProperty("name").GetString()));
        Assert.Equal(2, reports[0].GetProperty("object_refs").GetArrayLength());
        var identity = objects.Single(o => o.GetProperty("type").GetString() == "identity").GetProperty("id").GetString();
        Assert.All(objects.Where(o => o.TryGetProperty("created_by_ref", out _)), o => Assert.Equal(identity, o.GetProperty("created_by_ref").GetString()));
        // Same data, same ids (bundle ids aside): UUIDv5 from the source uuids.
        static IEnumerable<string> Ids(string json) => JsonDocument.Parse(json).RootElement.GetProperty("objects").EnumerateArray().Select(o => o.GetProperty("id").GetString()!);
        Assert.Equal(Ids(first), Ids(second));
        AssertValid(first);
    }

    /// <summary>Two runs that write one report id must write the same report: a consumer keeps one version per
    /// id and modified, so different object_refs under one id and modified would silently replace each other.</summary>
    [Fact]
    public void Stix_reports_with_different_content_never_share_an_id_and_span_their_members_timestamps()
    {
        static JsonElement Report(string[] records, string name)
        {
            var (output, _) = Write(new StixFormat(), StixExport, records);
            AssertValid(output);
            return JsonDocument.Parse(output).RootElement.GetProperty("objects").EnumerateArray()
                .Single(o => o.GetProperty("type").GetString() == "report" && o.GetProperty("name").GetString() == name).Clone();
        }
        var older = Attribute("domain", "a.example", true, "v1", "e1");
        var newer = Attribute("domain", "b.example", true, "v2", "e1").Replace("1718755200", "1718841600");
        var loose = Attribute("domain", "c.example", true, "v3", null);
        var otherLoose = Attribute("domain", "d.example", true, "v4", null);

        var both = Report([older, newer, loose], "Event e1");
        Assert.Equal("2024-06-19T00:00:00.000Z", both.GetProperty("created").GetString());
        Assert.Equal("2024-06-20T00:00:00.000Z", both.GetProperty("modified").GetString());
        static string?[] Version(JsonElement report) => [.. new[] { "id", "created", "modified" }.Select(p => report.GetProperty(p).GetString())];
        Assert.Equal(Version(both), Version(Report([newer, older, loose], "Event e1"))); // same content in another order, same report
        Assert.NotEqual(both.GetProperty("id").GetString(), Report([newer], "Event e1").GetProperty("id").GetString());
        var updated = older.Replace("1718755200", "1718928000"); // the same attribute, changed since
        Assert.NotEqual(both.GetProperty("id").GetString(), Report([updated, newer], "Event e1").GetProperty("id").GetString());

        const string ungrouped = "intel-stix: attributes without an event";
        Assert.NotEqual(Report([loose], ungrouped).GetProperty("id").GetString(), Report([otherLoose], ungrouped).GetProperty("id").GetString());
    }

    [Fact]
    public void Stix_writes_a_repeated_attribute_once_and_references_it_once()
    {
        var repeated = Attribute("domain", "a.example", true, "w1", "e1");
        // Without uuids, an attribute's id is its event, type and value: these two are one object.
        const string uuidLess = """{"Event":{"uuid":"e2","info":"Uuid-less","Attribute":[{"type":"url","value":"https://x.example/","category":"Network activity"},{"type":"url","value":"https://x.example/","category":"Payload delivery"}]}}""";
        var (output, _) = Write(new StixFormat(), StixExport, repeated, uuidLess, repeated);
        using var bundle = JsonDocument.Parse(output);
        var objects = bundle.RootElement.GetProperty("objects").EnumerateArray().ToList();
        var ids = objects.Select(o => o.GetProperty("id").GetString()).ToList();
        Assert.Equal(ids.Distinct().Count(), ids.Count);
        Assert.Single(objects, o => o.GetProperty("type").GetString() == "indicator");
        Assert.Single(objects, o => o.GetProperty("type").GetString() == "observed-data");
        var reports = objects.Where(o => o.GetProperty("type").GetString() == "report").ToList();
        Assert.Equal([1, 1], reports.Select(r => r.GetProperty("object_refs").GetArrayLength()));
        AssertValid(output);
    }

    [Theory]
    [InlineData("1718755200", "\"2026-06-19T10:00:00Z\"", "2024-06-19T00:00:00.000Z", "2026-06-19T10:00:00.000Z")]
    [InlineData("\"2026-06-19T10:00:00Z\"", "1718755200", "2024-06-19T00:00:00.000Z", "2026-06-19T10:00:00.000Z")] // the wrong way round
    [InlineData("1718755200", "1718755200", "2024-06-19T00:00:00.000Z", null)]      // valid_until must be later
    [InlineData("null", "1718668800", "2024-06-19T00:00:00.000Z", null)]            // a lone last_seen before the timestamp
    [InlineData("null", "\"2026-06-19T10:00:00Z\"", "2024-06-19T00:00:00.000Z", "2026-06-19T10:00:00.000Z")]
    [InlineData("1718668800", "null", "2024-06-18T00:00:00.000Z", null)]
    public void Stix_indicators_are_valid_from_first_seen_until_last_seen(string firstSeen, string lastSeen, string validFrom, string? validUntil)
    {
        var attribute = $$"""{"uuid":"s-1","event_uuid":"e1","type":"domain","value":"seen.example","to_ids":true,"timestamp":1718755200,"first_seen":{{firstSeen}},"last_seen":{{lastSeen}}}""";
        var (output, warnings) = Write(new StixFormat(), StixExport, attribute);
        Assert.Empty(warnings);
        using var bundle = JsonDocument.Parse(output);
        var indicator = bundle.RootElement.GetProperty("objects").EnumerateArray().Single(o => o.GetProperty("type").GetString() == "indicator");
        Assert.Equal(validFrom, indicator.GetProperty("valid_from").GetString());
        Assert.Equal(validUntil, indicator.TryGetProperty("valid_until", out var until) ? until.GetString() : null);
        AssertValid(output);
    }

    [Fact]
    public void Stix_converts_the_attributes_of_event_objects_and_warns_per_bad_record()
    {
        const string evt = """{"Event":{"uuid":"e9","info":"With objects","Attribute":[{"uuid":"x-1","type":"domain","value":"a.example","to_ids":true}],"Object":[{"name":"file","Attribute":[{"uuid":"x-2","type":"md5","object_relation":"md5","value":"d41d8cd98f00b204e9800998ecf8427e","to_ids":true},{"uuid":"x-3","type":"filename","object_relation":"filename","value":"a.exe"}]}]}}""";
        var (output, warnings) = Write(new StixFormat(), StixExport, evt,
            """{"type":"domain"}""", Attribute("url", "https://b.example/", true, "x-4").Replace("\"timestamp\"", "\"first_seen\":\"soon\",\"timestamp\""));
        Assert.Equal(2, warnings.Count);
        Assert.Contains("record 2: skipped an attribute without type or value", warnings[0]);
        Assert.Contains("first_seen 'soon'", warnings[1]);
        using var bundle = JsonDocument.Parse(output);
        var objects = bundle.RootElement.GetProperty("objects").EnumerateArray().ToList();
        var report = objects.First(o => o.GetProperty("type").GetString() == "report" && o.GetProperty("name").GetString() == "With objects");
        Assert.Equal(3, report.GetProperty("object_refs").GetArrayLength());
        Assert.Contains(objects, o => o.TryGetProperty("pattern", out var p) && p.GetString() == "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']");
        Assert.Contains(objects, o => o.GetProperty("type").GetString() == "file" && o.TryGetProperty("name", out var n) && n.GetString() == "a.exe");
        AssertValid(output);
    }

    [Fact]
    public void Stix_output_of_generated_attributes_validates_against_the_oasis_schemas()
    {
        var records = SampleDataGenerator.Generate(SampleKind.Attributes, 400, 5, DateTimeOffset.UnixEpoch.AddYears(56), TimeSpan.FromDays(5))
            .Select(e => e.GetRawText()).ToArray();
        var (output, warnings) = Write(new StixFormat(), StixExport, records);
        Assert.Empty(warnings);
        AssertValid(output);
        var records2 = new StixFormat().ReadRecords(new MemoryStream(Encoding.UTF8.GetBytes(output)), CancellationToken.None).ToList();
        Assert.Equal(JsonDocument.Parse(output).RootElement.GetProperty("objects").GetArrayLength(), records2.Count);
    }

    /// <summary>The bundle against bundle.json, and every object against its own type's schema.</summary>
    static void AssertValid(string bundleJson)
    {
        var problems = SharedReference.Stix("bundle").Validate(bundleJson).Select(e => "bundle: " + e).ToList();
        using var bundle = JsonDocument.Parse(bundleJson);
        foreach (var item in bundle.RootElement.GetProperty("objects").EnumerateArray())
        {
            var type = item.GetProperty("type").GetString()!;
            problems.AddRange(SharedReference.Stix(type).Validate(item.GetRawText()).Select(e => $"{type}: {e}"));
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems.Take(8)));
    }

    [Fact]
    public void A_stix_export_over_its_cap_fails_before_conversion_naming_the_count()
    {
        using var home = new TestHome();
        home.LoadSample(SampleKind.Attributes, 300);
        var run = home.Run(new ExportDefinition
        {
            Name = "too-many", Index = "attributes", Query = "*", Format = "stix",
            FormatOptions = new Dictionary<string, string> { [StixFormat.MaxRecordsOption] = "100" },
        });
        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("matches 300 records, more than the 100 that the stix format allows", run.Error);
        Assert.Contains("json, jsonl or csv", run.Error);
        Assert.Equal(0, run.Processed);
    }
}
