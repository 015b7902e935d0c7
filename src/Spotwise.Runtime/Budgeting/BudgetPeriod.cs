namespace Spotwise.Runtime.Budgeting;

/// <summary>How long a dollar budget lasts before it starts again. Periods are UTC: a day from midnight, a week from Monday, a month from the 1st.</summary>
public enum BudgetPeriod
{
    Day,
    Week,
    Month,
}

public static class BudgetPeriods
{
    /// <summary>The words the API, the configuration and the store use: <c>day</c>, <c>week</c>, <c>month</c>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["day", "week", "month"];

    public static string ToWire(this BudgetPeriod period) => Names[(int)period];

    public static bool TryParse(string? text, out BudgetPeriod period)
    {
        for (var i = 0; i < Names.Count; i++)
        {
            if (string.Equals(Names[i], text?.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                period = (BudgetPeriod)i;
                return true;
            }
        }
        period = default;
        return false;
    }

    /// <summary>How a reason names the period now running: <c>today</c>, <c>this week</c>, <c>this month</c>.</summary>
    public static string Label(this BudgetPeriod period) => period switch
    {
        BudgetPeriod.Day => "today",
        BudgetPeriod.Week => "this week",
        _ => "this month",
    };

    /// <summary>The period <paramref name="now"/> falls in, in UTC: [start, end).</summary>
    public static (DateTimeOffset Start, DateTimeOffset End) Window(this BudgetPeriod period, DateTimeOffset now)
    {
        var utc = now.ToUniversalTime();
        var day = new DateTimeOffset(utc.Year, utc.Month, utc.Day, 0, 0, 0, TimeSpan.Zero);
        return period switch
        {
            BudgetPeriod.Day => (day, day.AddDays(1)),
            // ISO 8601 weeks start on Monday; DayOfWeek counts from Sunday.
            BudgetPeriod.Week => (day.AddDays(-(((int)utc.DayOfWeek + 6) % 7)), day.AddDays(7 - (((int)utc.DayOfWeek + 6) % 7))),
            _ => (new DateTimeOffset(utc.Year, utc.Month, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(utc.Year, utc.Month, 1, 0, 0, 0, TimeSpan.Zero).AddMonths(1)),
        };
    }
}

/// <summary>A team's dollar budget: at most <see cref="LimitUsd"/> per <see cref="Period"/>.</summary>
public sealed record BudgetLimit(BudgetPeriod Period, double LimitUsd)
{
    /// <summary>The largest limit taken (a billion dollars): beyond it a figure is a typo, not a budget.</summary>
    public const double MaxLimitUsd = 1e9;

    /// <summary>Why a limit cannot be a budget, or null.</summary>
    public static string? WhyNot(double limitUsd) => double.IsFinite(limitUsd) && limitUsd >= 0 && limitUsd <= MaxLimitUsd
        ? null
        : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{limitUsd} is not a limit in USD; use 0..{MaxLimitUsd:0}");
}

/// <summary>
/// A team's budget now: its limit for the period running, what has run in it (<see cref="SpentUsd"/>), what the current
/// plan and the running jobs still commit (<see cref="CommittedUsd"/>), and what is left. The read model for the API, the
/// dashboard, <c>/metrics</c> and alerts.
/// </summary>
public sealed record BudgetStatus(
    string Team, BudgetPeriod Period, DateTimeOffset PeriodStart, DateTimeOffset PeriodEnd, double LimitUsd, double SpentUsd, double CommittedUsd)
{
    public double LeftUsd => Math.Round(LimitUsd - SpentUsd - CommittedUsd, 4);

    /// <summary>Spent and committed as a share of the limit (1 = all of it; above 1 overspent); 1 for a limit of 0 with anything used.</summary>
    public double UsedFraction => LimitUsd > 0 ? (SpentUsd + CommittedUsd) / LimitUsd : SpentUsd + CommittedUsd > 0 ? 1 : 0;
}

/// <summary>
/// Where budgets set through the API are kept (<c>PUT /api/teams/{team}/budget</c>); they override the configuration's.
/// The SQLite and PostgreSQL stores implement it beside <see cref="IJobStore"/> (<c>BudgetContract</c>, tests).
/// </summary>
public interface IBudgetStore
{
    /// <summary>Every stored budget, by team.</summary>
    Task<IReadOnlyDictionary<string, BudgetLimit>> BudgetLimitsAsync(CancellationToken cancellationToken);

    /// <summary>Sets (or replaces) the team's budget.</summary>
    Task SetBudgetLimitAsync(string team, BudgetLimit limit, DateTimeOffset at, CancellationToken cancellationToken);
}
