namespace Spotwise.Core.Serialization;

/// <summary>One problem with user input, naming where it is (job and field) and the value at fault.</summary>
public sealed record InputError(string Where, string Field, string Message)
{
    public override string ToString() => string.IsNullOrEmpty(Field) ? $"{Where}: {Message}" : $"{Where}: {Field}: {Message}";
}

/// <summary>Either a value or the list of problems that kept us from making it.</summary>
public sealed record ParseResult<T>(T? Value, IReadOnlyList<InputError> Errors)
{
    public bool Ok => Errors.Count == 0 && Value is not null;
}
