using System.Text;
using System.Text.Json;
using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Formats;
using ExportsPS.Engine.Formats.Misp;
using ExportsPS.Engine.Json;

namespace ExportsPS.Engine.Tests;

public sealed class FormatTests
{
    static string WriteAll(ExportFormat format, ExportDefinition export, IReadOnlyList<string> columns, params string[] records) =>
        WriteAll(format, export, columns, records.Select(Encoding.UTF8.GetBytes).ToArray());

    static string WriteAll(ExportFormat format, ExportDefinition export, IReadOnlyList<string> columns, params byte[][] records)
    {
        using var output = new MemoryStream();
        using (var writer = format.CreateWriter(output, new FormatContext(export, columns, _ => { })))
        {
            writer.WriteStart();
            foreach (var record in records) writer.WriteRecord(record);
            writer.WriteEnd();
        }
        var bytes = output.ToArray();
        Assert.True(System.Text.Unicode.Utf8.IsValid(bytes), "the output is not valid UTF-8");
        return Encoding.UTF8.GetString(bytes);
    }

    static List<string[]> CsvRows(string csv)
    {
        using var reader = CsvHelper.CsvReader.Create(new MemoryStream(Encoding.UTF8.GetBytes(csv)), new CsvHelper.CsvReaderOptions { HasHeader = true }, true);
        var rows = new List<string[]>();
        while (reader.Read()) rows.Add(Enumerable.Range(0, reader.FieldCount).Select(i => reader.GetString(i)).ToArray());
        return rows;
    }

    static readonly ExportDefinition Export = new() { Name = "t", Query = "*" };

    [Fact]
    public void Csv_flattens_dotted_columns_in_the_given_order_and_joins_arrays_with_a_pipe()
    {
        var csv = WriteAll(new CsvFormat(), Export, ["@timestamp", "source.ip", "tags", "user.name", "missing"],
            """{"@timestamp":"2025-01-01T00:00:00Z","source":{"ip":"10.0.0.1"},"tags":["a","b","c"],"user":{"name":"alice, \"the admin\""}}""",
            """{"source.ip":"10.0.0.2","tags":[],"user":{"name":null},"n":5}""");
        var lines = csv.TrimEnd('\n').Split('\n');
        Assert.Equal("@timestamp,source.ip,tags,user.name,missing", lines[0]);
        Assert.Equal("2025-01-01T00:00:00Z,10.0.0.1,a|b|c,\"alice, \"\"the admin\"\"\",", lines[1]);
        Assert.Equal(",10.0.0.2,,,", lines[2]);
        Assert.Equal(3, lines.Length);
    }

    [Fact]
    public void Csv_joins_values_from_arrays_of_objects()
    {
        var csv = WriteAll(new CsvFormat(), Export, ["tags.name", "n"],
            """{"tags":[{"name":"tlp:white"},{"name":"osint"}],"n":[1,2.5,true]}""");
        Assert.Equal("tlp:white|osint,1|2.5|true", csv.Split('\n')[1]);
    }

    [Theory]
    [InlineData("=1+2", "\"'=1+2\"")]
    [InlineData("+cmd", "\"'+cmd\"")]
    [InlineData("-2+3", "\"'-2+3\"")]
    [InlineData("@SUM(A1)", "\"'@SUM(A1)\"")]
    [InlineData("\tx", "\"'\tx\"")]
    [InlineData("\rx", "\"'\rx\"")]
    [InlineData("safe=1", "safe=1")]
    public void Csv_neutralises_formula_cells_by_default_prefixing_a_quote_inside_a_quoted_cell(string value, string expectedCell)
    {
        var record = JsonSerializer.Serialize(new Dictionary<string, string> { ["v"] = value });
        var csv = WriteAll(new CsvFormat(), Export, ["v"], record);
        Assert.Equal(expectedCell, csv["v\n".Length..].TrimEnd('\n'));
    }

    /// <summary>A number is a value, not a formula; nor is a lone "-" (the log placeholder). Several values joined
    /// into one cell are text again, and neutralised when they start like a formula.</summary>
    [Theory]
    [InlineData("""{"v":-5}""", "-5")]
    [InlineData("""{"v":-1.5e3}""", "-1.5e3")]
    [InlineData("""{"v":"-"}""", "-")]
    [InlineData("""{"v":"-5"}""", "\"'-5\"")]
    [InlineData("""{"v":[-5,"=x"]}""", "\"'-5|=x\"")]
    public void Csv_leaves_numbers_and_a_lone_dash_as_they_are(string record, string expectedCell)
    {
        var csv = WriteAll(new CsvFormat(), Export, ["v"], record);
        Assert.Equal(expectedCell, csv["v\n".Length..].TrimEnd('\n'));
    }

