using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Spotwise.Server;

namespace Spotwise.Bench;

/// <summary>The server under <c>service</c>: where it runs and how its memory is read.</summary>
public interface IServiceHost : IAsyncDisposable
{
    string Describe { get; }

    ServiceMemory Memory();
}

/// <summary>A memory figure: bytes, what they are, and a line for the output.</summary>
public sealed record ServiceMemory(long Bytes, string What, string Text);

/// <summary>
/// The built CLI's <c>spotwise serve</c> as a child process; the API keys, rate limit and log level come from the
/// environment (configuration keys, as any deployment would set them). Memory is the child's VmRSS.
/// </summary>
public sealed class ChildServer : IServiceHost
{
    private readonly Process _process;
    private bool _disposed;

    private ChildServer(Process process) => _process = process;

    public string Describe => $"`spotwise serve` as a child process (pid {_process.Id})";

    /// <summary>Starts it on the store <c>storeFlags</c> select (<see cref="BenchStore.ServeFlags"/>, or <c>--db FILE</c>); <c>more</c> are further <c>serve</c> flags (<c>--replica-id a</c>, <c>--backend local</c>).</summary>
    public static Task<IServiceHost> StartAsync(string cliDll, string url, string[] storeFlags, TimeSpan cycleInterval, params string[] more)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string[] args =
        [
            cliDll, "serve", "--urls", url, .. storeFlags, "--planner", "greedy",
            "--cycle-seconds", cycleInterval.TotalSeconds.ToString(CultureInfo.InvariantCulture), .. more,
        ];
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        info.Environment[ApiKeyRing.EnvironmentVariable] = "k1=bench";
        info.Environment["Spotwise__RateLimitPermits"] = "100000000";
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start `dotnet spotwise.dll serve`");
        // Drain its output so a full pipe never blocks it; warnings and errors are passed on.
        process.OutputDataReceived += (_, e) => Forward(e.Data);
        process.ErrorDataReceived += (_, e) => Forward(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return Task.FromResult<IServiceHost>(new ChildServer(process));
    }

    public ServiceMemory Memory()
    {
        var status = File.ReadAllLines($"/proc/{_process.Id}/status");
        long Kib(string field) => long.Parse(
            status.First(l => l.StartsWith(field + ":", StringComparison.Ordinal))[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        var rss = Kib("VmRSS") * 1024;
        var hwm = Kib("VmHWM") * 1024;
        return new ServiceMemory(rss, "child VmRSS", string.Create(CultureInfo.InvariantCulture,
            $"server process VmRSS {rss / 1048576.0:N0} MiB (peak VmHWM {hwm / 1048576.0:N0} MiB), read from /proc/{_process.Id}/status; the bench client is another process"));
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    private static void Forward(string? line)
    {
        if (!string.IsNullOrEmpty(line))
        {
            Console.Error.WriteLine($"[serve] {line}");
        }
    }
}

/// <summary>The server built by <see cref="SpotwiseApp.Build"/> in this process; memory is this whole process.</summary>
public sealed class InProcessServer : IServiceHost
{
    private readonly WebApplication _app;

    private InProcessServer(WebApplication app) => _app = app;

    public string Describe => "SpotwiseApp.Build in this process";

    public static async Task<IServiceHost> StartAsync(string url, BenchStore store, TimeSpan cycleInterval)
    {
        var app = SpotwiseApp.Build([
            "--urls", url,
            store.Setting,
            "--Spotwise:ApiKeys=k1=bench",
            "--Spotwise:Planner=greedy",
            string.Create(CultureInfo.InvariantCulture, $"--Spotwise:CycleInterval={cycleInterval:c}"),
            "--Spotwise:RateLimitPermits=100000000",
            "--Logging:LogLevel:Default=Warning",
        ]);
        await app.StartAsync();
        return new InProcessServer(app);
    }

    public ServiceMemory Memory()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        var heap = GC.GetTotalMemory(forceFullCollection: true);
        using var self = Process.GetCurrentProcess();
        var workingSet = self.WorkingSet64;
        return new ServiceMemory(workingSet, "whole process working set, client included", string.Create(CultureInfo.InvariantCulture,
            $"working set {workingSet / 1048576.0:N0} MiB (peak {self.PeakWorkingSet64 / 1048576.0:N0} MiB), GC heap after a full GC {heap / 1048576.0:N0} MiB; " +
            $"the bench client shares this process (its job bodies were released before measuring)"));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
