namespace Spotwise.Runtime.Tests;

/// <summary>The trace files the repository ships (data/traces).</summary>
internal static class TraceFiles
{
    public static string V100Directory => Path.Combine(RepoPaths.Root, "data", "traces", "aws-v100");
}
