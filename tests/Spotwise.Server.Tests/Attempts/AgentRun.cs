using System.Diagnostics;
using System.Text;
using System.Threading.Channels;
using Spotwise.Compute.Aws;
using Spotwise.Core;
using Spotwise.Runtime;
using Spotwise.Runtime.Attempts;

namespace Spotwise.Server.Tests.Attempts;

/// <summary>
/// One attempt's user data, exactly as the AWS backend builds it, run with bash on this machine: the agent reports to the
/// live server, reads a loopback IMDS, and "shuts down" and "tags" through recorder scripts (never this machine, never
/// AWS). Fast intervals (1 s heartbeats and polls, 0.1 s looks) are the agent's own sleeps; the test waits on what
/// arrives (<see cref="WaitForAsync"/>) and on the process's exit, never on time.
/// </summary>
internal sealed class AgentRun : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Channel<AttemptEvent> _arrived = Channel.CreateUnbounded<AttemptEvent>();
    private readonly AttemptReports _reports;
    private readonly StringBuilder _output = new();
    private readonly List<AttemptEvent> _seen = [];

    private readonly string _token;

    private AgentRun(Process process, AttemptReports reports, string token, string dir)
    {
        _process = process;
        _token = token;
        _reports = reports;
        Dir = dir;
    }

    /// <summary>How long a test waits for the agent before it fails (a guard, not a pause).</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    public string Dir { get; }

    public string ShutdownRecord => Path.Combine(Dir, "shutdown-called");

    public string TagRecord => Path.Combine(Dir, "aws-cli-called");

    /// <summary>Everything the agent and its command printed, for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static string UserDataScript(string token, string command, Uri server, AttemptSecrets secrets)
    {
        var request = new LaunchRequest(token, "team-a", "job-1", 1, Market.Spot, "m5.large", "us-east-1a", 2, true, 0.5, command);
        return Encoding.UTF8.GetString(Convert.FromBase64String(Ec2UserData.Build(request, server, secrets.For(token))));
    }

    public static AgentRun Start(string token, string command, Uri server, AttemptSecrets secrets, AttemptReports reports, Uri imds, string dir)
    {
        var script = Path.Combine(dir, "user-data.sh");
        File.WriteAllText(script, UserDataScript(token, command, server, secrets));
        var fakeAws = Path.Combine(dir, "fake-aws");
        File.WriteAllText(fakeAws, $"#!/bin/bash\nprintf '%s\\n' \"$*\" >> {Ec2UserData.Quote(Path.Combine(dir, "aws-cli-called"))}\n");

        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(script);
        foreach (var inherited in start.Environment.Keys.Where(k => k.StartsWith("AWS_", StringComparison.Ordinal) || k.StartsWith("SPOTWISE_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(inherited);
        }
        // Never this machine's shutdown, never the real aws CLI: both are recorders.
        start.Environment["SPOTWISE_SHUTDOWN_CMD"] = $"echo called >> {Ec2UserData.Quote(Path.Combine(dir, "shutdown-called"))}";
        start.Environment["SPOTWISE_AWS_CLI"] = "bash " + fakeAws;
        start.Environment["SPOTWISE_IMDS_URL"] = imds.ToString();
        start.Environment["SPOTWISE_HEARTBEAT_SECONDS"] = "1";
        start.Environment["SPOTWISE_NOTICE_POLL_SECONDS"] = "1";
        start.Environment["SPOTWISE_TICK_SECONDS"] = "0.1";
        start.Environment["TMPDIR"] = dir;

        var process = new Process { StartInfo = start };
        var run = new AgentRun(process, reports, token, dir);
        reports.Reported += run.OnReported;
        process.OutputDataReceived += (_, line) => run.Append(line.Data);
        process.ErrorDataReceived += (_, line) => run.Append(line.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return run;
    }

    /// <summary>The first event (from the start of the run) that <paramref name="match"/> accepts; events before it stay in <see cref="Seen"/>.</summary>
    public async Task<AttemptEvent> WaitForAsync(Func<AttemptEvent, bool> match)
    {
        using var guard = new CancellationTokenSource(Patience);
        try
        {
            while (true)
            {
                var e = await _arrived.Reader.ReadAsync(guard.Token);
                if (match(e))
                {
                    return e;
                }
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"the agent did not report the awaited event within {Patience}; it said:\n{Output}");
        }
    }

    /// <summary>Waits for the agent to end (it ends after the command, its report and the shutdown); its exit code.</summary>
    public async Task<int> ExitAsync()
    {
        using var guard = new CancellationTokenSource(Patience);
        try
        {
            await _process.WaitForExitAsync(guard.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"the agent did not end within {Patience}; it said:\n{Output}");
        }
        return _process.ExitCode;
    }

    /// <summary>Every event of this attempt recorded so far, in order.</summary>
    public IReadOnlyList<AttemptEvent> Seen
    {
        get
        {
            lock (_seen)
            {
                return [.. _seen];
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _reports.Reported -= OnReported;
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    private void OnReported(object? sender, AttemptReportedEventArgs e)
    {
        if (e.Report.ClientToken != _token)
        {
            return;
        }
        lock (_seen)
        {
            _seen.Add(e.Event);
        }
        _arrived.Writer.TryWrite(e.Event);
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
