using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Secrets;
using Polly;
using Polly.Retry;

namespace ExportsPS.Engine.Sources.OpenSearch;

/// <summary>Whether a request may be sent again after its response was lost. Search pages with a PIT and
/// search_after are (the same request returns the same page); a scroll page is not (the cluster already
/// advanced the cursor), so it is retried only when the cluster refused it outright.</summary>
internal enum RetrySafety { Idempotent, RefusalsOnly }

/// <summary>The whole HTTP conversation with OpenSearch, in one place: node rotation, auth, TLS, retries with
/// backoff and jitter (Polly) on 429/502/503/504 and dropped connections, and turning error responses into
/// <see cref="ExportException"/>s that say what the cluster said. Responses are read whole into a pooled
/// buffer before parsing, so a connection dropped mid-page is retried without publishing half a page.</summary>
internal sealed class OpenSearchClient : IDisposable
{
    static readonly HttpStatusCode[] Transient =
        [HttpStatusCode.TooManyRequests, HttpStatusCode.BadGateway, HttpStatusCode.ServiceUnavailable, HttpStatusCode.GatewayTimeout];

    readonly OpenSearchSettings _settings;
    readonly HttpClient _http;
    readonly AuthenticationHeaderValue? _authorization;
    readonly ResiliencePipeline _idempotent;
    readonly ResiliencePipeline _refusalsOnly;
    int _node;
    long _retries;

