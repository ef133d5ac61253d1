package tenants

import (
	"testing"
	"time"
)

func TestLatestToday(t *testing.T) {
	for _, c := range []struct{ now, want string }{
		{"2026-11-27T09:59:59Z", "2026-11-27"}, // 23:59:59 at UTC+14
		{"2026-11-27T10:00:00Z", "2026-11-28"}, // midnight at UTC+14
		{"2026-11-27T17:30:00Z", "2026-11-28"}, // 00:30 in Vientiane: its today is the 28th
		{"2026-11-27T23:59:59Z", "2026-11-28"},
		{"2026-11-27T07:30:00+07:00", "2026-11-27"}, // 00:30 UTC
	} {
		now, err := time.Parse(time.RFC3339, c.now)
		if err != nil {
			t.Fatal(err)
		}
		if got := LatestToday(now).Format(time.DateOnly); got != c.want {
			t.Errorf("LatestToday(%s) = %s, want %s", c.now, got, c.want)
		}
	}
}
