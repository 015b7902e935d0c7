namespace Spotwise.Compute.Aws.Cleanup;

/// <summary>When the orphan sweep looks, and how long a fresh instance is left alone.</summary>
public sealed class OrphanSweepOptions
{
    /// <summary>
    /// An instance younger than this (since its launch) is never an orphan: a launch retried seconds ago, or one whose
    /// record the reconcile loop has not yet written, must not be taken for one.
    /// </summary>
    public TimeSpan Grace { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How often the sweep runs after the one at start, on the service's <see cref="TimeProvider"/>.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>False: no sweep at all (an installation that cleans up by other means).</summary>
    public bool Enabled { get; init; } = true;
}
