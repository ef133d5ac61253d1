package tenants

import (
	"time"

	"gorm.io/gorm"
)

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

// SettingTimeZone is the organisation setting naming its IANA time zone
// ("Asia/Vientiane"); without it, or with a name this machine does not
// know, the organisation's days are UTC days.
const SettingTimeZone = "time_zone"

// Location is the time zone of tx's organisation (tx: an InTenant
// transaction), UTC when it has none.
func Location(tx *gorm.DB) (*time.Location, error) {
	tz, ok, err := SettingValue(tx.Session(&gorm.Session{NewDB: true}), SettingTimeZone)
	if err != nil {
		return nil, err
	}
	if ok && tz != "" {
		if loc, err := time.LoadLocation(tz); err == nil {
			return loc, nil
		}
	}
	return time.UTC, nil
}

// Today is the calendar day of tx's organisation at now, as a date at
// midnight UTC (the way time.Parse(time.DateOnly, ...) reads one).
func Today(tx *gorm.DB, now time.Time) (time.Time, error) {
	loc, err := Location(tx)
	if err != nil {
		return time.Time{}, err
	}
	y, m, d := now.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), nil
}
