using System.Text;
using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Runs;
using ExportsPS.Engine.Sample;
using ExportsPS.Engine.Sources;
using ExportsPS.Engine.Sources.OpenSearch;
using ExportsPS.Tests.Shared;

namespace ExportsPS.Engine.Tests.OpenSearch;

/// <summary>The OpenSearch source against a loopback server that answers from the embedded index: the same
/// export through both sources must yield the same records — no duplicate, no miss — whatever the page
/// size, slice count, read method or injected fault.</summary>
public sealed class OpenSearchSourceTests : IDisposable
{
    const int Documents = 2500;
    readonly TestHome _home = new();
    readonly LoopbackOpenSearch _server;

    public OpenSearchSourceTests()
    {
        _home.LoadSample(SampleKind.Events, Documents);
        _server = new LoopbackOpenSearch(_home.Service.Indexes);
    }

    public void Dispose()
    {
        _server.Dispose();
        _home.Dispose();
    }

    void Register(string name = "cluster", int pageSize = 500, string? tiebreaker = null, OpenSearchReadMode mode = OpenSearchReadMode.Auto,
        OpenSearchAuth auth = OpenSearchAuth.None, string? secret = null, string? user = null, int maxRetries = 4,
        TimeSpan? maxRetryDelay = null, TimeSpan? requestTimeout = null)
    {
        var defaults = new OpenSearchSettings { Name = name, Urls = [_server.Url] };
        (defaults with
        {
            PageSize = pageSize, TiebreakerField = tiebreaker, ReadMode = mode,
            Auth = auth, Username = user, ProtectedSecret = secret is null ? null : _home.Service.Vault.Protect(secret),
            MaxRetries = maxRetries, RetryDelay = TimeSpan.FromMilliseconds(20),
            MaxRetryDelay = maxRetryDelay ?? defaults.MaxRetryDelay, RequestTimeout = requestTimeout ?? defaults.RequestTimeout,
        }).Save(_home.Catalog);
    }

    List<string> Lines(string exportName) =>
        File.ReadAllLines(Path.Combine(_home.Home.ExportsFolder, exportName, exportName + ".jsonl")).ToList();

    RunRecord Export(string name, string source, string query = "*", IReadOnlyList<string>? fields = null, int slices = 1,
        string? from = null, string? to = null) =>
        _home.Run(new ExportDefinition
        {
            Name = name, Query = query, Source = source, Format = "jsonl", Fields = fields ?? Array.Empty<string>(),
            Slices = slices, From = from, To = to,
        });

    void AssertSameRecords(string expectedExport, string actualExport)
    {
        var expected = Lines(expectedExport);
        var actual = Lines(actualExport);
        Assert.Equal(expected.Count, actual.Count);
        Assert.Equal(actual.Count, actual.Distinct().Count()); // no duplicate
        expected.Sort(StringComparer.Ordinal);
        actual.Sort(StringComparer.Ordinal);
        Assert.Equal(expected, actual);
    }

    public static TheoryData<string, string, int, int, string?> Readings() => new()
    {
        // version, distribution, page size, slices, tiebreaker
        { "3.3.0", "opensearch", 500, 1, null },
        { "3.3.0", "opensearch", 7, 1, null },
        { "3.3.0", "opensearch", 333, 4, null },
        { "3.3.0", "opensearch", 2500, 3, null },
        { "2.11.1", "opensearch", 400, 1, "event.id" },
        { "2.11.1", "opensearch", 97, 5, "event.id" },
        { "2.3.0", "opensearch", 450, 1, null },   // no PIT: scroll
        { "2.3.0", "opensearch", 120, 3, null },   // sliced scroll
        { "7.10.2", "elasticsearch", 1000, 2, null },
    };

    [Theory]
    [MemberData(nameof(Readings))]
    public void Same_records_as_the_embedded_source_across_versions_page_sizes_and_slices(string version, string distribution, int pageSize, int slices, string? tiebreaker)
    {
        _server.Version = version;
        _server.Distribution = distribution;
        Register(pageSize: pageSize, tiebreaker: tiebreaker);
        var query = "event.category:authentication OR event.outcome:failure";
        var fields = new[] { "@timestamp", "event.id", "source.ip", "tags" };
        Assert.Equal(RunStatus.Completed, Export("embedded-copy", SourceNames.Embedded, query, fields).Status);
        var run = Export("opensearch-copy", "cluster", query, fields, slices);
        Assert.True(run.Status == RunStatus.Completed, run.Error);
        AssertSameRecords("embedded-copy", "opensearch-copy");
        Assert.True(Lines("opensearch-copy").Count > 500);
        Assert.Equal(0, _server.OpenContexts); // PIT deleted / scrolls cleared
    }

