using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using ExportsPS.Engine.Exports;
using Lucene.Net.Analysis;
using Lucene.Net.Index;
using Lucene.Net.QueryParsers.Classic;
using Lucene.Net.Search;
using Lucene.Net.Util;

namespace ExportsPS.Engine.Sources.Embedded;

/// <summary>Lucene/<c>query_string</c> syntax over the embedded index. The classic parser does the syntax;
/// this class gives fields their OpenSearch meaning: numeric and date fields get numeric queries (the
/// classic parser's own date ranges silently match nothing), keyword fields match exactly, booleans
/// literally, <c>_exists_:f</c> tests field presence, and <c>f:&gt;v</c>-style comparisons become ranges.
/// Unknown fields are an error (OpenSearch would match nothing silently).</summary>
internal sealed partial class EmbeddedQueryParser : QueryParser
{
    readonly IndexMapping _mapping;
    readonly DateTimeOffset _now;

    EmbeddedQueryParser(IndexMapping mapping, Analyzer analyzer, DateTimeOffset now)
        : base(LuceneVersion.LUCENE_48, EmbeddedFields.All, analyzer)
    {
        _mapping = mapping;
        _now = now;
        AllowLeadingWildcard = true;
        DefaultOperator = OR_OPERATOR;
        // user-login means that exact sequence, not "user OR login" (which would match user-logout).
        AutoGeneratePhraseQueries = true;
    }

    public static Query Parse(string queryText, IndexMapping mapping, Analyzer analyzer, DateTimeOffset now)
    {
        var trimmed = queryText.Trim();
        if (trimmed.Length == 0 || trimmed == "*" || trimmed == "*:*") return new MatchAllDocsQuery();
        var parser = new EmbeddedQueryParser(mapping, analyzer, now);
        try
        {
            return MatchAllWhenOnlyNegative(parser.Parse(RewriteComparisons(trimmed)));
        }
        catch (ParseException ex)
        {
            throw Invalid(queryText, Describe(ex), ex);
        }
        catch (TokenMgrError ex)
        {
            throw Invalid(queryText, ex.Message, ex);
        }
        catch (ExportException)
        {
            throw;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            throw Invalid(queryText, ex.Message, ex);
        }
    }

    /// <summary>Lucene matches nothing for a purely negative query (<c>NOT x</c>, <c>-x</c>); OpenSearch
    /// matches everything except x. Give every purely negative group an implicit match-all.</summary>
    static Query MatchAllWhenOnlyNegative(Query query)
    {
        if (query is not BooleanQuery boolean) return query;
        foreach (var clause in boolean.Clauses) clause.Query = MatchAllWhenOnlyNegative(clause.Query);
        if (boolean.Clauses.Count > 0 && boolean.Clauses.All(c => c.Occur == Occur.MUST_NOT))
            boolean.Add(new MatchAllDocsQuery(), Occur.MUST);
        return boolean;
    }

    static ExportException Invalid(string queryText, string why, Exception inner) =>
        new(ExportErrorCode.InvalidQuery,
            $"The query '{queryText}' does not parse: {why}. Use Lucene query_string syntax, e.g. " +
            "'event.action:login AND source.ip:10.0.0.*' (quote phrases, escape special characters with \\).",
            queryText, inner);

    static string Describe(ParseException ex)
    {
        // "Cannot parse '…': Encountered "<EOF>" at line 1, column 12." — keep the useful tail.
        var message = ex.Message;
        var marker = message.IndexOf("Encountered", StringComparison.Ordinal);
        var detail = marker >= 0 ? message[marker..] : message;
        var newline = detail.IndexOf('\n');
        if (newline > 0) detail = detail[..newline].TrimEnd('.', ' ', '\r');
        return detail;
    }

    [GeneratedRegex(@"(?<field>[^\s:()""\[\]{}]+):(?<op>>=|<=|>|<)(?<value>""[^""]*""|[^\s()]+)")]
    private static partial Regex Comparison();

