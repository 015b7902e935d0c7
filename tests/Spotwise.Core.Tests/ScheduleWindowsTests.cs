using System.Text;
using Spotwise.Core.Serialization;

namespace Spotwise.Core.Tests;

/// <summary>Scheduling windows (issue 16): the texts, the intervals they allow, zones and DST, and the refusals.</summary>
public class ScheduleWindowsTests
{
    /// <summary>Monday 2 March 2026, midnight UTC.</summary>
    private static readonly DateTimeOffset Monday = new(2026, 3, 2, 0, 0, 0, TimeSpan.Zero);

    private static ScheduleWindows Windows(params string[] texts)
    {
        var (windows, errors) = ScheduleWindows.Parse(texts);
        Assert.Empty(errors);
        return windows!;
    }

    private static DateTimeOffset Utc(int day, int hour, int minute = 0) => new(2026, 3, day, hour, minute, 0, TimeSpan.Zero);

    [Fact]
    public void A_weekday_night_window_crosses_midnight_and_belongs_to_the_day_it_starts()
    {
        var intervals = Windows("Mon-Fri 20:00-06:00").Between(Monday, Monday.AddDays(7));

        // Mon..Fri evenings, each running into the next morning; Friday's runs into Saturday. The Sunday-evening one does not exist.
        Assert.Equal(5, intervals.Count);
        Assert.Equal(new AllowedInterval(Utc(2, 20), Utc(3, 6)), intervals[0]);
        Assert.Equal(new AllowedInterval(Utc(6, 20), Utc(7, 6)), intervals[4]);
    }

    [Fact]
    public void A_friday_window_still_runs_when_the_range_starts_on_saturday_morning()
    {
        var intervals = Windows("Fri 20:00-06:00").Between(Utc(7, 1), Utc(8, 0));

        Assert.Equal([new AllowedInterval(Utc(7, 1), Utc(7, 6))], intervals);
    }

    [Fact]
    public void Whole_days_merge_with_the_nights_that_touch_them()
    {
        var intervals = Windows("Mon-Fri 20:00-06:00", "Sat-Sun").Between(Monday, Monday.AddDays(7));

        // Friday 20:00 runs through the weekend into Monday 06:00 (the next Monday lies outside the range: cut at its midnight).
        Assert.Contains(new AllowedInterval(Utc(6, 20), Utc(9, 0)), intervals);
        Assert.Equal(5, intervals.Count);
    }

    [Fact]
    public void A_window_without_days_holds_every_day()
    {
        Assert.Equal(7, Windows("09:00-17:00").Between(Monday, Monday.AddDays(7)).Count);
    }

    [Fact]
    public void A_run_must_lie_inside_one_interval()
    {
        var w = Windows("Mon 09:00-17:00");

        Assert.True(w.Holds(Utc(2, 9), Utc(2, 17)));
        Assert.False(w.Holds(Utc(2, 8, 59), Utc(2, 10)));
        Assert.False(w.Holds(Utc(2, 16), Utc(2, 17, 1)));
        Assert.False(w.Holds(Utc(3, 9), Utc(3, 10)));
    }

    [Fact]
    public void A_zone_keeps_the_wall_clock_hours()
    {
        // Berlin is UTC+1 in winter: 20:00 there is 19:00 UTC.
        var intervals = Windows("Mon 20:00-06:00 Europe/Berlin").Between(Monday, Monday.AddDays(2));

        Assert.Equal([new AllowedInterval(Utc(2, 19), Utc(3, 5))], intervals);
    }

    [Fact]
    public void On_the_spring_forward_night_a_zoned_window_is_an_hour_shorter_in_real_time()
    {
        // Sunday 29 March 2026 02:00 Berlin jumps to 03:00 (01:00 UTC): Sat 22:00 CET to Sun 06:00 CEST is 7 h, not 8.
        var saturday = new DateTimeOffset(2026, 3, 28, 0, 0, 0, TimeSpan.Zero);

        var interval = Assert.Single(Windows("Sat 22:00-06:00 Europe/Berlin").Between(saturday, saturday.AddDays(2)));

        Assert.Equal(new DateTimeOffset(2026, 3, 28, 21, 0, 0, TimeSpan.Zero), interval.Start);
        Assert.Equal(new DateTimeOffset(2026, 3, 29, 4, 0, 0, TimeSpan.Zero), interval.End);
    }