    public OpenSearchClient(OpenSearchSettings settings, SecretVault? vault)
    {
        _settings = settings;
        // Half the request timeout at most, so a connect that times out is told apart from a request that did.
        _connectTimeout = settings.RequestTimeout / 2 < TimeSpan.FromSeconds(10) ? settings.RequestTimeout / 2 : TimeSpan.FromSeconds(10);
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate,
            MaxConnectionsPerServer = 64,
            // A node that drops packets (powered off, firewalled) must not hold a request for the whole request timeout
            // before the next node is tried.
            ConnectTimeout = _connectTimeout,
        };
        if (settings.SkipCertificateCheck)
            handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        else if (settings.CertificateAuthorityPath is { } caPath)
            handler.SslOptions.RemoteCertificateValidationCallback = TrustOnly(LoadCertificate(caPath));
        // Amazon OpenSearch Service: every request signed with SigV4 by AWSSDK.Core's public signing handler,
        // with credentials from the SDK's default chain (environment, shared profile, instance or pod role).
        HttpMessageHandler pipeline = settings.Auth == OpenSearchAuth.AwsSigV4
            ? new Amazon.Runtime.Signing.SigV4SigningHandler(Amazon.Runtime.Credentials.DefaultAWSCredentialsIdentityResolver.GetCredentials(null),
                Amazon.RegionEndpoint.GetBySystemName(settings.AwsRegion), settings.AwsService, handler)
            : handler;
        _http = new HttpClient(pipeline) { Timeout = settings.RequestTimeout };
        _http.DefaultRequestHeaders.AcceptEncoding.ParseAdd("gzip");
        _authorization = Authorization(settings, vault);
        _idempotent = Pipeline(settings, refusalsOnly: false);
        _refusalsOnly = Pipeline(settings, refusalsOnly: true);
    }

    /// <summary>Requests sent again after a transient failure (for the run's statistics).</summary>
    public long Retries => Interlocked.Read(ref _retries);

    public Uri CurrentNode => _settings.Urls[Volatile.Read(ref _node) % _settings.Urls.Count];

    static X509Certificate2 LoadCertificate(string path)
    {
        try { return new X509Certificate2(path); }
        catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or IOException)
        {
            throw new ExportException(ExportErrorCode.InvalidPath, $"'{path}' is not a PEM or DER certificate: {ex.Message}", path, ex);
        }
    }

    static RemoteCertificateValidationCallback TrustOnly(X509Certificate2 authority) => (_, certificate, presented, errors) =>
    {
        if (certificate is null) return false;
        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        // The intermediates the server sent: a root CA file alone reaches a leaf signed by an intermediate only through
        // them (or a download from the certificate's AIA URL, which a private CA rarely serves).
        if (presented is not null) chain.ChainPolicy.ExtraStore.AddRange(presented.ChainPolicy.ExtraStore);
        return chain.Build(new X509Certificate2(certificate));
    };

    static AuthenticationHeaderValue? Authorization(OpenSearchSettings settings, SecretVault? vault)
    {
        if (settings.Auth is OpenSearchAuth.None or OpenSearchAuth.AwsSigV4) return null;
        if (vault is null) throw new InvalidOperationException("a secret vault is needed to authenticate");
        var secret = vault.Unprotect(settings.ProtectedSecret!);
        return settings.Auth switch
        {
            OpenSearchAuth.Basic => new AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes($"{settings.Username}:{secret}"))),
            OpenSearchAuth.ApiKey => new AuthenticationHeaderValue("ApiKey", secret),
            _ => new AuthenticationHeaderValue("Bearer", secret),
        };
    }

    /// <summary>The node's URL joined with the API path, keeping a path the node is served under (a gateway's
    /// https://gw/opensearch/): <c>new Uri(node, "/_search")</c> would drop it.</summary>
    static Uri Join(Uri node, string pathAndQuery) => new(node.GetLeftPart(UriPartial.Path).TrimEnd('/') + pathAndQuery);

    ResiliencePipeline Pipeline(OpenSearchSettings settings, bool refusalsOnly)
    {
        if (settings.MaxRetries == 0) return ResiliencePipeline.Empty;
        return new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<TransientFailure>(f => !refusalsOnly || f.Refused),
            MaxRetryAttempts = settings.MaxRetries,
            Delay = settings.RetryDelay,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            MaxDelay = settings.MaxRetryDelay,
            // A cluster that says when to come back knows better than our backoff, up to the longest wait: Polly does not
            // cap what this returns, and a proxy's "Retry-After: 3600" would outlive the point in time being read.
            DelayGenerator = args => ValueTask.FromResult(args.Outcome.Exception is TransientFailure { RetryAfter: { } after }
                ? TimeSpan.FromTicks(Math.Clamp(after.Ticks, 0, settings.MaxRetryDelay.Ticks))
                : (TimeSpan?)null),
            OnRetry = _ => { Interlocked.Increment(ref _retries); return ValueTask.CompletedTask; },
        }).Build();
    }

    /// <summary>Sends a request and returns its whole body; error statuses become <see cref="ExportException"/>s
    /// (or <see cref="OpenSearchErrorResponse"/> for callers that handle a specific cluster error).</summary>
    public Task<ResponseBody> SendAsync(HttpMethod method, string pathAndQuery, byte[]? body, RetrySafety safety,
        CancellationToken cancellationToken) =>
        SendAsync<ResponseBody>(method, pathAndQuery, body, safety, content => (content, null), cancellationToken);

    /// <summary>Sends a request and reads its body with <paramref name="read"/> (which owns it) inside the retries.
    /// A read that returns a refusal instead of a value (a search some shards rejected for a full queue, answered
    /// with 200) is sent again like a 429, with the same backoff and attempts.</summary>
    public async Task<T> SendAsync<T>(HttpMethod method, string pathAndQuery, byte[]? body, RetrySafety safety,
        Func<ResponseBody, (T? Value, string? Refusal)> read, CancellationToken cancellationToken) where T : class
    {
        var pipeline = safety == RetrySafety.Idempotent ? _idempotent : _refusalsOnly;
        TransientFailure? last = null;
        try
        {
            return await pipeline.ExecuteAsync(async token =>
            {
                try
                {
                    var (value, refusal) = read(await SendOnceAsync(method, pathAndQuery, body, token));
                    return value ?? throw new TransientFailure($"had shards that refused a page ({refusal})", null, refused: true);
                }
                catch (TransientFailure failure) { last = failure; throw; }
            }, cancellationToken);
        }
        catch (TransientFailure failure)
        {
            var attempts = safety == RetrySafety.Idempotent || failure.Refused ? _settings.MaxRetries + 1 : 1;
            throw new ExportException(ExportErrorCode.SourceFailed,
                $"OpenSearch at {failure.Node ?? CurrentNode} {failure.Message} ({attempts} attempt{(attempts == 1 ? "" : "s")}). " +
                (failure.Unreachable
                    ? "Check the URL, that the cluster is reachable from this host and, for a TLS error, -CertificatePath."
                    : failure.Refused
                    ? "The cluster is overloaded or restarting: try again later, lower -Slices, or raise -MaxRetries on the source."
                    : "Check the URL and that the cluster is reachable from this host."),
                _settings.Name, last?.InnerException ?? failure.InnerException);
        }
    }

    async Task<ResponseBody> SendOnceAsync(HttpMethod method, string pathAndQuery, byte[]? body, CancellationToken token)
    {
        var node = CurrentNode;
        using var request = new HttpRequestMessage(method, Join(node, pathAndQuery));
        request.Headers.Authorization = _authorization;
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token);
        }
        catch (HttpRequestException ex) when (_settings.Urls.Count == 1 && (
            // A certificate refused, or a name that does not exist; not a handshake cut by a restarting node, nor a DNS blip.
            (ex.HttpRequestError == HttpRequestError.SecureConnectionError && ex.InnerException is System.Security.Authentication.AuthenticationException)
            || (ex.HttpRequestError == HttpRequestError.NameResolutionError && ex.InnerException is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.HostNotFound })))
        {
            // Sending again would fail the same way (with several nodes, the next one is tried instead).
            throw new ExportException(ExportErrorCode.SourceFailed, ex.HttpRequestError == HttpRequestError.SecureConnectionError
                ? $"OpenSearch at {node}: the TLS handshake failed ({ex.InnerException?.Message ?? ex.Message}). If the cluster's certificate is " +
                  "issued by a private CA, give that CA's certificate with -CertificatePath on Register-ExportSource."
                : $"OpenSearch at {node}: the host name does not resolve ({ex.Message}). Check the URL.", _settings.Name, ex);
        }
        catch (HttpRequestException ex)
        {
            NextNode(node);
            // Nothing reached the cluster when no connection was made (refused, a name that did not resolve, a TLS
            // handshake that failed): safe to send again, to the next node.
            throw new TransientFailure($"could not be reached: {ex.Message}", ex, refused: ex.HttpRequestError is HttpRequestError.ConnectionError
                or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError, node: node,
                unreachable: ex.HttpRequestError is HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError);
        }
        catch (TaskCanceledException ex) when (!token.IsCancellationRequested && ex.InnerException is TimeoutException { InnerException: null })
        {
            // SocketsHttpHandler's ConnectTimeout (a node that drops packets): no connection, so nothing was sent. The
            // request timeout's TimeoutException wraps the read it cut short; this one wraps nothing.
            NextNode(node);
            throw new TransientFailure($"could not be connected to within {_connectTimeout.TotalSeconds:0} s", ex, refused: true, node: node, unreachable: true);
        }
        catch (TaskCanceledException ex) when (!token.IsCancellationRequested)
        {
            NextNode(node); // a node that does not answer is as good as down: the retry goes to the next one
            throw new TransientFailure($"did not answer within {_settings.RequestTimeout.TotalSeconds:0} s", ex, refused: false, node: node);
        }
        using (response)
        {
            ResponseBody content;
            try
            {
                content = await ResponseBody.ReadAsync(response, _settings.RequestTimeout, token);
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException)
            {
                throw new TransientFailure($"dropped the connection in the middle of a response: {ex.Message}", ex, refused: false);
            }
            catch (OperationCanceledException ex) when (!token.IsCancellationRequested)
            {
                throw new TransientFailure($"stopped sending a response for {_settings.RequestTimeout.TotalSeconds:0} s", ex, refused: false);
            }
            if (response.IsSuccessStatusCode) return content;
            using (content)
            {
                var status = response.StatusCode;
                if (Transient.Contains(status))
                    throw new TransientFailure($"answered {(int)status} {status}", null,
                        refused: status is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable,
                        retryAfter: response.Headers.RetryAfter is { } retryAfter
                            ? retryAfter.Delta ?? (retryAfter.Date is { } date ? date - DateTimeOffset.UtcNow : null)
                            : null);
                throw OpenSearchErrorResponse.From(status, content.Span, method, pathAndQuery);
            }
        }
    }

    void NextNode(Uri failed)
    {
        var current = Volatile.Read(ref _node);
        if (_settings.Urls[current % _settings.Urls.Count] == failed) Interlocked.CompareExchange(ref _node, current + 1, current);
    }

    public void Dispose() => _http.Dispose();

    readonly TimeSpan _connectTimeout;

    sealed class TransientFailure : Exception
    {
        public TransientFailure(string message, Exception? inner, bool refused, TimeSpan? retryAfter = null, Uri? node = null, bool unreachable = false) : base(message, inner)
        {
            Unreachable = unreachable;
            Refused = refused;
            RetryAfter = retryAfter;
            Node = node;
        }

        /// <summary>No connection could be made (no answer to connect, a name that does not resolve, a failed TLS handshake):
        /// resent to the next node like a refusal, but the advice is about the address, not the load.</summary>
        public bool Unreachable { get; }

        /// <summary>The node that failed (the client has moved on to the next one by the time the error is told).</summary>
        public Uri? Node { get; }

        /// <summary>The cluster did not process the request (429, 503, connection refused).</summary>
        public bool Refused { get; }
        public TimeSpan? RetryAfter { get; }
    }
}

