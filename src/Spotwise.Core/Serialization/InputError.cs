namespace Spotwise.Core.Serialization;

/// <summary>One problem with user input, naming where it is (job and field) and the value at fault.</summary>
public sealed record InputError(string Where, string Field, string Message)
{
    /// <summary>
    /// The field as an API request names it: <c>jobs[3].deadline</c> in a batch, <c>deadline</c> for a lone job,
    /// <c>body</c> for the whole document. Empty for inputs that are not jobs documents (a catalog, an option).
    /// </summary>
    public string Path { get; init; } = "";

    public override string ToString() => string.IsNullOrEmpty(Field) ? $"{Where}: {Message}" : $"{Where}: {Field}: {Message}";
}

/// <summary>Either a value or the list of problems that kept us from making it.</summary>
public sealed record ParseResult<T>(T? Value, IReadOnlyList<InputError> Errors)
{
    public bool Ok => Errors.Count == 0 && Value is not null;
}
