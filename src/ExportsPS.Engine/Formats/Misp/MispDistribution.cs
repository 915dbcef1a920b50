using ExportsPS.Engine.Exports;

namespace ExportsPS.Engine.Formats.Misp;

/// <summary>MISP's distribution levels, by number or by the names MISP's UI and API use.</summary>
public static class MispDistribution
{
    public const string OptionName = "distribution";

    static readonly Dictionary<string, int> Names = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Organisation"] = 0, ["YourOrganisationOnly"] = 0, ["Your organisation only"] = 0, ["Organization"] = 0,
        ["Community"] = 1, ["ThisCommunityOnly"] = 1, ["This community only"] = 1,
        ["Connected"] = 2, ["ConnectedCommunities"] = 2, ["Connected communities"] = 2,
        ["All"] = 3, ["AllCommunities"] = 3, ["All communities"] = 3,
        ["SharingGroup"] = 4, ["Sharing group"] = 4,
        ["Inherit"] = 5, ["InheritEvent"] = 5, ["Inherit event"] = 5,
    };

    public static readonly string Accepted =
        "0 (Organisation), 1 (Community), 2 (Connected), 3 (All), 4 (SharingGroup) or 5 (Inherit)";

    /// <summary>The level as MISP writes it ("0".."5"); throws a clear error when missing or unknown.</summary>
    public static string Parse(IReadOnlyDictionary<string, string> options, string format)
    {
        if (!options.TryGetValue(OptionName, out var text) || string.IsNullOrWhiteSpace(text))
            throw new ExportException(ExportErrorCode.InvalidOption,
                $"The {format} format needs a distribution level: add -Distribution with {Accepted}.", OptionName);
        if (int.TryParse(text, out var number) && number is >= 0 and <= 5) return number.ToString();
        if (Names.TryGetValue(text.Trim(), out number)) return number.ToString();
        throw new ExportException(ExportErrorCode.InvalidOption,
            $"Distribution '{text}' is not a MISP distribution level. Use {Accepted}.", text);
    }
}
