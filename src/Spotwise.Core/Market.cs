namespace Spotwise.Core;

/// <summary>How capacity is bought: on-demand (never taken away) or spot (cheaper, interruptible).</summary>
public enum Market
{
    OnDemand,
    Spot,
}

public static class MarketNames
{
    public const string OnDemand = "on-demand";
    public const string Spot = "spot";

    public static string ToWire(this Market market) => market == Market.Spot ? Spot : OnDemand;

    public static bool TryParse(string? text, out Market market)
    {
        switch (text)
        {
            case Spot: market = Market.Spot; return true;
            case OnDemand: market = Market.OnDemand; return true;
            default: market = default; return false;
        }
    }
}
