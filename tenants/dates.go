package tenants

import "time"

// aheadOfUTC is how far the furthest time zone is ahead of UTC (UTC+14,
// the Line Islands): there, "today" is already tomorrow's date in UTC for
// the last ten hours of the UTC day.
const aheadOfUTC = 14 * time.Hour

// LatestToday is the latest calendar date that is today somewhere on
// Earth at now, as midnight UTC (the way time.Parse(time.DateOnly, ...)
// reads a date). A date after it lies in the future for everyone; a check
// that knows no time zone uses it so that "today" entered in Vientiane
// (UTC+7) after 17:00 UTC is not refused as a future date. Checks that
// know the organisation's time zone use its own today instead.
func LatestToday(now time.Time) time.Time {
	t := now.UTC().Add(aheadOfUTC)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}
