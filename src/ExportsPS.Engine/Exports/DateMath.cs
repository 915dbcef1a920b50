using System.Globalization;
using System.Text.RegularExpressions;

namespace ExportsPS.Engine.Exports;

/// <summary>OpenSearch date math: an anchor (<c>now</c> or an absolute date followed by <c>||</c>),
/// then any number of <c>+N unit</c>, <c>-N unit</c> and <c>/unit</c> (round down) operations.
/// Units: y M w d h H m s. Absolute dates alone are ISO-8601 or epoch milliseconds.</summary>
public static partial class DateMath
{
    [GeneratedRegex(@"\G(?:([+-])(\d+)([yMwdhHms])|/([yMwdhHms]))")]
    private static partial Regex Operation();

    public static DateTimeOffset Resolve(string expression, DateTimeOffset now, string parameterName = "date")
    {
        if (string.IsNullOrWhiteSpace(expression))
            throw Invalid(expression, parameterName, "it is empty");
        var text = expression.Trim();
        DateTimeOffset anchor;
        string ops;
        if (text.StartsWith("now", StringComparison.Ordinal))
        {
            anchor = now.ToUniversalTime();
            ops = text[3..];
        }
        else
        {
            var bar = text.IndexOf("||", StringComparison.Ordinal);
            var datePart = bar >= 0 ? text[..bar] : text;
            ops = bar >= 0 ? text[(bar + 2)..] : "";
            if (!TryParseAbsolute(datePart, out anchor) && !TryParseYearOrMonth(datePart, out anchor))
                throw Invalid(expression, parameterName,
                    $"'{datePart}' is not an ISO-8601 date (2025-01-31 or 2025-01-31T08:00:00Z), epoch milliseconds, or 'now'");
        }

        var position = 0;
        var value = anchor;
        while (position < ops.Length)
        {
            var match = Operation().Match(ops, position);
            if (!match.Success)
                throw Invalid(expression, parameterName,
                    $"the operation at '{ops[position..]}' is not +N<unit>, -N<unit> or /<unit> (units y M w d h m s)");
            if (match.Groups[4].Success)
            {
                value = RoundDown(value, match.Groups[4].Value[0]);
            }
            else
            {
                if (!int.TryParse(match.Groups[2].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
                    throw Invalid(expression, parameterName, $"'{match.Groups[2].Value}' is too large");
                if (match.Groups[1].Value == "-") amount = -amount;
                try { value = Add(value, match.Groups[3].Value[0], amount); }
                catch (ArgumentOutOfRangeException)
                {
                    throw Invalid(expression, parameterName, $"'{match.Value}' leaves the years 0001-9999 a date can have");
                }
            }
            position += match.Length;
        }
        return value;
    }

    /// <summary>Throws the same clear error as <see cref="Resolve"/> without needing a clock value.</summary>
    public static void Validate(string expression, string parameterName) =>
        Resolve(expression, DateTimeOffset.UnixEpoch.AddYears(50), parameterName);

    public static bool TryParseAbsolute(string text, out DateTimeOffset value)
    {
        text = text.Trim();
        // Beyond year 9999 a number is no date (FromUnixTimeMilliseconds would throw instead of refusing).
        if (text.Length > 0 && text.All(char.IsAsciiDigit) && text.Length >= 10 && long.TryParse(text, out var epochMs)
            && epochMs <= DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())
        {
            value = DateTimeOffset.FromUnixTimeMilliseconds(epochMs);
            return true;
        }
        if (text.Length >= 8 && char.IsAsciiDigit(text[0]) &&
            DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value))
            return true;
        value = default;
        return false;
    }

    /// <summary>2025 and 2025-01, which OpenSearch's default date format takes in queries and -From/-To (and a
    /// query term covers as that whole year or month). Not in <see cref="TryParseAbsolute"/>: that also decides
    /// whether an imported string is a date, and "2025" there is a code, not a year.</summary>
    static bool TryParseYearOrMonth(string text, out DateTimeOffset value) =>
        DateTimeOffset.TryParseExact(text.Trim(), ["yyyy", "yyyy-MM"], CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value);

    static DateTimeOffset Add(DateTimeOffset v, char unit, int amount) => unit switch
    {
        'y' => v.AddYears(amount),
        'M' => v.AddMonths(amount),
        'w' => v.AddDays(7.0 * amount),
        'd' => v.AddDays(amount),
        'h' or 'H' => v.AddHours(amount),
        'm' => v.AddMinutes(amount),
        's' => v.AddSeconds(amount),
        _ => throw new ArgumentOutOfRangeException(nameof(unit)),
    };

    static DateTimeOffset RoundDown(DateTimeOffset v, char unit)
    {
        v = v.ToUniversalTime();
        return unit switch
        {
            'y' => new DateTimeOffset(v.Year, 1, 1, 0, 0, 0, TimeSpan.Zero),
            'M' => new DateTimeOffset(v.Year, v.Month, 1, 0, 0, 0, TimeSpan.Zero),
            // OpenSearch weeks start on Monday.
            'w' => new DateTimeOffset(v.Date, TimeSpan.Zero).AddDays(-(((int)v.DayOfWeek + 6) % 7)),
            'd' => new DateTimeOffset(v.Date, TimeSpan.Zero),
            'h' or 'H' => new DateTimeOffset(v.Year, v.Month, v.Day, v.Hour, 0, 0, TimeSpan.Zero),
            'm' => new DateTimeOffset(v.Year, v.Month, v.Day, v.Hour, v.Minute, 0, TimeSpan.Zero),
            's' => new DateTimeOffset(v.Year, v.Month, v.Day, v.Hour, v.Minute, v.Second, TimeSpan.Zero),
            _ => throw new ArgumentOutOfRangeException(nameof(unit)),
        };
    }

    static ExportException Invalid(string expression, string parameterName, string why) =>
        new(ExportErrorCode.InvalidDateMath,
            $"-{parameterName} '{expression}' is not a valid date: {why}. " +
            "Use an ISO date such as 2025-01-31T00:00:00Z or date math such as now-1d/d.", expression);
}