    /// <summary>query_string's <c>bytes:&gt;100</c> is not classic syntax: rewrite it to a range, outside
    /// quoted phrases only.</summary>
    internal static string RewriteComparisons(string query)
    {
        if (query.IndexOfAny(['<', '>']) < 0) return query;
        var result = new StringBuilder(query.Length + 16);
        var segmentStart = 0;
        var inQuotes = false;
        for (var i = 0; i <= query.Length; i++)
        {
            var atEnd = i == query.Length;
            if (!atEnd && query[i] == '\\') { i++; continue; }
            if (atEnd || query[i] == '"')
            {
                var segment = query[segmentStart..i];
                result.Append(inQuotes ? segment : Comparison().Replace(segment, m =>
                {
                    var field = m.Groups["field"].Value;
                    var value = m.Groups["value"].Value;
                    return m.Groups["op"].Value switch
                    {
                        ">" => $"{field}:{{{value} TO *]",
                        ">=" => $"{field}:[{value} TO *]",
                        "<" => $"{field}:[* TO {value}}}",
                        _ => $"{field}:[* TO {value}]",
                    };
                }));
                if (!atEnd) result.Append('"');
                inQuotes = !inQuotes;
                segmentStart = i + 1;
            }
        }
        return result.ToString();
    }

    FieldKind KindOf(string field)
    {
        return _mapping.Lookup(field) ?? throw UnknownField(field);
    }

    ExportException UnknownField(string field)
    {
        var suggestions = FieldSuggestions.Closest(field, _mapping.FieldOrder, 3);
        var hint = suggestions.Count > 0 ? $" Did you mean {string.Join(", ", suggestions)}?" : "";
        return new ExportException(ExportErrorCode.InvalidField,
            $"The query names field '{field}', which the index does not have.{hint} " +
            "Get-ExportIndex -Name <index> lists the fields.", field);
    }

    /// <summary>Wildcards, prefixes, fuzzy terms and regular expressions without a field compare characters, so they
    /// search the text and keyword fields (OpenSearch's lenient default_field * drops them on the other kinds).</summary>
    Query AnyTextField(Func<string, Query?> perField) =>
        AnyField(_mapping.FieldOrder.Where(f => _mapping.Fields[f] is FieldKind.Text or FieldKind.Keyword), perField);

    /// <summary>A term without a field searches every field that can hold it, as OpenSearch's default_field * does
    /// with its lenient parsing: text and keyword fields always; numbers, dates and booleans where the term reads
    /// as one (404 finds a status code of 404, 2025 a timestamp in that year, true a flag that is set).</summary>
    Query AnyFieldTerm(string queryText, bool quoted) =>
        AnyField(_mapping.FieldOrder, f => _mapping.Fields[f] switch
        {
            FieldKind.Boolean when queryText.ToLowerInvariant() is not ("true" or "false") => null,
            var kind => IfItReads(() => TermOn(f, kind, queryText, quoted)),
        });

    /// <summary>The term does not read as this field's kind (a word on a number field): that field cannot match it.</summary>
    static Query? IfItReads(Func<Query> query)
    {
        try { return query(); }
        catch (ExportException ex) when (ex.Code == ExportErrorCode.InvalidQuery) { return null; }
    }

    Query AnyField(IEnumerable<string> fields, Func<string, Query?> perField)
    {
        var queries = fields.Select(perField).OfType<Query>().ToList();
        // Only an index mapped before the field limit can need this many; Lucene's own error would not say what to do.
        if (queries.Count > BooleanQuery.MaxClauseCount)
            throw new ExportException(ExportErrorCode.InvalidQuery,
                $"A term without a field searches every field that can hold it, here {queries.Count:N0}, more than the " +
                $"{BooleanQuery.MaxClauseCount:N0} one query can search. Name the field to search: field:term.");
        if (queries.Count == 0) return new BooleanQuery(); // no field can hold it: matches nothing
        var any = new BooleanQuery(disableCoord: true);
        foreach (var query in queries) any.Add(query, Occur.SHOULD);
        return any;
    }

    protected override Query GetFieldQuery(string field, string queryText, bool quoted)
    {
        if (field == EmbeddedFields.All) return AnyFieldTerm(queryText, quoted);
        if (field == "_exists_")
        {
            if (!_mapping.Knows(queryText)) throw UnknownField(queryText);
            return Exists(queryText);
        }
        return TermOn(field, KindOf(field), queryText, quoted);
    }

    /// <summary>One term on one field, as the field's kind reads it.</summary>
    Query TermOn(string field, FieldKind kind, string queryText, bool quoted) => kind switch
    {
        FieldKind.Keyword => new TermQuery(new Term(field, queryText)),
        FieldKind.Boolean => new TermQuery(new Term(field, queryText.ToLowerInvariant())),
        // A date term covers its whole unit (2025-01-31 is that day), as OpenSearch rounds it.
        FieldKind.Long or FieldKind.Double or FieldKind.Date => NumericRange(field, queryText, queryText, true, true),
        _ => base.GetFieldQuery(field, queryText, quoted),
    };

