namespace ExportsPS.Internal;

/// <summary>The cmdlet parameters that are format options (New-Export and Set-Export share them): each one
/// given is written into the definition's option dictionary, which the format validates.</summary>
internal static class FormatOptionParameters
{
    public static Dictionary<string, string> Apply(IReadOnlyDictionary<string, string> options, string? distribution, long? stixRecordCap)
    {
        var result = new Dictionary<string, string>(options);
        if (distribution is not null) result[Engine.Formats.Misp.MispDistribution.OptionName] = distribution;
        if (stixRecordCap is { } cap) result[Engine.Formats.Stix.StixFormat.MaxRecordsOption] = cap.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return result;
    }
}