    [Fact]
    public void A_window_starting_in_the_skipped_hour_starts_after_the_gap()
    {
        var sunday = new DateTimeOffset(2026, 3, 29, 0, 0, 0, TimeSpan.Zero);

        var interval = Assert.Single(Windows("Sun 02:30-05:00 Europe/Berlin").Between(sunday, sunday.AddDays(1)));

        // 02:30 does not happen; read with the winter offset it is 01:30 UTC, 03:30 summer time.
        Assert.Equal(new DateTimeOffset(2026, 3, 29, 1, 30, 0, TimeSpan.Zero), interval.Start);
        Assert.Equal(new DateTimeOffset(2026, 3, 29, 3, 0, 0, TimeSpan.Zero), interval.End);
    }

    [Fact]
    public void On_the_fall_back_night_a_zoned_window_is_an_hour_longer_in_real_time()
    {
        // Sunday 25 October 2026 03:00 CEST goes back to 02:00 CET: Sat 22:00 CEST (20:00 UTC) to Sun 06:00 CET (05:00 UTC) is 9 h.
        var saturday = new DateTimeOffset(2026, 10, 24, 0, 0, 0, TimeSpan.Zero);

        var interval = Assert.Single(Windows("Sat 22:00-06:00 Europe/Berlin").Between(saturday, saturday.AddDays(2)));

        Assert.Equal(TimeSpan.FromHours(9), interval.End - interval.Start);
    }

    [Theory]
    [InlineData("Mon-Fri 20:00-06:00")]
    [InlineData("Sat-Sun")]
    [InlineData("Mon 09:00-17:00")]
    [InlineData("Fri-Mon 22:00-24:00 America/New_York")]
    [InlineData("mon-fri 20:00-06:00 UTC")]
    [InlineData("00:00-24:00")]
    public void Accepts_the_documented_forms(string text)
    {
        Assert.Empty(ScheduleWindows.Parse([text]).Errors);
    }

    [Theory]
    [InlineData("Mon-Fry 20:00-06:00", "'Mon-Fry' is not a day or a day range")]
    [InlineData("Mon 25:00-06:00", "'25:00-06:00' is not a time range")]
    [InlineData("Mon 9:00-17:00", "'9:00-17:00' is not a time range")]
    [InlineData("Mon 09:00-09:00", "starts and ends at the same time")]
    [InlineData("Mon 09:00-17:00 Mars/Olympus", "'Mars/Olympus' is not a time range (HH:mm-HH:mm) or an IANA time zone")]
    [InlineData("Mon 09:00-17:00 CET", "'CET' is not a time range (HH:mm-HH:mm) or an IANA time zone")]
    [InlineData("", "expected days, an optional time range")]
    [InlineData("Mon 09:00-17:00 UTC extra", "expected days, an optional time range")]
    public void Refuses_a_bad_text_naming_its_place_and_the_value(string text, string expected)
    {
        var (windows, errors) = ScheduleWindows.Parse(["Sat-Sun", text]);

        Assert.Null(windows);
        var error = Assert.Single(errors);
        Assert.Equal("windows[1]", error.Field);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains($"'{text}'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_jobs_reader_refuses_a_bad_window_with_the_path_of_the_field()
    {
        const string json = """[{"jobId": "a", "estimatedDurationHours": 1, "resourceRequirements": {"type": "cpu_small"}, "windows": ["Sat-Sun", "Mon 9-17"]}]""";

        var doc = JobsFile.Read(Encoding.UTF8.GetBytes(json), TestData.Now, TestData.Catalog, new JobsReadOptions { MaxJobs = 10 });

        Assert.False(doc.Ok);
        var error = Assert.Single(doc.Errors);
        Assert.Equal("jobs[0].windows[1]", error.Path);
        Assert.Contains("'9-17' is not a time range", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_jobs_reader_keeps_good_windows_and_the_writer_writes_them_back()
    {
        const string json = """[{"jobId": "a", "estimatedDurationHours": 1, "resourceRequirements": {"type": "cpu_small"}, "windows": ["Mon-Fri 20:00-06:00 Europe/Berlin", "Sat-Sun"]}]""";

        var doc = JobsFile.Read(Encoding.UTF8.GetBytes(json), TestData.Now, TestData.Catalog, new JobsReadOptions { MaxJobs = 10 });

        Assert.True(doc.Ok, string.Join("; ", doc.Errors));
        Assert.Equal(["Mon-Fri 20:00-06:00 Europe/Berlin", "Sat-Sun"], doc.Jobs[0].Job.Windows.AsEnumerable());
        Assert.Contains("\"windows\"", JobsFileWriter.Write(doc.Jobs.Select(j => j.Job)), StringComparison.Ordinal);
    }
}