    protected override Query GetRangeQuery(string field, string part1, string part2, bool startInclusive, bool endInclusive)
    {
        var kind = KindOf(field);
        if (kind is FieldKind.Long or FieldKind.Double or FieldKind.Date)
            return NumericRange(field, part1, part2, startInclusive, endInclusive);
        // On text, as OpenSearch: the range applies to the field's terms (lowercased words), its bounds normalised
        // alike; 'user.name:[a TO d]' matches "Carol Smith" by "carol". A keyword compares its whole, exact value.
        string? Bound(string part) => Open(part) ? null : kind == FieldKind.Text ? part.ToLowerInvariant() : part;
        return TermRangeQuery.NewStringRange(field, Bound(part1), Bound(part2), startInclusive, endInclusive);
    }

    /// <summary>Documents that have the field (for a text field's <c>.keyword</c>: where it was indexed).</summary>
    static Query Exists(string field) => new TermQuery(new Term(EmbeddedFields.FieldNames, field));

    /// <summary>Wildcards, prefixes, regular expressions and fuzzy terms compare characters; OpenSearch refuses them
    /// on numbers, dates and booleans, and so does this parser rather than silently matching nothing.</summary>
    void RequireCharacters(string field, string what)
    {
        var kind = KindOf(field);
        if (kind is FieldKind.Text or FieldKind.Keyword) return;
        var hint = kind == FieldKind.Date
            ? $"a date term covers its whole unit ({field}:2025-01 is that month), or use a range, e.g. {field}:[2025-01-01 TO 2025-01-31]"
            : $"use a range, e.g. {field}:[100 TO 199]";
        throw new ExportException(ExportErrorCode.InvalidQuery,
            $"Field '{field}' is {kind.ToString()!.ToLowerInvariant()}, and {what} only apply to text and keyword fields: {hint}.", field);
    }

    protected override Query GetWildcardQuery(string field, string termStr)
    {
        if (field == "*" && termStr == "*") return new MatchAllDocsQuery(); // *:* anywhere in a query
        if (field == EmbeddedFields.All) return AnyTextField(f => GetWildcardQuery(f, termStr));
        if (termStr == "*" && KindOf(field) != FieldKind.Text) return Exists(field);
        RequireCharacters(field, "wildcards");
        if (KindOf(field) == FieldKind.Text) return base.GetWildcardQuery(field, termStr);
        return new WildcardQuery(new Term(field, termStr));
    }

    protected override Query GetPrefixQuery(string field, string termStr)
    {
        if (field == EmbeddedFields.All) return AnyTextField(f => GetPrefixQuery(f, termStr));
        RequireCharacters(field, "prefixes");
        if (KindOf(field) == FieldKind.Text) return base.GetPrefixQuery(field, termStr);
        return new PrefixQuery(new Term(field, termStr));
    }

    protected override Query GetFuzzyQuery(string field, string termStr, float minSimilarity)
    {
        if (field == EmbeddedFields.All) return AnyTextField(f => base.GetFuzzyQuery(f, termStr, minSimilarity));
        RequireCharacters(field, "fuzzy terms");
        return base.GetFuzzyQuery(field, termStr, minSimilarity);
    }

    protected override Query GetRegexpQuery(string field, string termStr)
    {
        if (field == EmbeddedFields.All) return AnyTextField(f => base.GetRegexpQuery(f, termStr));
        RequireCharacters(field, "regular expressions");
        return base.GetRegexpQuery(field, termStr);
    }

    static bool Open(string? part) => part is null || part == "*";

    Query NumericRange(string field, string? part1, string? part2, bool startInclusive, bool endInclusive)
    {
        var kind = KindOf(field);
        if (kind == FieldKind.Double)
        {
            double? low = Open(part1) ? null : ParseDouble(field, part1!);
            double? high = Open(part2) ? null : ParseDouble(field, part2!);
            return NumericRangeQuery.NewDoubleRange(field, EmbeddedFields.NumericPrecisionStep, low, high, startInclusive, endInclusive);
        }
        long? min, max;
        if (kind == FieldKind.Date)
        {
            min = Open(part1) ? null : DateBound(field, part1!, roundUp: !startInclusive);
            max = Open(part2) ? null : DateBound(field, part2!, roundUp: endInclusive);
            // Bounds are now instants; the rounding above already encoded inclusivity of the unit.
            if (min is not null && !startInclusive) { min++; }
            if (max is not null && !endInclusive) { max--; }
            return NumericRangeQuery.NewInt64Range(field, EmbeddedFields.NumericPrecisionStep, min, max, true, true);
        }
        (min, startInclusive) = Open(part1) ? (null, startInclusive) : LongBound(field, part1!, lower: true, startInclusive);
        (max, endInclusive) = Open(part2) ? (null, endInclusive) : LongBound(field, part2!, lower: false, endInclusive);
        return NumericRangeQuery.NewInt64Range(field, EmbeddedFields.NumericPrecisionStep, min, max, startInclusive, endInclusive);
    }