/// <summary>A response body in a pooled buffer; dispose to return the buffer.</summary>
internal sealed class ResponseBody : IDisposable
{
    byte[] _buffer;
    int _length;

    ResponseBody(byte[] buffer, int length)
    {
        _buffer = buffer;
        _length = length;
    }

    public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, _length);
    public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, _length);

    /// <summary>Reads the whole body, giving up when no byte arrives for <paramref name="idleTimeout"/>: with
    /// ResponseHeadersRead, HttpClient.Timeout stops at the headers, and a node that stalls mid-body would
    /// otherwise hold the run forever.</summary>
    public static async Task<ResponseBody> ReadAsync(HttpResponseMessage response, TimeSpan idleTimeout, CancellationToken token)
    {
        var expected = response.Content.Headers.ContentLength;
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Clamp(expected ?? 64 * 1024, 4096, 64 * 1024 * 1024));
        var length = 0;
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(token);
        try
        {
            idle.CancelAfter(idleTimeout);
            await using var stream = await response.Content.ReadAsStreamAsync(idle.Token);
            while (true)
            {
                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
                idle.CancelAfter(idleTimeout);
                var read = await stream.ReadAsync(buffer.AsMemory(length), idle.Token);
                if (read == 0) break;
                length += read;
            }
            if (expected is { } declared && declared != length && response.Content.Headers.ContentEncoding.Count == 0)
                throw new IOException($"the response ended after {length} of {declared} bytes");
            return new ResponseBody(buffer, length);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, Array.Empty<byte>());
        if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
        _length = 0;
    }
}