    /// <summary>A shard failing while the point in time is created: OpenSearch would create it without that shard
    /// by default, and every page and total after would silently leave its documents out.</summary>
    [Fact]
    public void A_point_in_time_missing_a_shard_fails_the_run_instead_of_leaving_its_documents_out()
    {
        _server.FailedPitShards = 1;
        Register(maxRetries: 0);
        var run = Export("partial", "cluster");
        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains(_server.RequestsTo("/_search/point_in_time"), r => r.Path.Contains("allow_partial_pit_creation=false"));
        Assert.Equal(0, _server.OpenContexts);

        // A cluster that ignores the parameter (and creates the PIT anyway) is caught by the shard count it answers with.
        _server.IgnorePartialPitParameter = true;
        run = Export("partial", "cluster");
        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("without 1 of its shards", run.Error);
        Assert.Equal(0, _server.OpenContexts); // the partial PIT was deleted
    }

    [Fact]
    public void A_time_range_becomes_a_filter_and_matches_the_embedded_range()
    {
        Register();
        var from = TestHome.SampleEnd.AddDays(-3).ToString("o");
        var to = TestHome.SampleEnd.AddDays(-1).ToString("o");
        Export("embedded-range", SourceNames.Embedded, "*", from: from, to: to);
        var run = Export("opensearch-range", "cluster", "*", from: from, to: to, slices: 2);
        Assert.True(run.Status == RunStatus.Completed, run.Error);
        AssertSameRecords("embedded-range", "opensearch-range");
        Assert.InRange(Lines("opensearch-range").Count, 1, Documents - 1);
        Assert.Contains(_server.RequestsTo("/_search"), r => r.Body.Contains("\"range\"") && r.Body.Contains("\"gte\"") && r.Body.Contains("\"lt\""));
    }

    [Fact]
    public void Total_is_tracked_on_the_first_page_of_each_slice_only_and_the_newest_pit_id_is_always_sent()
    {
        _server.RotatePitIds = true;
        Register(pageSize: 100);
        var run = Export("rotating", "cluster", "*", slices: 1);
        Assert.True(run.Status == RunStatus.Completed, run.Error);
        Assert.Equal(Documents, run.Records);
        var searches = _server.RequestsTo("/_search").Where(r => r.Path == "/_search").ToList();
        Assert.True(searches.Count >= Documents / 100);
        Assert.Single(searches, r => r.Body.Contains("\"track_total_hits\":true"));
        Assert.Equal(0, _server.OpenContexts); // deleted with the newest id
    }

    [Fact]
    public void Bursts_of_429_and_503_and_a_connection_dropped_mid_page_are_retried_without_duplicates()
    {
        Register(pageSize: 200, maxRetries: 8); // two slices may draw all six faults between them
        Export("baseline", SourceNames.Embedded);
        _server.Faults.Enqueue(new Fault.Status("/_search", 429));
        _server.Faults.Enqueue(new Fault.Status("/_search", 429, RetryAfterSeconds: 1));
        _server.Faults.Enqueue(new Fault.Status("/_search", 503));
        _server.Faults.Enqueue(new Fault.DropMidBody("/_search"));
        _server.Faults.Enqueue(new Fault.Status("/_search", 502));
        _server.Faults.Enqueue(new Fault.DropMidBody("/_search"));
        var run = Export("faulty", "cluster", "*", slices: 2);
        Assert.True(run.Status == RunStatus.Completed, run.Error);
        Assert.Empty(_server.Faults);
        AssertSameRecords("baseline", "faulty");
        Assert.Equal(0, _server.OpenContexts);
        ReliabilityReport.Record("source faults", "OpenSearch: 6 faults (429 x2 incl. Retry-After, 503, 502, 2 connections dropped mid-page) retried: " +
            $"{Documents:N0} records identical to the embedded export, 0 duplicates, PIT deleted");
    }

