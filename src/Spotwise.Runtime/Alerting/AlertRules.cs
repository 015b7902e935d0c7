namespace Spotwise.Runtime.Alerting;

/// <summary>When alerts are raised (<c>Spotwise:Alerts</c>).</summary>
public sealed record AlertRules
{
    public static AlertRules Default { get; } = new();

    /// <summary>A job's interruptions that raise <see cref="AlertKinds.RepeatedInterruptions"/>, once, when reached.</summary>
    public int RepeatedInterruptions { get; init; } = 3;

    /// <summary>The shares of a budget whose crossing raises <see cref="AlertKinds.BudgetThreshold"/>: 80% and 100%.</summary>
    public IReadOnlyList<double> BudgetThresholds { get; init; } = [0.8, 1.0];
}
