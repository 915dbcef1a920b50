using System.Globalization;
using System.Management.Automation;

namespace ExportsPS.Internal;

/// <summary>A TimeSpan range check. [ValidateRange] compares a TimeSpan with string bounds as text, so
/// "10:00:00" counted as more than "1.00:00:00" and was refused.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ValidateTimeSpanAttribute(string minimum, string maximum) : ValidateEnumeratedArgumentsAttribute
{
    readonly TimeSpan _minimum = TimeSpan.Parse(minimum, CultureInfo.InvariantCulture);
    readonly TimeSpan _maximum = TimeSpan.Parse(maximum, CultureInfo.InvariantCulture);

    protected override void ValidateElement(object element)
    {
        var value = element is PSObject wrapped ? wrapped.BaseObject : element;
        if (value is TimeSpan span && (span < _minimum || span > _maximum))
            throw new ValidationMetadataException($"{span} is outside the allowed range: give a time span from {_minimum} to {_maximum}.");
    }
}
