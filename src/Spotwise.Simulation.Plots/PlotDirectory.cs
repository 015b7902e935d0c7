namespace Spotwise.Simulation.Plots;

/// <summary>
/// Checks a folder the charts will be written to before the (possibly long) run that feeds them, so a typo costs a
/// second, not a sweep.
/// </summary>
public static class PlotDirectory
{
    /// <summary>Why charts cannot be written into <paramref name="path"/> ("does not exist", ...), or null when they can.</summary>
    public static string? Problem(string path)
    {
        if (File.Exists(path))
        {
            return "is a file, not a folder";
        }
        if (!Directory.Exists(path))
        {
            return "does not exist";
        }
        // Permissions, read-only mounts and ACLs all answer the same question: can a file be created here?
        var probe = Path.Combine(path, $".spotwise-write-probe-{Guid.NewGuid():N}");
        try
        {
            using (File.Create(probe, 1, FileOptions.DeleteOnClose))
            {
            }
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"is not writable ({e.Message})";
        }
    }
}
