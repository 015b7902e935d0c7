namespace Spotwise.Core;

/// <summary>
/// Capacity that can be bought: an instance type in a zone on a market, at a price per hour, with (for spot)
/// a rate of interruptions per hour.
/// </summary>
public sealed record Offer(
    string Provider,
    string Region,
    string Zone,
    InstanceType InstanceType,
    Market Market,
    double PricePerHourUsd,
    double InterruptionRatePerHour);
