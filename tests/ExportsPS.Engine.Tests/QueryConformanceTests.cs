using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Sources;
using ExportsPS.Engine.Sources.Embedded;

namespace ExportsPS.Engine.Tests;

/// <summary>Lucene/query_string syntax against the embedded index: query → the exact ids it must match.</summary>
public sealed class QueryConformanceTests : IClassFixture<QueryConformanceTests.Corpus>
{
    public sealed class Corpus : IDisposable
    {
        public readonly TestHome Home = new();
        public Corpus() => Home.Load("docs",
            """{"id":"1","@timestamp":"2025-01-01T10:00:00Z","user":{"name":"alice"},"event":{"action":"user-login","outcome":"success"},"source":{"ip":"10.0.0.1","port":22},"bytes":100,"score":0.5,"tags":["prod","ssh"],"message":"Accepted password for alice"}""",
            """{"id":"2","@timestamp":"2025-01-15T12:30:00Z","user":{"name":"bob"},"event":{"action":"user-login","outcome":"failure"},"source":{"ip":"10.0.0.2","port":2222},"bytes":250,"score":1.5,"tags":["prod"],"message":"Failed password for bob"}""",
            """{"id":"3","@timestamp":"2025-01-31T23:59:59Z","user":{"name":"Carol Smith"},"event":{"action":"file-created","outcome":"success"},"source":{"ip":"192.168.1.7"},"bytes":5000,"score":2.5,"tags":["staging"],"message":"Carol created report.xlsx"}""",
            """{"id":"4","@timestamp":"2025-02-01T00:00:00Z","user":{"name":"dave"},"event":{"action":"malware-detected","outcome":"success"},"bytes":0,"active":true,"message":"Trojan quarantined on laptop-7"}""",
            """{"id":"5","@timestamp":"2025-03-10T08:00:00Z","event":{"action":"dns-query","outcome":"success"},"source.ip":"203.0.113.9","bytes":75,"active":false,"message":"query for evil.example"}""",
            """{"id":"6","@timestamp":"2025-03-11T08:00:00Z","user":{"name":"alice"},"event":{"action":"user-logout"},"bytes":1000000,"message":"alice logged out (session 42)"}""");
        public void Dispose() => Home.Dispose();
    }

    readonly Corpus _corpus;
    public QueryConformanceTests(Corpus corpus) => _corpus = corpus;

