package cases_test

import (
	"errors"
	"testing"
	"time"

	"github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants/cases"
)

// At 17:30 UTC it is already the next day in Vientiane (UTC+7): "today"
// entered there is not a future date. The day after it is, everywhere.
func TestTodayInLaosIsNotInTheFuture(t *testing.T) {
	now := time.Date(2026, 11, 27, 17, 30, 0, 0, time.UTC)
	// Allowed control: Vientiane's today (the 28th).
	if _, err := cases.NormalizeValues(map[string]any{"prs_Birthdate": "2026-11-28"}, now); err != nil {
		t.Fatalf("today in Vientiane refused: %v", err)
	}
	_, err := cases.NormalizeValues(map[string]any{"prs_Birthdate": "2026-11-29"}, now)
	var he *homeward.Error
	if !errors.As(err, &he) || he.Fields["prs_Birthdate"] != "may not lie in the future" {
		t.Fatalf("a date in the future everywhere: %v", err)
	}
}
