namespace Spotwise.Runtime.Policy;

/// <summary>What a job runs on during a tick: nothing, spot in a zone, or on-demand.</summary>
public enum ChoiceKind : byte
{
    Idle,
    Spot,
    OnDemand,
}

/// <summary>
/// A spot policy's decision for the coming tick. <see cref="Zone"/> is the index of a zone among the pools the policy was
/// shown (<see cref="IPolicyInputs.ZoneCount"/>) for spot, -1 otherwise.
/// </summary>
public readonly record struct Choice(ChoiceKind Kind, int Zone)
{
    public static readonly Choice Idle = new(ChoiceKind.Idle, -1);

    public static readonly Choice OnDemand = new(ChoiceKind.OnDemand, -1);

    public static Choice Spot(int zone) => new(ChoiceKind.Spot, zone);

    public bool IsRunning => Kind != ChoiceKind.Idle;

    public override string ToString() => Kind switch
    {
        ChoiceKind.Spot => FormattableString.Invariant($"spot@{Zone}"),
        ChoiceKind.OnDemand => "on-demand",
        _ => "idle",
    };
}