    public static TheoryData<string, string> Cases => new()
    {
        { "*", "1,2,3,4,5,6" },
        { "", "1,2,3,4,5,6" },
        { "user.name:alice", "1,6" },
        { "alice", "1,6" },                                   // default field: all text
        { "ALICE", "1,6" },                                   // text is case-insensitive
        // A term without a field also searches the numbers, dates and booleans it reads as, as OpenSearch's
        // lenient default_field * does; a field it cannot be read as cannot match it.
        { "22", "1" },                                        // source.port
        { "5000", "3" },                                      // bytes (and year 5000 of @timestamp: none)
        { "1.5", "2" },                                       // score; no whole-number bytes is 1.5
        { "42", "6" },                                        // a word of the message
        { "true", "4" },                                      // active
        { "FALSE", "5" },
        { "2025-03-10", "5" },                                // a timestamp in that day
        { "2025", "1,2,3,4,5,6" },                            // ... and in that year
        { "10.0.0.1", "1" },
        { "9999", "" },                                       // the last year a date can name: no overflow
        { "@timestamp:<9999-12-31", "1,2,3,4,5,6" },                                  // text only: no number or date reads it
        { "alice OR 250", "1,2,6" },
        { "-22", "2,3,4,5,6" },                               // not port 22 (prohibited, not negative)
        { "\\-22", "" },                                    // escaped: minus 22 nowhere
        { "quarant*", "4" },                                  // default field: wildcard over every text field
        { "\"password for\"", "1,2" },                        // default field: phrase
        { "user.name.keyword:alice", "1,6" },
        { "user.name.keyword:Alice", "" },                    // keyword is exact
        { "user.name:\"carol smith\"", "3" },                 // phrase
        { "message:\"password for\"", "1,2" },
        { "event.action:user-login AND event.outcome:failure", "2" },
        { "event.action:user-login OR event.action:dns-query", "1,2,5" },
        { "event.action:user-login AND NOT user.name:bob", "1" },
        { "(user.name:alice OR user.name:bob) AND event.outcome:success", "1" },
        { "-event.outcome:success", "2,6" },
        { "+user.name:alice -event.action:user-logout", "1" },
        { "user.name:al*", "1,6" },                           // wildcard
        { "user.name:?ob", "2" },
        { "event.action.keyword:user-log*", "1,2,6" },
        { "source.ip:10.0.0.*", "1,2" },
        { "source.ip:203.0.113.9", "5" },                     // flat dotted key in _source
        { "bytes:[100 TO 1000]", "1,2" },                     // numeric range, inclusive
        { "bytes:{100 TO 1000]", "2" },                       // exclusive lower
        { "bytes:>=5000", "3,6" },                            // query_string comparison
        { "bytes:<100", "4,5" },
        { "bytes:100", "1" },
        { "score:[1 TO 2]", "2" },                            // double range
        { "@timestamp:[2025-01-01 TO 2025-01-31]", "1,2,3" }, // date range, inclusive day
        { "@timestamp:[2025-01-01 TO 2025-01-31}", "1,2" },   // exclusive upper
        { "@timestamp:>2025-01-31", "4,5,6" },                // after that whole day
        { "@timestamp:2025-03-10", "5" },                     // a date term covers the day
        { "@timestamp:[2025-03-01||/M TO 2025-03-01||+1M/M}", "5,6" }, // date math bounds
        { "@timestamp:[* TO 2025-01-15T12:30:00Z]", "1,2" },
        { "active:true", "4" },
        { "active:false", "5" },
        { "_exists_:active", "4,5" },
        { "_exists_:source", "1,2,3,5" },                     // object path exists
        { "NOT _exists_:user", "5" },
        { "tags:prod", "1,2" },                               // array values
        { "tags:prod AND tags:ssh", "1" },
        { "message:quarantin~1", "" },                        // fuzzy: edit distance 1 is not enough for the stem
        { "message:quarantine~2", "4" },
        { "message:/sess.*/", "6" },                          // regexp
        { "user.name:alice^2 OR user.name:bob", "1,2,6" },   // boost
        { "user.name.keyword:*", "1,2,3,4,6" },               // a text field's keyword subfield exists
        { "_exists_:user.name.keyword", "1,2,3,4,6" },
        { "bytes:*", "1,2,3,4,5,6" },
        { "*:* AND NOT event.outcome:success", "2,6" },       // match-all inside a larger query
        { "bytes:<100.5", "1,4,5" },                          // a fractional bound on a whole-number field
        { "bytes:>99.5", "1,2,3,6" },
        { "bytes:100.5", "" },
        // Ranges on text compare its terms (lowercased words), bounds normalised alike, as OpenSearch does;
        // on keyword, the whole exact value.
        { "user.name:{* TO b}", "1,6" },
        { "user.name:>m", "3" },                              // "smith"
        { "user.name:[a TO d]", "1,2,3,6" },                  // "carol" of "Carol Smith"
        { "user.name:[A TO D]", "1,2,3,6" },
        { "user.name.keyword:[A TO Z]", "3" },                // only "Carol Smith" starts upper-case
        { "@timestamp:2025-01", "1,2,3" },                    // a month, as the refusal hints suggest
        { "@timestamp:2025", "1,2,3,4,5,6" },                 // a year
        { "@timestamp:[2025-02 TO 2025-03]", "4,5,6" },       // an inclusive upper month covers all of it
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Query_matches_exactly_the_expected_documents(string query, string expectedIds)
    {
        var source = new EmbeddedSource(_corpus.Home.Service.Indexes);
        var request = new SourceQuery("docs", query, ["id"], "@timestamp", null, null);
        await using var session = await source.OpenAsync(request, CancellationToken.None);
        using var queue = new RecordBatchQueue(64, CancellationToken.None);
        await session.ReadAsync(queue, CancellationToken.None);
        queue.CompleteAdding();
        var ids = new List<string>();
        foreach (var batch in queue.Consume())
            for (var i = 0; i < batch.Count; i++)
            {
                using var doc = System.Text.Json.JsonDocument.Parse(batch[i].ToArray());
                ids.Add(doc.RootElement.GetProperty("id").GetString()!);
            }
        Assert.Equal(expectedIds, string.Join(",", ids.OrderBy(x => x)));
        Assert.Equal(ids.Count, session.Total);
    }

    [Theory]
    [InlineData("user.name:(alice", "InvalidQuery")]
    [InlineData("AND OR", "InvalidQuery")]
    [InlineData("bytes:[1 TO", "InvalidQuery")]
    [InlineData("usr.name:alice", "InvalidField")]
    [InlineData("bytes:[abc TO 5]", "InvalidQuery")]
    [InlineData("@timestamp:[yesterday TO now]", "InvalidQuery")]
    [InlineData("_exists_:nothing", "InvalidField")]
    [InlineData("bytes:10*", "InvalidQuery")]                 // wildcards compare characters: refused on numbers,
    [InlineData("@timestamp:2025-01*", "InvalidQuery")]       // dates
    [InlineData("active:tr?e", "InvalidQuery")]               // and booleans, as OpenSearch does
    [InlineData("bytes:/10.*/", "InvalidQuery")]
    public void Bad_queries_are_refused_before_any_work_with_a_clear_error(string query, string code)
    {
        var source = new EmbeddedSource(_corpus.Home.Service.Indexes);
        var error = Assert.Throws<ExportException>(() => source.Validate(new SourceQuery("docs", query, [], "@timestamp", null, null)));
        Assert.Equal(code, error.Code.ToString());
        Assert.Contains(code == "InvalidField" ? "does not have" : "", error.Message);
    }

    [Fact]
    public void A_parse_error_names_its_position()
    {
        var source = new EmbeddedSource(_corpus.Home.Service.Indexes);
        var error = Assert.Throws<ExportException>(() => source.Validate(new SourceQuery("docs", "user.name:(alice", [], "@timestamp", null, null)));
        Assert.Matches("column \\d+", error.Message);
    }

    [Fact]
    public void An_unknown_field_suggests_the_closest_ones()
    {
        var source = new EmbeddedSource(_corpus.Home.Service.Indexes);
        var error = Assert.Throws<ExportException>(() => source.Validate(new SourceQuery("docs", "usr.name:alice", [], "@timestamp", null, null)));
        Assert.Contains("user.name", error.Message);
    }
}
