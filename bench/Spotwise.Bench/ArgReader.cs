using System.Globalization;
using Spotwise.Core.Serialization;

namespace Spotwise.Bench;

/// <summary>
/// Hand-parsed options (<c>--name value</c>, <c>--name=value</c>, or a bare <c>--switch</c>): the bench needs a handful,
/// not a package. Every problem is collected, each naming the flag and the value, so one run reports them all.
/// </summary>
public sealed class ArgReader
{
    private readonly Dictionary<string, string?> _given = new(StringComparer.Ordinal);
    private readonly List<string> _errors = [];

    public ArgReader(IReadOnlyList<string> args, IReadOnlyCollection<string> valueOptions, IReadOnlyCollection<string> switches)
    {
        for (var i = 0; i < args.Count; i++)
        {
            var (name, inline) = Split(args[i]);
            if (switches.Contains(name) && inline is null)
            {
                Add(name, null);
            }
            else if (!name.StartsWith("--", StringComparison.Ordinal))
            {
                _errors.Add($"'{args[i]}': unexpected argument; options start with --");
            }
            else if (!valueOptions.Contains(name))
            {
                var known = string.Join(", ", valueOptions.Concat(switches).Order(StringComparer.Ordinal));
                _errors.Add($"{name}: unknown option; known: {known}");
                i += inline is null && NextIsValue(args, i) ? 1 : 0; // its value is not a second problem
            }
            else if (inline is { Length: 0 })
            {
                _errors.Add($"{name}: needs a value");
            }
            else if (inline is not null)
            {
                Add(name, inline);
            }
            else if (NextIsValue(args, i))
            {
                Add(name, args[++i]);
            }
            else
            {
                _errors.Add($"{name}: needs a value");
            }
        }
    }

    public IReadOnlyList<string> Errors => _errors;

    /// <summary>Prints each problem as an <c>error:</c> line, then the command's usage; the exit code for bad arguments.</summary>
    public static int Refuse(IEnumerable<string> errors, string usage, TextWriter stderr)
    {
        foreach (var e in errors)
        {
            stderr.WriteLine($"error: {e}");
        }
        stderr.WriteLine("usage: " + usage);
        return 2;
    }

    /// <summary>A problem found by the caller (a path that does not exist, say), reported with the others.</summary>
    public void AddError(string message) => _errors.Add(message);

    public bool Has(string name) => _given.ContainsKey(name);

    public string? Text(string name, bool required = false)
    {
        if (_given.TryGetValue(name, out var value))
        {
            return value;
        }
        if (required)
        {
            _errors.Add($"{name}: is required");
        }
        return null;
    }

    public int? WholeNumber(string name, int min, int max, bool required = false)
    {
        var text = Text(name, required);
        if (text is null)
        {
            return null;
        }
        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max)
        {
            return n;
        }
        _errors.Add($"{name}: '{text}' is not a whole number from {min} to {max}");
        return null;
    }

    public double? PositiveNumber(string name)
    {
        var text = Text(name);
        if (text is null)
        {
            return null;
        }
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) && double.IsFinite(x) && x > 0)
        {
            return x;
        }
        _errors.Add($"{name}: '{text}' is not a number greater than 0");
        return null;
    }

    public DateTimeOffset? Time(string name)
    {
        var text = Text(name);
        if (text is null)
        {
            return null;
        }
        // Core's reader refuses times without an offset (they mean a different moment on every machine); a relative
        // time has nothing to be relative to here, so it is refused too.
        if (text.StartsWith('+') || text.StartsWith('-'))
        {
            _errors.Add($"{name}: '{text}' must be an absolute time like 2026-11-24T09:00:00Z");
            return null;
        }
        if (TimeText.TryParse(text, default, out var t, out _))
        {
            return t;
        }
        _errors.Add($"{name}: '{text}' is not an ISO 8601 time with a UTC offset, like 2026-11-24T09:00:00Z or 2026-11-24T10:00:00+01:00");
        return null;
    }

    private void Add(string name, string? value)
    {
        if (!_given.TryAdd(name, value))
        {
            _errors.Add($"{name}: given more than once");
        }
    }

    private static bool NextIsValue(IReadOnlyList<string> args, int i) =>
        i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal);

    private static (string Name, string? Inline) Split(string arg)
    {
        var eq = arg.IndexOf('=', StringComparison.Ordinal);
        return arg.StartsWith("--", StringComparison.Ordinal) && eq > 2 ? (arg[..eq], arg[(eq + 1)..]) : (arg, null);
    }
}
