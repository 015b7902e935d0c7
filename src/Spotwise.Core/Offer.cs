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
    double InterruptionRatePerHour)
{
    /// <summary>
    /// The commitment the offer is bought under (<see cref="Commitments"/>): <c>reserved:TYPE@ZONE</c> (price 0: the fee is
    /// sunk), <c>savings-plan</c> (the discounted price), or null for the market's own price.
    /// </summary>
    public string? Commitment { get; init; }
}