/// <summary>An error response the cluster sent, with its error type and reason: thrown as an
/// <see cref="ExportException"/> whose code and message say what to do about it.</summary>
internal static class OpenSearchErrorResponse
{
    public const string ContextMissing = "search_context_missing_exception";

    public static ExportException From(HttpStatusCode status, ReadOnlySpan<byte> body, HttpMethod method, string path)
    {
        var (type, reason) = Describe(body);
        var what = $"{method} {path.Split('?')[0]}";
        return status switch
        {
            HttpStatusCode.Unauthorized => new ExportException(ExportErrorCode.SourceAuthenticationFailed,
                $"OpenSearch refused the credentials (401) for {what}. Register the source again with the right -Credential, -ApiKey or -BearerToken.", path),
            HttpStatusCode.Forbidden => new ExportException(ExportErrorCode.SourceAccessDenied,
                $"The OpenSearch user may not do {what} (403: {reason}). Grant it read access to the index (indices:data/read/search, point_in_time, field_caps).", path),
            HttpStatusCode.NotFound when type == "index_not_found_exception" => new ExportException(ExportErrorCode.UnknownIndex,
                $"OpenSearch has no index matching '{IndexOf(reason)}' ({reason}). Check -Index or the source's -IndexMap; Test-ExportSource lists what exists.", IndexOf(reason)),
            HttpStatusCode.NotFound when type == ContextMissing || reason.Contains("search context", StringComparison.OrdinalIgnoreCase)
                || reason.Contains("point in time", StringComparison.OrdinalIgnoreCase) => new ExportException(ExportErrorCode.SourceFailed,
                $"The point in time or scroll expired on the cluster between pages ({reason}). Raise -KeepAlive on the source (Register-ExportSource -Force) and run the export again.", ContextMissing),
            // Before the query check: these are query_shard_exceptions too, but no edit of the query fixes them.
            HttpStatusCode.BadRequest when IsSortError(reason) => new ExportException(ExportErrorCode.InvalidOption,
                $"OpenSearch cannot sort on the source's order field: {reason}. The -TiebreakerField must be a keyword or numeric field " +
                "mapped in every index the export reads (a new, empty index behind a pattern too); choose one that is, or on OpenSearch 3.3 " +
                "and later leave it out to sort on _shard_doc.", reason),
            HttpStatusCode.BadRequest when IsQueryError(type, reason) => new ExportException(ExportErrorCode.InvalidQuery,
                $"OpenSearch cannot parse the query: {reason}. Fix the Lucene query (quote values with spaces or special characters).", reason),
            _ => new ExportException(ExportErrorCode.SourceFailed,
                $"OpenSearch answered {(int)status} to {what}: {(type.Length > 0 ? type + ": " : "")}{reason}", path),
        };
    }

