namespace Spotwise.Runtime;

/// <summary>
/// A job's identity in the service: ids are a team's own, so two teams may both have a "job-1". Everything that
/// stores, finds or launches a job addresses it by this pair; the text form <c>team/id</c> is for places that need one
/// string (the planner's job ids, client tokens). Teams never contain '/', so the first '/' splits the text.
/// </summary>
public readonly record struct JobKey(string Team, string Id)
{
    public override string ToString() => $"{Team}/{Id}";

    /// <summary>
    /// A planner's message as <paramref name="team"/> reads it: planners name the jobs they mention by key, quoted
    /// (<c>depends on 'ml/prep'</c>), and a team knows its jobs by their ids alone (<c>depends on 'prep'</c>).
    /// </summary>
    public static string ForTeam(string text, string team) => text.Replace($"'{team}/", "'", StringComparison.Ordinal);

    /// <summary>Reads <c>team/id</c>, splitting at the first '/'; false when either part is missing.</summary>
    public static bool TryParse(string? text, out JobKey key)
    {
        var slash = text?.IndexOf('/', StringComparison.Ordinal) ?? -1;
        if (slash <= 0 || slash == text!.Length - 1)
        {
            key = default;
            return false;
        }
        key = new JobKey(text[..slash], text[(slash + 1)..]);
        return true;
    }
}
