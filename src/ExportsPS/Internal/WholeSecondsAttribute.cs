using System.Management.Automation;

namespace ExportsPS.Internal;

/// <summary>Lets an int seconds parameter take a TimeSpan, so an object whose property is a TimeSpan (a
/// source's Timeout) binds to it by property name. PowerShell cannot convert a TimeSpan to an int by itself.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class WholeSecondsAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        var value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
        if (value is not TimeSpan span) return inputData;
        if (span.Ticks % TimeSpan.TicksPerSecond != 0 || span.TotalSeconds is > int.MaxValue or < int.MinValue)
            throw new ArgumentTransformationMetadataException($"{span} is not a whole number of seconds: give the timeout in seconds, such as 60.");
        return (int)span.TotalSeconds;
    }
}