    static bool IsSortError(string reason) => !reason.Contains("parse query", StringComparison.OrdinalIgnoreCase) && (
        reason.Contains("in order to sort on", StringComparison.OrdinalIgnoreCase) || reason.Contains("search_after", StringComparison.OrdinalIgnoreCase)
        || reason.Contains("sort field", StringComparison.OrdinalIgnoreCase) || reason.Contains("fielddata", StringComparison.OrdinalIgnoreCase));

    static bool IsQueryError(string type, string reason) =>
        type is "query_shard_exception" or "parsing_exception" or "search_phase_execution_exception" or "query_string_parse_exception"
        || reason.Contains("parse", StringComparison.OrdinalIgnoreCase);

    static string IndexOf(string reason)
    {
        var start = reason.IndexOf('[');
        var end = reason.IndexOf(']', start + 1);
        return start >= 0 && end > start ? reason[(start + 1)..end] : reason;
    }

    /// <summary>The most specific error type and reason: the root cause, unless the top level says more.</summary>
    public static (string Type, string Reason) Describe(ReadOnlySpan<byte> body)
    {
        try
        {
            using var document = JsonDocument.Parse(body.ToArray());
            if (!document.RootElement.TryGetProperty("error", out var error)) return ("", Encoding.UTF8.GetString(body));
            if (error.ValueKind == JsonValueKind.String) return ("", error.GetString()!);
            var type = error.TryGetProperty("type", out var t) ? t.GetString() ?? "" : "";
            var reason = error.TryGetProperty("reason", out var r) ? r.GetString() ?? "" : "";
            if (error.TryGetProperty("root_cause", out var causes) && causes.ValueKind == JsonValueKind.Array && causes.GetArrayLength() > 0)
            {
                var root = causes[0];
                var rootType = root.TryGetProperty("type", out var rt) ? rt.GetString() ?? "" : "";
                var rootReason = root.TryGetProperty("reason", out var rr) ? rr.GetString() ?? "" : "";
                if (rootReason.Length > 0 && (reason.Length == 0 || reason == "all shards failed")) return (rootType, rootReason);
            }
            if (error.TryGetProperty("caused_by", out var cause) && cause.TryGetProperty("reason", out var causeReason) && reason == "all shards failed")
                reason = causeReason.GetString() ?? reason;
            return (type, reason);
        }
        catch (JsonException)
        {
            var text = Encoding.UTF8.GetString(body);
            return ("", text.Length > 300 ? text[..300] + "…" : text);
        }
    }
}
