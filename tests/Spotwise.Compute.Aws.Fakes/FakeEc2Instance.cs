namespace Spotwise.Compute.Aws.Fakes;

/// <summary>
/// One instance of the loopback EC2: it boots, runs for as long as its agent's command takes, then shuts itself down
/// (instance-initiated shutdown, as the agent does), unless it is terminated or taken back first. Its state is read
/// from the test's clock, like SimulatedCloud's instances.
/// </summary>
internal sealed class FakeEc2Instance(string id, string clientToken, string fingerprint, string instanceType, string zone, string subnet,
    bool spot, IReadOnlyList<KeyValuePair<string, string>> tags, DateTimeOffset launchedAt, TimeSpan boot, TimeSpan run)
{
    public string Id { get; } = id;
    public string ClientToken { get; } = clientToken;

    /// <summary>The request's parameters, sorted: what "the same request" means for a repeated client token.</summary>
    public string Fingerprint { get; } = fingerprint;
    public string InstanceType { get; } = instanceType;
    public string Zone { get; } = zone;
    public string Subnet { get; } = subnet;
    public bool Spot { get; } = spot;
    public IReadOnlyList<KeyValuePair<string, string>> Tags { get; } = tags;
    public DateTimeOffset LaunchedAt { get; } = launchedAt;

    private DateTimeOffset? _endedAt;
    private string? _endCode;
    private string? _endMessage;
    private string? _transition;

    private DateTimeOffset ShutsItselfDownAt => LaunchedAt + boot + run;

    public bool IsEndedAt(DateTimeOffset now) => EndOf(now) is not null;

    /// <summary>EC2's state name at <paramref name="now"/>.</summary>
    public string StateAt(DateTimeOffset now) =>
        IsEndedAt(now) ? "terminated" : now < LaunchedAt + boot ? "pending" : "running";

    /// <summary>State reason code and message, and the transition reason with its time, once ended.</summary>
    public (string Code, string Message, string Transition)? EndOf(DateTimeOffset now)
    {
        if (_endedAt is not null && _endedAt <= now)
        {
            return (_endCode!, _endMessage!, _transition!);
        }
        return now >= ShutsItselfDownAt
            ? ("Client.InstanceInitiatedShutdown", "Client.InstanceInitiatedShutdown: Instance initiated shutdown",
                $"User initiated ({Gmt(ShutsItselfDownAt)})")
            : null;
    }

    /// <summary>TerminateInstances: ends a live instance now; an ended one keeps its end.</summary>
    public void Terminate(DateTimeOffset now) =>
        End(now, "Client.UserInitiatedShutdown", "Client.UserInitiatedShutdown: User initiated shutdown", $"User initiated ({Gmt(now)})");

    /// <summary>EC2 takes the spot instance back.</summary>
    public void Interrupt(DateTimeOffset now) =>
        End(now, "Server.SpotInstanceTermination", "Server.SpotInstanceTermination: Spot instance termination", $"Service initiated ({Gmt(now)})");

    private void End(DateTimeOffset now, string code, string message, string transition)
    {
        if (IsEndedAt(now))
        {
            return;
        }
        (_endedAt, _endCode, _endMessage, _transition) = (now, code, message, transition);
    }

    private static string Gmt(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture) + " GMT";
}