    /// <summary>A proxy's "Retry-After: 3600" is waited for at most the source's longest retry delay: an hour's wait
    /// would outlive the point in time being read.</summary>
    [Fact]
    public void A_retry_after_longer_than_the_longest_retry_delay_is_capped()
    {
        Register(maxRetries: 2, maxRetryDelay: TimeSpan.FromMilliseconds(300));
        _server.Faults.Enqueue(new Fault.Status("/_search", 503, RetryAfterSeconds: 3600) { Skip = 2 });
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var run = Export("patient", "cluster");
        Assert.True(run.Status == RunStatus.Completed, run.Error);
        Assert.Empty(_server.Faults);
        Assert.True(clock.Elapsed < TimeSpan.FromMinutes(1), $"waited {clock.Elapsed}");
    }

    /// <summary>One slice failing for good stops the others at once instead of letting them read to the end of a
    /// run that has already failed; the failure reported is the slice's, not the cancellation it caused.</summary>
    [Fact]
    public void A_slice_that_fails_stops_the_other_slices()
    {
        _server.SearchDelay = TimeSpan.FromMilliseconds(30);
        Register(pageSize: 20, maxRetries: 0);
        _server.Faults.Enqueue(new Fault.Status("/_search", 502) { Skip = 8 });
        var run = Export("stopped", "cluster", slices: 4);
        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("502", run.Error);
        // 2,500 documents in pages of 20 are some 125 searches; the slices stop within a few pages of the failure
        // (a margin for a loaded 2-core machine, still far below reading on).
        Assert.InRange(_server.RequestsTo("/_search").Count(r => r.Method == "POST" && !r.Path.Contains("point_in_time")), 9, 50);
        Assert.Equal(0, _server.OpenContexts);
    }

    /// <summary>A cluster behind a gateway path (https://gw.example/opensearch/): every request keeps the path.</summary>
    [Fact]
    public void A_node_url_with_a_path_keeps_it_in_every_request()
    {
        _server.PathPrefix = "/opensearch/";
        new OpenSearchSettings { Name = "gateway", Urls = [new Uri(_server.Url, "opensearch/")], PageSize = 500 }.Save(_home.Catalog);
        var run = Export("through-gateway", "gateway", slices: 2);
        Assert.True(run.Status == RunStatus.Completed, run.Error);
        Assert.Equal(Documents, run.Records);
        Assert.All(_server.RequestsTo("/"), r => Assert.StartsWith("/opensearch/", r.Path));
    }

