using System.Collections.Concurrent;

namespace Spotwise.Runtime.Backends;

/// <summary>
/// What keeps the service's backends from acting, written by the backends and read by the server (<c>/healthz</c>, the
/// dashboard's banner). A problem is keyed by backend and by what failed (a call, or the backend's credentials as a
/// whole), so it clears when that call next succeeds (<see cref="Cleared"/>) and one missing permission does not hide
/// another. Thread-safe; one instance per service.
/// </summary>
public sealed class BackendHealth
{
    private readonly ConcurrentDictionary<(string Backend, string Subject), BackendProblem> _problems = new();

    /// <summary>No backend reports a problem.</summary>
    public bool IsHealthy => _problems.IsEmpty;

    /// <summary>Every problem now, by backend then subject.</summary>
    public IReadOnlyList<BackendProblem> Problems =>
        [.. _problems.Values.OrderBy(p => p.Backend, StringComparer.Ordinal).ThenBy(p => p.Subject, StringComparer.Ordinal)];

    /// <summary>
    /// <paramref name="backend"/> cannot do <paramref name="subject"/> (a call such as <c>ec2:RunInstances</c>), or, with
    /// <paramref name="wholeBackend"/>, cannot act at all (no credentials, credentials refused, an account not opted in).
    /// </summary>
    public void Failing(string backend, string subject, string message, DateTimeOffset since, bool wholeBackend = false) =>
        _problems.AddOrUpdate((backend, subject), new BackendProblem(backend, subject, message, since) { WholeBackend = wholeBackend },
            (_, old) => old with { Message = message, WholeBackend = wholeBackend });

    /// <summary>
    /// <paramref name="subject"/> of <paramref name="backend"/> just succeeded: its problem is gone, and so is every problem of
    /// the backend as a whole (a call that went through was made with credentials the cloud accepted, in an account it serves).
    /// </summary>
    public void Cleared(string backend, string subject)
    {
        if (_problems.IsEmpty)
        {
            return;
        }
        _problems.TryRemove((backend, subject), out _);
        foreach (var whole in _problems.Where(p => p.Key.Backend == backend && p.Value.WholeBackend))
        {
            _problems.TryRemove(whole);
        }
    }
}

/// <summary>
/// One thing a backend cannot do now, and why, as <c>/healthz</c> prints it:
/// <c>aws: missing permission ec2:RunInstances (UnauthorizedOperation: ...)</c>.
/// </summary>
/// <param name="Backend">The backend's registered name (<c>aws</c>).</param>
/// <param name="Subject">What fails: a call (<c>ec2:RunInstances</c>), <see cref="Credentials"/>, or <see cref="Account"/>.</param>
/// <param name="Message">The line after the backend's name.</param>
/// <param name="Since">When it was first seen.</param>
public sealed record BackendProblem(string Backend, string Subject, string Message, DateTimeOffset Since)
{
    /// <summary>The subject of a problem with the backend's credentials (none found, refused, expired), not with one call.</summary>
    public const string Credentials = "credentials";

    /// <summary>The subject of a problem with the account (not opted in to the region, blocked).</summary>
    public const string Account = "account";

    /// <summary>Whether the backend cannot act at all (credentials, account): any call that succeeds clears it.</summary>
    public bool WholeBackend { get; init; }

    public override string ToString() => $"{Backend}: {Message}";
}

/// <summary>
/// A backend cannot act now for a reason that is no job's fault (missing permission, no credentials, an account not
/// opted in). The reconcile loop logs it in one line and tries again next tick; nothing is marked failed. The reason
/// is also in <see cref="BackendHealth"/>.
/// </summary>
public sealed class BackendUnavailableException : Exception
{
    public BackendUnavailableException()
    {
    }

    public BackendUnavailableException(string message)
        : base(message)
    {
    }

    public BackendUnavailableException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