    /// <summary>A bound on a whole-number field. A fractional one becomes the nearest whole number inside the range,
    /// inclusive: bytes:&lt;1.5 keeps 1, bytes:&gt;=0.5 leaves out 0, and bytes:1.5 matches nothing.</summary>
    static (long?, bool) LongBound(string field, string text, bool lower, bool inclusive)
    {
        text = text.Trim('"');
        if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)) return (value, inclusive);
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var real) && double.IsFinite(real))
        {
            if (real == Math.Floor(real)) return ((long)real, inclusive);
            return ((long)(lower ? Math.Ceiling(real) : Math.Floor(real)), true);
        }
        throw new ExportException(ExportErrorCode.InvalidQuery,
            $"Field '{field}' is numeric, but the query compares it with '{text}'. Use a number, e.g. {field}:[100 TO 200].", text);
    }

    /// <summary>A date bound: an inclusive upper bound or exclusive lower bound covers the whole unit the
    /// text names (2025-01-31 → end of that day), as OpenSearch does.</summary>
    long DateBound(string field, string text, bool roundUp)
    {
        text = text.Trim('"');
        DateTimeOffset instant;
        try { instant = DateMath.Resolve(text, _now, field); }
        catch (ExportException ex) { throw new ExportException(ExportErrorCode.InvalidQuery, ex.Message, text, ex); }
        var millis = instant.ToUnixTimeMilliseconds();
        if (!roundUp) return millis;
        DateTimeOffset? unitEnd;
        try { unitEnd = DateOnlyPrecisionEnd(text, instant); }
        catch (ArgumentOutOfRangeException) { return DateTimeOffset.MaxValue.ToUnixTimeMilliseconds(); } // the year 9999 ends with time itself
        return unitEnd?.ToUnixTimeMilliseconds() - 1 ?? millis;
    }

    static DateTimeOffset? DateOnlyPrecisionEnd(string text, DateTimeOffset instant)
    {
        if (text.Contains("||") || text.StartsWith("now", StringComparison.Ordinal))
        {
            var slash = text.LastIndexOf('/');
            if (slash < 0 || slash == text.Length - 1) return null;
            return text[slash + 1] switch
            {
                'y' => instant.AddYears(1),
                'M' => instant.AddMonths(1),
                'w' => instant.AddDays(7),
                'd' => instant.AddDays(1),
                'h' or 'H' => instant.AddHours(1),
                'm' => instant.AddMinutes(1),
                's' => instant.AddSeconds(1),
                _ => null,
            };
        }
        return text.Length switch
        {
            4 => instant.AddYears(1),       // 2025
            7 => instant.AddMonths(1),      // 2025-01
            10 => instant.AddDays(1),       // 2025-01-31
            _ => null,
        };
    }

    static double ParseDouble(string field, string text)
    {
        text = text.Trim('"');
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)) return value;
        throw new ExportException(ExportErrorCode.InvalidQuery,
            $"Field '{field}' is numeric, but the query compares it with '{text}'. Use a number, e.g. {field}:>0.5.", text);
    }
}

/// <summary>"Did you mean" for field names: closest by edit distance, then by shared suffix.</summary>
internal static class FieldSuggestions
{
    public static IReadOnlyList<string> Closest(string wanted, IEnumerable<string> known, int count) =>
        known.Select(k => (Name: k, Distance: Distance(wanted, k)))
             .Where(x => x.Distance <= Math.Max(2, wanted.Length / 3))
             .OrderBy(x => x.Distance).ThenBy(x => x.Name, StringComparer.Ordinal)
             .Take(count).Select(x => x.Name).ToList();

    static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = char.ToLowerInvariant(a[i - 1]) == char.ToLowerInvariant(b[j - 1]) ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