    [Fact]
    public void A_response_that_stalls_mid_body_times_out_and_is_retried()
    {
        Register(maxRetries: 2, requestTimeout: TimeSpan.FromSeconds(1));
        Export("baseline", SourceNames.Embedded);
        _server.Faults.Enqueue(new Fault.StallMidBody("/_search", TimeSpan.FromSeconds(60)));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var run = Export("stalled", "cluster");
        Assert.True(run.Status == RunStatus.Completed, run.Error);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"{clock.Elapsed}: the stalled page was waited out, not timed out");
        Assert.Empty(_server.Faults);
        AssertSameRecords("baseline", "stalled");
        Assert.Equal(0, _server.OpenContexts);
    }

    [Fact]
    public void Scroll_pages_are_not_resent_after_a_dropped_response_because_that_would_skip_a_page()
    {
        _server.Version = "2.3.0";
        Register(pageSize: 200);
        _server.Faults.Enqueue(new Fault.Status("/_search/scroll", 429)); // refused: safe to resend
        var run = Export("scroll-refused", "cluster");
        Assert.True(run.Status == RunStatus.Completed, run.Error);
        Assert.Equal(Documents, run.Records);

        _server.Faults.Enqueue(new Fault.DropMidBody("/_search/scroll"));
        var failed = _home.Run(new ExportDefinition { Name = "scroll-dropped", Query = "*", Source = "cluster", Format = "jsonl" });
        Assert.Equal(RunStatus.Failed, failed.Status);
        Assert.Contains("dropped the connection", failed.Error);
        Assert.Equal(0, _server.OpenContexts); // the scroll was cleared anyway
        ReliabilityReport.Record("source faults", "OpenSearch scroll: refused page resent, dropped page -> run failed (never a skipped page), scroll cleared");
    }

    [Fact]
    public void Retries_give_up_with_a_clear_error_and_the_pit_is_still_deleted()
    {
        Register(pageSize: 200, maxRetries: 2);
        // The PIT and the first page succeed; the second page is refused three times (1 try + 2 retries).
        _server.Faults.Enqueue(new Fault.Status("/_search", 503) { Skip = 1 });
        _server.Faults.Enqueue(new Fault.Status("/_search", 503));
        _server.Faults.Enqueue(new Fault.Status("/_search", 503));
        var run = Export("give-up", "cluster");
        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("503", run.Error);
        Assert.Contains("3 attempts", run.Error);
        Assert.Equal(0, _server.OpenContexts);
        ReliabilityReport.Record("source faults", "OpenSearch: retries exhausted (3 x 503) -> run failed with the status and attempt count, no file, PIT deleted");
        Assert.False(File.Exists(Path.Combine(_home.Home.ExportsFolder, "give-up", "give-up.jsonl")));
    }

    [Fact]
    public async Task An_expired_point_in_time_fails_the_run_clearly_and_keeps_the_previous_file()
    {
        Register(pageSize: 100);
        Assert.Equal(RunStatus.Completed, Export("expiring", "cluster").Status);
        var path = Path.Combine(_home.Home.ExportsFolder, "expiring", "expiring.jsonl");
        var previous = File.ReadAllBytes(path);
        _server.Faults.Enqueue(new Fault.ExpireContexts("/_search") { Skip = 1 });
        var run = await _home.Service.Start("expiring", RunTrigger.Manual).Completion;
        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("expired", run.Error);
        Assert.Contains("-KeepAlive", run.Error);
        Assert.Equal(previous, File.ReadAllBytes(path));
        ReliabilityReport.Record("source faults", "OpenSearch: PIT expired mid-run -> run failed naming -KeepAlive, previous file byte-identical");
    }

    [Fact]
    public void A_query_the_cluster_cannot_parse_is_refused_before_any_work_with_its_reason()
    {
        Register();
        var error = Assert.Throws<ExportException>(() => _home.Service.Create(new ExportDefinition { Name = "bad", Query = "event.action:(open", Source = "cluster" }));
        Assert.Equal(ExportErrorCode.InvalidQuery, error.Code);
        Assert.Contains("Failed to parse query", error.Message);
        Assert.Null(_home.Catalog.FindExport("bad"));
        Assert.Empty(_server.RequestsTo("point_in_time"));
    }

    [Fact]
    public void Unknown_fields_get_suggestions_and_patterns_expand_to_concrete_fields()
    {
        Register();
        var error = Assert.Throws<ExportException>(() => _home.Service.Create(new ExportDefinition { Name = "typo", Query = "*", Source = "cluster", Fields = ["source.ipp"] }));
        Assert.Equal(ExportErrorCode.InvalidField, error.Code);
        Assert.Contains("source.ip", error.Message);

        var created = _home.Service.Create(new ExportDefinition { Name = "pattern", Query = "*", Source = "cluster", Fields = ["@timestamp", "source.*"], Format = "csv" });
        Assert.Contains("source.ip", created.Fields);
        Assert.Contains("source.port", created.Fields);
        Assert.DoesNotContain(created.Fields, f => f.Contains('*') || f.EndsWith(".keyword"));
        Assert.Equal(created.Fields, _home.Catalog.FindExport("pattern")!.Fields);

        var nothing = Assert.Throws<ExportException>(() => _home.Service.Create(new ExportDefinition { Name = "nothing", Query = "*", Source = "cluster", Fields = ["nosuch.*"] }));
        Assert.Contains("matches no field", nothing.Message);
    }

    [Fact]
    public void Authentication_errors_are_distinct_and_the_secret_is_sent_but_never_stored_in_plain_text()
    {
        _server.RequiredAuthorization = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("reader:s3cret-Passw0rd"));
        Register(auth: OpenSearchAuth.Basic, user: "reader", secret: "wrong-password");
        var denied = Assert.Throws<ExportException>(() => _home.Service.Create(new ExportDefinition { Name = "auth", Query = "*", Source = "cluster" }));
        Assert.Equal(ExportErrorCode.SourceAuthenticationFailed, denied.Code);
        Assert.DoesNotContain("wrong-password", denied.Message);

        Register(auth: OpenSearchAuth.Basic, user: "reader", secret: "s3cret-Passw0rd");
        var run = Export("auth", "cluster");
        Assert.True(run.Status == RunStatus.Completed, run.Error);
        var stored = _home.Catalog.FindRegistration(OpenSearchSettings.RegistrationKind, "cluster")!;
        Assert.DoesNotContain("s3cret", stored);
        Assert.Contains("enc:v1:", stored);
        Assert.DoesNotContain("s3cret", OpenSearchSettings.Load(_home.Catalog, "cluster")!.ToString());
    }

    [Fact]
    public void Amazon_opensearch_service_requests_are_signed_with_sigv4_from_the_default_credential_chain()
    {
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", "AKIDEXPORTSPSTEST");
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", "exportsps-test-secret-key");
        try
        {
            new OpenSearchSettings { Name = "aws", Urls = [_server.Url], Auth = OpenSearchAuth.AwsSigV4, AwsRegion = "eu-west-1", PageSize = 1000 }.Save(_home.Catalog);
            var run = _home.Run(new ExportDefinition { Name = "signed", Query = "*", Source = "aws" });
            Assert.True(run.Status == RunStatus.Completed, run.Error);
            Assert.Equal(Documents, run.Records);
            Assert.NotEmpty(_server.Authorizations);
            Assert.All(_server.Authorizations, header =>
            {
                Assert.StartsWith("AWS4-HMAC-SHA256 Credential=AKIDEXPORTSPSTEST/", header);
                Assert.Contains("/eu-west-1/es/aws4_request", header);
                Assert.Contains("Signature=", header);
                Assert.Contains("x-amz-date=", header);
                Assert.DoesNotContain("exportsps-test-secret-key", header);
            });
        }
        finally
        {
            Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", null);
            Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", null);
        }
    }

    /// <summary>Ctrl+C on New-Export or Start-Export against a cluster that answers 503 with Retry-After: the checks
    /// stop at once instead of waiting out every retry (here 4 × 20 s).</summary>
    [Fact]
    public void Checks_before_a_run_stop_when_canceled_while_the_cluster_asks_to_retry_later()
    {
        Register(maxRetries: 4);
        for (var i = 0; i < 5; i++) _server.Faults.Enqueue(new Fault.Status("/_field_caps", 503, RetryAfterSeconds: 20));
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.ThrowsAny<OperationCanceledException>(() =>
            _home.Service.Create(new ExportDefinition { Name = "impatient", Query = "*", Source = "cluster" }, cancel.Token));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.Null(_home.Catalog.FindExport("impatient"));
    }

    /// <summary>A scheduler stopped while it checks a due export's query gives the tick back: it is still due.</summary>
    [Fact]
    public void A_scheduler_stopped_during_the_checks_gives_the_tick_back()
    {
        Register(maxRetries: 4);
        _home.Service.Create(new ExportDefinition { Name = "ticking", Query = "event.action:login", Source = "cluster" });
        var schedule = _home.Service.Schedules.Set("ticking", Engine.Scheduling.ScheduleKind.Interval, "01:00:00", DateTimeOffset.UtcNow);
        for (var i = 0; i < 5; i++) _server.Faults.Enqueue(new Fault.Status("/_validate/query", 503, RetryAfterSeconds: 20));
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.ThrowsAny<OperationCanceledException>(() =>
            _home.Service.Schedules.StartDue(schedule.NextDue!.Value, cancellationToken: cancel.Token).ToList());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.Equal(schedule.NextDue, _home.Service.Schedules.Get("ticking")!.NextDue);
        Assert.Null(_home.Catalog.LatestRun("ticking"));
    }

    /// <summary>Shards that refused a page because their search queue was full: a point-in-time page is asked for
    /// again (no record lost or doubled); any other shard failure, or rejections past -MaxRetries, fail the run.</summary>
    [Fact]
    public void A_page_some_shards_rejected_is_asked_for_again_and_other_shard_failures_fail()
    {
        Register(pageSize: 300, maxRetries: 3);
        Export("baseline", SourceNames.Embedded);
        _server.Faults.Enqueue(new Fault.FailedShard("/_search", "es_rejected_execution_exception"));
        _server.Faults.Enqueue(new Fault.FailedShard("/_search", "opensearch_rejected_execution_exception") { Skip = 3 });
        var run = Export("rejected", "cluster");
        Assert.True(run.Status == RunStatus.Completed, run.Error);
        Assert.Empty(_server.Faults);
        AssertSameRecords("baseline", "rejected");

        _server.Faults.Enqueue(new Fault.FailedShard("/_search", "query_shard_exception") { Skip = 2 });
        var broken = Export("broken", "cluster");
        Assert.Equal(RunStatus.Failed, broken.Status);
        Assert.Contains("failed to answer (injected: queue capacity 1000)", broken.Error);

        for (var i = 0; i < 4; i++) _server.Faults.Enqueue(new Fault.FailedShard("/_search", "es_rejected_execution_exception"));
        var overloaded = Export("overloaded", "cluster");
        Assert.Equal(RunStatus.Failed, overloaded.Status);
        Assert.Contains("refused a page", overloaded.Error);
        Assert.Equal(0, _server.OpenContexts);
    }

    /// <summary>An index whose mapping disables _source answers hits without one: exporting them as {} would lose every
    /// document while the record count still matched the total.</summary>
    [Fact]
    public void Documents_without_their_source_fail_the_run_instead_of_becoming_empty_records()
    {
        Register(pageSize: 300);
        _server.SourceDisabled = true;
        var run = Export("no-source", "cluster");
        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("without its _source", run.Error);
        Assert.Contains("index 'events'", run.Error);
        Assert.Equal(0, _server.OpenContexts);
        Assert.False(File.Exists(Path.Combine(_home.Home.ExportsFolder, "no-source", "no-source.jsonl")));
    }

    /// <summary>A URL resolves . and .. away: -Index .. would have searched the cluster's root (every index).</summary>
    [Theory]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("events,..")]
    [InlineData("events,")]
    public void Dot_segments_are_refused_as_index_names_before_any_request(string index)
    {
        Register();
        var error = Assert.Throws<ExportException>(() => _home.Service.Create(new ExportDefinition { Name = "dots", Query = "*", Source = "cluster", Index = index }));
        Assert.Equal(ExportErrorCode.UnknownIndex, error.Code);
        Assert.DoesNotContain(_server.Requests, r => r.Path.StartsWith("/_field_caps") || r.Path.StartsWith("/_search") || r.Path.StartsWith("/_validate"));
    }

    /// <summary>A first scroll page that fails still opened its scroll on every shard: it is cleared, not left open for
    /// its keep-alive (against a degraded cluster, retried runs would pile up open contexts).</summary>
    [Theory]
    [InlineData("/events/_search", 0)]   // the page that opens the scroll
    [InlineData("/_search/scroll", 1)]   // a later one
    public void A_scroll_page_that_fails_is_still_cleared(string page, int skip)
    {
        _server.Version = "2.3.0"; // before point in time: scroll
        Register(pageSize: 500);
        _server.Faults.Enqueue(new Fault.FailedShard(page, "query_shard_exception") { Skip = skip });
        var run = Export("scroll-fails", "cluster");
        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("failed to answer", run.Error);
        Assert.Equal(0, _server.OpenContexts);
    }

    /// <summary>A tiebreaker that is not unique makes search_after skip the documents sharing a value across pages: the
    /// counts differ, and the run says which setting causes it rather than "re-run", which fails the same way.</summary>
    [Fact]
    public void A_tiebreaker_that_is_not_unique_fails_the_run_naming_the_setting()
    {
        Register(pageSize: 300, tiebreaker: "event.action");
        var run = Export("shared-values", "cluster");
        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("-TiebreakerField 'event.action'", run.Error);
        Assert.Contains("must be unique", run.Error);
    }

    /// <summary>A tiebreaker some index behind a pattern does not map (a new, empty rollover index): OpenSearch calls it a
    /// query_shard_exception, but no edit of the query fixes it.</summary>
    [Theory]
    [InlineData("""{"error":{"root_cause":[{"type":"query_shard_exception","reason":"No mapping found for [uuid] in order to sort on","index":"logs-2025.01.02"}],"type":"search_phase_execution_exception","reason":"all shards failed","phase":"query","grouped":true},"status":400}""")]
    [InlineData("""{"error":{"root_cause":[{"type":"illegal_argument_exception","reason":"Text fields are not optimised for operations that require per-document field data like aggregations and sorting, so these operations are disabled by default. Please use a keyword field instead. Alternatively, set fielddata=true on [message] in order to load field data by uninverting the inverted index."}],"type":"search_phase_execution_exception","reason":"all shards failed"},"status":400}""")]
    public void Sort_errors_name_the_tiebreaker_not_the_query(string body)
    {
        var error = OpenSearchErrorResponse.From(System.Net.HttpStatusCode.BadRequest, Encoding.UTF8.GetBytes(body), HttpMethod.Post, "/_search");
        Assert.Equal(ExportErrorCode.InvalidOption, error.Code);
        Assert.Contains("-TiebreakerField", error.Message);
        var parse = """{"error":{"root_cause":[{"type":"query_shard_exception","reason":"Failed to parse query [event.action:(open]"}],"type":"search_phase_execution_exception","reason":"all shards failed"},"status":400}""";
        Assert.Equal(ExportErrorCode.InvalidQuery, OpenSearchErrorResponse.From(System.Net.HttpStatusCode.BadRequest, Encoding.UTF8.GetBytes(parse), HttpMethod.Post, "/_search").Code);
        var quoting = parse.Replace("event.action:(open", "sort field:(open");                // a broken query that names the words
        Assert.Equal(ExportErrorCode.InvalidQuery, OpenSearchErrorResponse.From(System.Net.HttpStatusCode.BadRequest, Encoding.UTF8.GetBytes(quoting), HttpMethod.Post, "/_search").Code);
    }

    [Fact]
    public void Forbidden_and_missing_index_are_distinct_errors()
    {
        Register();
        _server.Faults.Enqueue(new Fault.Status("/_field_caps", 403));
        var forbidden = Assert.Throws<ExportException>(() => _home.Service.Create(new ExportDefinition { Name = "forbidden", Query = "*", Source = "cluster" }));
        Assert.Equal(ExportErrorCode.SourceAccessDenied, forbidden.Code);
        var missing = Assert.Throws<ExportException>(() => _home.Service.Create(new ExportDefinition { Name = "missing", Query = "*", Source = "cluster", Index = "nosuchindex" }));
        Assert.Equal(ExportErrorCode.UnknownIndex, missing.Code);
        Assert.Contains("nosuchindex", missing.Message);
    }

    [Fact]
    public async Task The_index_map_sends_logical_names_to_real_indices_and_the_probe_reports_capabilities()
    {
        new OpenSearchSettings
        {
            Name = "mapped", Urls = [_server.Url], IndexMap = new Dictionary<string, string> { ["logs"] = "events" },
        }.Save(_home.Catalog);
        var source = (OpenSearchSource)_home.Service.SourceOf("mapped");
        var probe = await source.ProbeAsync("logs", ["source.*"], CancellationToken.None);
        Assert.Equal("events", probe.ResolvedIndex);
        Assert.True(probe.IndexExists);
        Assert.Equal(Documents, probe.DocumentCount);
        Assert.Equal(10000, probe.MaxResultWindow);
        Assert.True(probe.SupportsPointInTime);
        Assert.True(probe.SupportsShardDoc);
        Assert.Equal("PointInTime", probe.ReadMode);
        Assert.Contains("source.ip", probe.Fields);

        _server.Version = "2.11.0";
        var older = await source.ProbeAsync(null, [], CancellationToken.None);
        Assert.False(older.SupportsShardDoc);
        Assert.StartsWith("none", older.SortKey);
        var run = _home.Run(new ExportDefinition { Name = "no-tiebreaker", Query = "*", Source = "mapped", Index = "logs" });
        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("-TiebreakerField", run.Error);
    }

    [Fact]
    public async Task Re_registering_the_source_mid_run_lets_the_running_export_finish()
    {
        Register(pageSize: 10);
        _server.SearchDelay = TimeSpan.FromMilliseconds(20);
        _home.Service.Create(new ExportDefinition { Name = "rotated", Query = "*", Source = "cluster", Format = "jsonl" });
        var handle = _home.Service.Start("rotated", RunTrigger.Manual);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (handle.Processed < 50 && DateTime.UtcNow < deadline) Thread.Sleep(1);
        // Credentials rotated with -Force while the run reads: the next use of the source builds a new client.
        Register(pageSize: 20);
        await _home.Service.Sources.ProbeAsync("cluster", null, [], CancellationToken.None);
        var run = await handle.Completion;
        Assert.True(run.Status == RunStatus.Completed, run.Error);
        Assert.Equal(Documents, run.Records);
        Assert.Equal(0, _server.OpenContexts);
    }

    [Fact]
    public async Task Canceling_a_run_deletes_the_point_in_time()
    {
        Register(pageSize: 10);
        _server.SearchDelay = TimeSpan.FromMilliseconds(20);
        _home.Service.Create(new ExportDefinition { Name = "cancel-me", Query = "*", Source = "cluster", Format = "jsonl", Slices = 2 });
        var handle = _home.Service.Start("cancel-me", RunTrigger.Manual);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (handle.Processed < 50 && DateTime.UtcNow < deadline) Thread.Sleep(1);
        _home.Service.Cancel("cancel-me");
        var run = await handle.Completion;
        Assert.Equal(RunStatus.Canceled, run.Status);
        Assert.Equal(0, _server.OpenContexts);
        Assert.Single(_server.RequestsTo("/_search/point_in_time"), r => r.Method == "DELETE");
    }

    [Fact]
    public void Bad_settings_are_refused_before_registration()
    {
        void Refused(OpenSearchSettings settings, string expected)
        {
            var error = Assert.Throws<ExportException>(() => settings.Save(_home.Catalog));
            Assert.Contains(expected, error.Message);
        }
        Refused(new OpenSearchSettings { Name = "x", Urls = [new Uri("ftp://host/")] }, "http(s)");
        Refused(new OpenSearchSettings { Name = "x", Urls = [new Uri("http://user:pw@host:9200/")] }, "-Credential");
        Refused(new OpenSearchSettings { Name = "x", Urls = [_server.Url], KeepAlive = "5 minutes" }, "-KeepAlive");
        Refused(new OpenSearchSettings { Name = "x", Urls = [_server.Url], PageSize = 20000 }, "-PageSize");
        Refused(new OpenSearchSettings { Name = "x", Urls = [_server.Url], TiebreakerField = "_id" }, "_id");
        Refused(new OpenSearchSettings { Name = "embedded", Urls = [_server.Url] }, "built-in");
        Refused(new OpenSearchSettings { Name = "x", Urls = [_server.Url], Auth = OpenSearchAuth.Basic, Username = "u" }, "secret");
        Assert.Empty(_home.Catalog.ListRegistrations(OpenSearchSettings.RegistrationKind));
    }

    /// <summary>A node that drops connection attempts (powered off, firewalled) times out connecting: nothing was sent,
    /// so even a request that creates server state (a point in time, a scroll) goes to the next node; the error of a
    /// node that stays unreachable names that node.</summary>
    [Fact]
    public void A_node_that_cannot_be_connected_to_is_skipped_even_for_a_point_in_time()
    {
        using var blackhole = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        blackhole.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        blackhole.Listen(0);
        var port = ((System.Net.IPEndPoint)blackhole.LocalEndPoint!).Port;
        // A listener that never accepts, its backlog filled: the kernel drops further connection attempts.
        var fillers = new List<System.Net.Sockets.Socket>();
        for (var i = 0; i < 8; i++)
        {
            var filler = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { Blocking = false };
            try { filler.Connect(System.Net.IPAddress.Loopback, port); } catch (System.Net.Sockets.SocketException) { }
            fillers.Add(filler);
        }
        try
        {
            var dead = new Uri($"http://127.0.0.1:{port}/");
            var settings = new OpenSearchSettings { Name = "c", Urls = [dead, _server.Url], RequestTimeout = TimeSpan.FromSeconds(2), RetryDelay = TimeSpan.FromMilliseconds(10) };
            using (var client = new OpenSearchClient(settings, null))
            using (var body = client.SendAsync(HttpMethod.Post, "/events/_search/point_in_time?keep_alive=1m", null, RetrySafety.RefusalsOnly, CancellationToken.None).GetAwaiter().GetResult())
                Assert.Contains("pit_id", Encoding.UTF8.GetString(body.Span));

            using var alone = new OpenSearchClient(settings with { Urls = [dead], MaxRetries = 1 }, null);
            var error = Assert.ThrowsAny<ExportException>(() => alone.SendAsync(HttpMethod.Get, "/", null, RetrySafety.Idempotent, CancellationToken.None).GetAwaiter().GetResult().Dispose());
            Assert.Contains($"OpenSearch at {dead} could not be connected to within 1 s", error.Message);
            Assert.Contains("Check the URL", error.Message);
        }
        finally
        {
            foreach (var filler in fillers) filler.Dispose();
        }
    }

    [Fact]
    public void An_unreachable_node_is_skipped_for_the_next_one()
    {
        new OpenSearchSettings
        {
            Name = "two-nodes", Urls = [new Uri("http://127.0.0.1:1/"), _server.Url], RetryDelay = TimeSpan.FromMilliseconds(10),
        }.Save(_home.Catalog);
        var run = _home.Run(new ExportDefinition { Name = "failover", Query = "*", Source = "two-nodes", Format = "jsonl" });
        Assert.True(run.Status == RunStatus.Completed, run.Error);
        Assert.Equal(Documents, run.Records);
    }
}