    /// <summary>Without -Field the header comes from the index, so from whoever wrote its documents: a name that
    /// starts like a formula is neutralised too, a plain field path such as @timestamp is not.</summary>
    [Fact]
    public void Csv_neutralises_header_names_that_start_like_a_formula_but_not_field_paths()
    {
        var csv = WriteAll(new CsvFormat(), Export, ["@timestamp", "=HYPERLINK(\"http://x\")", "-a b", "user.name"], "{}");
        Assert.Equal("@timestamp,\"'=HYPERLINK(\"\"http://x\"\")\",\"'-a b\",user.name", csv.Split('\n')[0]);
        var plain = WriteAll(new CsvFormat(), Export with { NeutralizeCsvFormulas = false }, ["=x"], "{}");
        Assert.Equal("=x", plain.Split('\n')[0]);
    }

    [Fact]
    public void Csv_formula_neutralising_can_be_turned_off()
    {
        var csv = WriteAll(new CsvFormat(), Export with { NeutralizeCsvFormulas = false }, ["v"], """{"v":"=1+2"}""");
        Assert.Equal("v\n=1+2\n", csv);
    }

    /// <summary>The streaming extractor and the UTF-8 cell path against an oracle: random documents (escapes,
    /// non-ASCII, separators, quotes, line breaks, formula starts, numbers, arrays, nesting) are written as
    /// CSV, read back by CsvHelper's reader and compared with the values System.Text.Json's DOM gives.</summary>
    [Fact]
    public void Csv_cells_read_back_as_the_documents_values_for_random_documents()
    {
        var random = new Random(20261123);
        string[] alphabet = ["a", "Z", "7", " ", ",", "\"", "\n", "\r", "\t", "=", "+", "-", "@", "|", "é", "漢", "😀", "\\", "'", ";"];
        string Text() => string.Concat(Enumerable.Range(0, random.Next(0, 12)).Select(_ => alphabet[random.Next(alphabet.Length)]));
        object? Value() => random.Next(6) switch
        {
            0 => random.Next(-1000, 1000),
            1 => random.NextDouble() * 1e6,
            2 => random.Next(2) == 0,
            3 => Enumerable.Range(0, random.Next(0, 4)).Select(_ => Text()).ToArray(),
            4 => null,
            _ => Text(),
        };
        string[] columns = ["a", "b.c", "b.d", "e"];
        for (var round = 0; round < 500; round++)
        {
            var document = new Dictionary<string, object?>
            {
                ["a"] = Value(), ["b"] = new Dictionary<string, object?> { ["c"] = Value(), ["d"] = Value(), ["x"] = Value() }, ["e"] = Value(), ["skip"] = Value(),
            };
            // Non-ASCII and quotes escaped (\u00e9, \") half of the time: the escaped path must unescape them.
            var options = new JsonSerializerOptions { Encoder = random.Next(2) == 0 ? System.Text.Encodings.Web.JavaScriptEncoder.Default : System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
            var json = JsonSerializer.Serialize(document, options);
            var csv = WriteAll(new CsvFormat(), Export, columns, json);
            using var reader = CsvHelper.CsvReader.Create(new MemoryStream(Encoding.UTF8.GetBytes(csv)), new CsvHelper.CsvReaderOptions { HasHeader = true }, true);
            Assert.True(reader.Read(), csv);
            using var dom = JsonDocument.Parse(json);
            for (var i = 0; i < columns.Length; i++)
            {
                var element = columns[i].Split('.').Aggregate(dom.RootElement, (e, segment) => e.GetProperty(segment));
                Assert.Equal(Expected(element), reader.GetString(i));
            }
            Assert.False(reader.Read());
        }

        static string Expected(JsonElement element)
        {
            var text = element.ValueKind switch
            {
                JsonValueKind.Null => "",
                JsonValueKind.String => element.GetString()!,
                JsonValueKind.Array => string.Join(CsvFormat.ValueSeparator, element.EnumerateArray().Select(item => item.GetString())),
                _ => element.GetRawText(), // numbers keep their JSON text; true/false
            };
            return element.ValueKind != JsonValueKind.Number && text is not ("-" or "+") && text.Length > 0 && CsvFormat.FormulaCharacters.Contains(text[0]) ? "'" + text : text;
        }
    }

    /// <summary>System.Text.Json reads invalid UTF-8 and lone surrogate escapes (\udc00) without complaint and
    /// throws only when asked for the text; an index can hold such documents. The export repairs them to U+FFFD
    /// (valid UTF-8 out) instead of failing on one damaged value.</summary>
    [Fact]
    public void Csv_repairs_damaged_text_to_replacement_characters_instead_of_failing()
    {
        static byte[] Damaged(string before, string after) => [.. Encoding.UTF8.GetBytes(before), 0xFF, .. Encoding.UTF8.GetBytes(after)];
        var csv = WriteAll(new CsvFormat(), Export, ["a", "b.c", "o"],
            Damaged("""{"a":"x""", """y","b":{"c":"ok"}}"""),                              // raw bytes
            Damaged("""{"a":"x""", """\ny","o":{"k":"v"}}"""),                             // bytes and an escape
            Damaged("{\"o\":{\"k\":\"", "\"}}"),                                        // inside an object column
            Encoding.UTF8.GetBytes("""{"\udc00":1,"a":"\ud83d\ude00\ud800z","b":{"\udc00c":2}}"""), // lone halves, a pair
            Encoding.UTF8.GetBytes("""{"b\u002ec":"flat","\u0061":"escaped name"}"""));   // an escaped dot is a dot
        Assert.Equal(
            [["x\uFFFDy", "ok", ""], ["x\uFFFD\ny", "", """{"k":"v"}"""], ["", "", "{\"k\":\"\uFFFD\"}"], ["😀\uFFFDz", "", ""], ["escaped name", "flat", ""]],
            CsvRows(csv));
    }

    [Fact]
    public void Source_filter_and_misp_repair_damaged_names_and_values()
    {
        var filtered = new SourceFilter(["a.b", "x\uFFFD"]).Apply(Encoding.UTF8.GetBytes("""{"\udc00":1,"a":{"\udc00b":2,"b":3},"x\udfff":4}""")).ToArray();
        using (var document = JsonDocument.Parse(filtered))
        {
            Assert.Equal(3, document.RootElement.GetProperty("a").GetProperty("b").GetInt32());
            Assert.Equal(4, document.RootElement.GetProperty("x\uFFFD").GetInt32());
            Assert.Equal(2, document.RootElement.EnumerateObject().Count());
        }

        var attribute = ThreatIntelFormatTests.IpAttribute.Replace("\"comment\":null", "\"comment\":\"c\\udc00\"").Replace("tlp:white", "tlp:\\ud800white");
        var damaged = Encoding.UTF8.GetBytes(attribute.Replace("Network activity", "Network\u0001activity")).Select(b => b == 1 ? (byte)0xC0 : b).ToArray();
        var misp = WriteAll(new MispFormat(), ThreatIntelFormatTests.Export, [], damaged);
        using var evt = JsonDocument.Parse(misp);
        var written = evt.RootElement.GetProperty("Event").GetProperty("Attribute")[0];
        Assert.Equal("c\uFFFD", written.GetProperty("comment").GetString());
        Assert.Equal("Network\uFFFDactivity", written.GetProperty("category").GetString());
        Assert.Equal("tlp:\uFFFDwhite", written.GetProperty("Tag")[0].GetProperty("name").GetString());
    }

    [Fact]
    public void Csv_reads_back_as_records_with_one_property_per_column()
    {
        var csv = WriteAll(new CsvFormat(), Export, ["a", "b.c"], """{"a":"x","b":{"c":"y|z"}}""");
        var records = new CsvFormat().ReadRecords(new MemoryStream(Encoding.UTF8.GetBytes(csv)), CancellationToken.None).ToList();
        Assert.Single(records);
        Assert.Equal("x", records[0].GetProperty("a").GetString());
        Assert.Equal("y|z", records[0].GetProperty("b.c").GetString());
    }

    /// <summary>A damaged csv (a remote file is verified only as it ends) fails as InvalidDataException, which the
    /// service turns into ArtifactCorrupt, not as a CsvHelper type the caller cannot know.</summary>
    [Theory]
    [InlineData("a,b\n\"x,y\n")]        // a quoted field that is never closed
    [InlineData("a,b\n\"x\"y,z\n")]     // text after a closing quote
    [InlineData("a,b\nx\"y,z\n")]        // a quote inside an unquoted field
    [InlineData("a,b\nx,y\nz\n")]          // a row cut short
    public void Damaged_csv_fails_as_invalid_data(string csv)
    {
        var error = Assert.ThrowsAny<Exception>(() =>
            new CsvFormat().ReadRecords(new MemoryStream(Encoding.UTF8.GetBytes(csv)), CancellationToken.None).ToList());
        Assert.IsType<InvalidDataException>(error);
    }

    [Fact]
    public void Json_is_one_valid_array_of_the_raw_documents()
    {
        var json = WriteAll(new JsonArrayFormat(), Export, [], """{"a":1}""", """{"b":[2,3]}""");
        using var doc = JsonDocument.Parse(json);
        Assert.Equal(2, doc.RootElement.GetArrayLength());
        Assert.Equal("""{"b":[2,3]}""", doc.RootElement[1].GetRawText());
        Assert.Equal("[]\n", WriteAll(new JsonArrayFormat(), Export, [], Array.Empty<string>()));
    }

    [Fact]
    public void Jsonl_puts_a_pretty_printed_document_on_one_line_with_its_strings_untouched()
    {
        var pretty = "{\n  \"a\": \"x y\\n\\\" }\",\r\n  \"b\": [ 1, 2 ],\n\t\"c\": {}\n}";
        Assert.Equal("{\"a\":\"x y\\n\\\" }\",\"b\":[1,2],\"c\":{}}\n{\"d\": 1}\n", WriteAll(new JsonLinesFormat(), Export, [], pretty, "{\"d\": 1}"));
    }

    [Fact]
    public void Jsonl_passes_bytes_through_one_per_line()
    {
        Assert.Equal("{\"a\":1}\n{\"b\":\"é\"}\n", WriteAll(new JsonLinesFormat(), Export, [], """{"a":1}""", """{"b":"é"}"""));
    }

    [Fact]
    public void Source_filter_keeps_only_included_paths_with_their_nesting()
    {
        var filter = new SourceFilter(["source.ip", "tags", "objects.name", "flat.key"]);
        var result = Encoding.UTF8.GetString(filter.Apply(Encoding.UTF8.GetBytes(
            """{"source":{"ip":"1.2.3.4","port":5},"tags":["a"],"user":{"name":"x"},"objects":[{"name":"o1","v":1},{"v":2}],"flat.key":7,"source.ip":"dup"}""")));
        Assert.Equal("""{"source":{"ip":"1.2.3.4"},"tags":["a"],"objects":[{"name":"o1"}],"flat.key":7,"source.ip":"dup"}""", result);
    }

    [Theory]
    [InlineData("""{"a":1,"b":{"c":2}}""", "x", """{}""")]                                   // nothing kept
    [InlineData("""{"user":{"id":7},"n":1}""", "user.name", """{}""")]                         // no empty "user":{}
    [InlineData("""{"user":"flat"}""", "user.name", """{}""")]                                 // scalar where an object was wanted
    [InlineData("""{"a\u002Eb":1,"a":{"b":2}}""", "a.b", """{"a.b":1,"a":{"b":2}}""")]        // escaped dotted key
    [InlineData("""{"o":[[{"k":1,"z":0}],{"k":2}],"p":3}""", "o.k", """{"o":[[{"k":1}],{"k":2}]}""")] // nested arrays
    [InlineData("""{"t":["x","y"],"u":null}""", "t,u", """{"t":["x","y"],"u":null}""")]          // whole values, null kept
    [InlineData("""{"a.b":1,"a.c.d":2,"ab.c":3}""", "a", """{"a.b":1,"a.c.d":2}""")]             // flat keys under an included whole path
    public void Source_filter_cases(string document, string includes, string expected)
    {
        var filter = new SourceFilter(includes.Split(','));
        Assert.Equal(expected, Encoding.UTF8.GetString(filter.Apply(Encoding.UTF8.GetBytes(document))));
        Assert.Equal(expected, Encoding.UTF8.GetString(filter.Apply(Encoding.UTF8.GetBytes(document)))); // reusable
    }

    [Fact]
    public void Format_registry_refuses_unknown_formats_naming_the_known_ones()
    {
        var error = Assert.Throws<ExportException>(() => FormatRegistry.CreateDefault().Get("xml"));
        Assert.Equal(ExportErrorCode.UnknownFormat, error.Code);
        Assert.Contains("csv", error.Message);
    }
}
