using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace ExportsPS.Engine.Json;

/// <summary>Text of a JSON string the reader accepted but System.Text.Json refuses to decode: it checks neither
/// the UTF-8 of unescaped strings nor that a <c>\uDC00</c> escape is half of a pair, then throws in GetString.
/// Indices hold such documents; an export repairs them (U+FFFD, as Encoding.UTF8 does) rather than failing on
/// one damaged value after minutes of work.</summary>
public static class JsonText
{
    /// <summary>The value of a string token's raw bytes (between its quotes), decoded whatever they hold.</summary>
    public static string DecodeLossy(ReadOnlySpan<byte> raw, bool escaped)
    {
        var text = Encoding.UTF8.GetString(raw); // invalid bytes become U+FFFD; escapes are ASCII and survive
        if (!escaped) return text;
        var unescaped = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '\\') { unescaped.Append(text[i]); continue; }
            var escape = text[++i]; // the reader has checked that every escape is complete
            unescaped.Append(escape switch
            {
                'b' => '\b', 'f' => '\f', 'n' => '\n', 'r' => '\r', 't' => '\t',
                'u' => (char)ushort.Parse(text.AsSpan(i + 1, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                _ => escape, // \" \\ \/
            });
            if (escape == 'u') i += 4;
        }
        for (var i = 0; i < unescaped.Length; i++) // \ud83d\ude00 is a pair; a half alone is not text
        {
            if (char.IsHighSurrogate(unescaped[i]) && i + 1 < unescaped.Length && char.IsLowSurrogate(unescaped[i + 1])) i++;
            else if (char.IsSurrogate(unescaped[i])) unescaped[i] = '\uFFFD';
        }
        return unescaped.ToString();
    }

    /// <summary>A document whose bytes are valid UTF-8 (itself, mostly): bytes outside ASCII only occur inside
    /// strings, so repairing them keeps the JSON intact. Enough for JsonElement text, except lone surrogates.</summary>
    public static ReadOnlySpan<byte> ValidUtf8(ReadOnlySpan<byte> document) =>
        Utf8.IsValid(document) ? document : Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(document));

    /// <summary>A string element's value, repaired where GetString would throw (a lone surrogate escape; the
    /// document's bytes must have gone through <see cref="ValidUtf8"/>).</summary>
    public static string? String(JsonElement element)
    {
        try
        {
            return element.GetString();
        }
        catch (InvalidOperationException) when (element.ValueKind == JsonValueKind.String)
        {
            return DecodeLossy(Encoding.UTF8.GetBytes(element.GetRawText())[1..^1], escaped: true); // an unescaped string has no backslash
        }
    }

    /// <summary>A property's name, repaired where <see cref="JsonProperty.Name"/> would throw (a lone surrogate escape).</summary>
    public static string Name(JsonProperty property)
    {
        try
        {
            return property.Name;
        }
        catch (InvalidOperationException)
        {
            // The property's raw text is "name": value, and an escape never holds an unescaped quote.
            var raw = Encoding.UTF8.GetBytes(property.ToString());
            var end = 1;
            while (raw[end] != (byte)'"') end += raw[end] == (byte)'\\' ? 2 : 1;
            return DecodeLossy(raw.AsSpan(1, end - 1), escaped: true);
        }
    }

    /// <summary>The string token's value as valid UTF-8.</summary>
    public static byte[] Utf8Lossy(ReadOnlySpan<byte> raw, bool escaped) => Encoding.UTF8.GetBytes(DecodeLossy(raw, escaped));
}
