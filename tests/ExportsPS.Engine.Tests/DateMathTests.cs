using ExportsPS.Engine.Exports;

namespace ExportsPS.Engine.Tests;

public sealed class DateMathTests
{
    static readonly DateTimeOffset Now = new(2026, 6, 19, 14, 35, 12, 345, TimeSpan.Zero);

    [Theory]
    [InlineData("now", "2026-06-19T14:35:12.3450000+00:00")]
    [InlineData("now-1d", "2026-06-18T14:35:12.3450000+00:00")]
    [InlineData("now-1d/d", "2026-06-18T00:00:00.0000000+00:00")]
    [InlineData("now/M", "2026-06-01T00:00:00.0000000+00:00")]
    [InlineData("now/w", "2026-06-15T00:00:00.0000000+00:00")]   // weeks start on Monday
    [InlineData("now+1h/h", "2026-06-19T15:00:00.0000000+00:00")]
    [InlineData("now-90m", "2026-06-19T13:05:12.3450000+00:00")]
    [InlineData("now-1y/y", "2025-01-01T00:00:00.0000000+00:00")]
    [InlineData("2025-01-31", "2025-01-31T00:00:00.0000000+00:00")]
    [InlineData("2025-01-31T08:00:00Z", "2025-01-31T08:00:00.0000000+00:00")]
    [InlineData("2025-01-31T08:00:00+02:00", "2025-01-31T06:00:00.0000000+00:00")]
    [InlineData("2025-01-31||+1M/d", "2025-02-28T00:00:00.0000000+00:00")]
    [InlineData("1718755200000", "2024-06-19T00:00:00.0000000+00:00")]
    public void Resolves_absolute_dates_and_date_math(string expression, string expected) =>
        Assert.Equal(expected, DateMath.Resolve(expression, Now).ToString("O"));

    [Theory]
    [InlineData("yesterday")]
    [InlineData("now-1x")]
    [InlineData("now-d")]
    [InlineData("now+")]
    [InlineData("2025-13-45")]
    [InlineData("")]
    [InlineData("now-99999999999d")]
    [InlineData("now+12121y")]           // past year 9999: found by the date math fuzzer
    [InlineData("now-12121y")]
    [InlineData("now+999999999w")]
    [InlineData("2025-01-31||+99999M")]
    [InlineData("9999999999999999")]     // epoch milliseconds past year 9999
    public void Refuses_bad_date_math_naming_the_parameter(string expression)
    {
        var error = Assert.Throws<ExportException>(() => DateMath.Resolve(expression, Now, "From"));
        Assert.Equal(ExportErrorCode.InvalidDateMath, error.Code);
        Assert.Contains("-From", error.Message);
    }
}
