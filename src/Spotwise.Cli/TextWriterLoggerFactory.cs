using Microsoft.Extensions.Logging;

namespace Spotwise.Cli;

/// <summary>
/// Warnings and errors of a one-shot command, one line each on stderr (stdout holds the plan, which may be JSON).
/// The commands' streams are parameters, so tests read these lines too.
/// </summary>
public sealed class TextWriterLoggerFactory(TextWriter writer, LogLevel minimum = LogLevel.Warning) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new Logger(writer, minimum);

    public void AddProvider(ILoggerProvider provider)
    {
        // One destination only.
    }

    public void Dispose()
    {
        // The writer belongs to the caller.
    }

    private sealed class Logger(TextWriter writer, LogLevel minimum) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                writer.WriteLine($"{(logLevel >= LogLevel.Error ? "error" : "warning")}: {formatter(state, exception)}");
            }
        }
    }
}
