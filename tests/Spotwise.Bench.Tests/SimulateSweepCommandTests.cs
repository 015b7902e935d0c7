namespace Spotwise.Bench.Tests;

/// <summary>
/// <c>simulate-sweep --plot-dir</c>, called in-process as the bench's Program calls it: a tiny sweep on copies of
/// shipped traces (two starts), the tables it prints and the charts it draws from them.
/// </summary>
public sealed class SimulateSweepCommandTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("spotwise-sweep-").FullName;

    [Fact]
    public void The_sweep_charts_the_results_it_printed_into_the_plot_dir()
    {
        var traces = Traces("us-west-2a_v100_1.json");
        var plots = Directory.CreateDirectory(Path.Combine(_root, "plots")).FullName;

        var (code, stdout, stderr) = Run("--aws-dir", traces, "--starts", "2", "--deadlines", "52", "--overheads", "0.05,0.1",
            "--policies", "uniform-progress,spotwise,omniscient", "--skip-gcp", "--plot-dir", plots);

        Assert.True(code == 0, stderr);
        Assert.Contains("over the whole sweep: spotwise closes", stdout, StringComparison.Ordinal);
        Assert.Equal(
            ["sweep-v100-1zones-2starts-cost.png", "sweep-v100-1zones-2starts-gap-closed.png"],
            Directory.GetFiles(plots).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.All(Directory.GetFiles(plots), f => Assert.Contains($"wrote {f}", stderr, StringComparison.Ordinal));
        Assert.All(Directory.GetFiles(plots), AssertIsPng);
    }

    [Fact]
    public void The_multi_zone_comparison_is_charted_against_omniscient()
    {
        var traces = Traces("us-west-2a_v100_1.json", "us-east-2a_v100_1.json");
        var plots = Directory.CreateDirectory(Path.Combine(_root, "plots")).FullName;

        var (code, _, stderr) = Run("--aws-dir", traces, "--starts", "2", "--deadlines", "52", "--overheads", "0.2",
            "--skip-single", "--multi-aws", "--skip-gcp", "--plot-dir", plots);

        Assert.True(code == 0, stderr);
        AssertIsPng(Path.Combine(plots, "sweep-multizone-vs-omniscient.png"));
        Assert.Single(Directory.GetFiles(plots));
    }

    [Fact]
    public void A_missing_plot_dir_is_refused_naming_the_flag_before_anything_runs()
    {
        var missing = Path.Combine(_root, "no-such-folder");

        var (code, stdout, stderr) = Run("--starts", "2", "--skip-gcp", "--plot-dir", missing);

        Assert.Equal(2, code);
        Assert.Contains($"error: --plot-dir: '{missing}' does not exist", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, stdout); // no sweep ran
        Assert.False(Directory.Exists(missing));
    }

    [Fact]
    public void A_plot_dir_that_cannot_take_files_is_refused_naming_the_flag()
    {
        var file = Path.Combine(_root, "a-file");
        File.WriteAllText(file, "x");

        var (fileCode, _, fileErr) = Run("--starts", "2", "--skip-gcp", "--plot-dir", file);
        // /proc refuses new files even to root (chmod would not bind a test run as root).
        var (procCode, _, procErr) = Run("--starts", "2", "--skip-gcp", "--plot-dir", "/proc");

        Assert.Equal((2, 2), (fileCode, procCode));
        Assert.Contains($"error: --plot-dir: '{file}' is a file, not a folder", fileErr, StringComparison.Ordinal);
        Assert.Contains("error: --plot-dir: '/proc' is not writable (", procErr, StringComparison.Ordinal);
    }

    /// <summary>A folder named like a trace set ("v100") holding copies of shipped traces and their price file.</summary>
    private string Traces(params string[] files)
    {
        var source = Path.Combine(RepoPaths.Root, "data", "traces", "aws-v100");
        var dir = Directory.CreateDirectory(Path.Combine(_root, "v100")).FullName;
        foreach (var f in files.Append("aws-v100-spot-prices-2023-02-15.json"))
        {
            File.Copy(Path.Combine(source, f), Path.Combine(dir, f));
        }
        return dir;
    }

    private static (int Code, string Stdout, string Stderr) Run(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = SimulateSweepCommand.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static void AssertIsPng(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 10_000, $"{path}: {bytes.Length} bytes");
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A], bytes[..8]);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
