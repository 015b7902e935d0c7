namespace Spotwise.Runtime.Leadership;

/// <summary>
/// A store that tells every process sharing it when jobs are queued, so a submission on a follower wakes the leader's
/// scheduler at once (PostgreSQL: the submission's transaction sends <c>NOTIFY</c>, the listener holds a <c>LISTEN</c>
/// connection). SQLite has no notification between processes and does not implement it; there the leader polls.
/// </summary>
public interface ISubmissionNotifications
{
    /// <summary>
    /// Listens until <paramref name="cancellationToken"/> is cancelled, reconnecting by itself when the connection
    /// breaks. Calls <paramref name="listening"/> each time the listen is (re)established, and <paramref name="queued"/>
    /// after each commit, on any process, that queued at least one new job. Notifications sent while the listener was
    /// disconnected are lost: the caller treats a second <paramref name="listening"/> as "something may have been missed".
    /// </summary>
    Task ListenAsync(Action listening, Action queued, CancellationToken cancellationToken);
}
