package pages_test

import (
	"context"
	"testing"

	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/handoffs"
)

// TestHandoffFormsOfferTheOrganisationsDay: the sender's step form and
// the receiver's feedback form offer today where the organisation works
// (the day the domain takes a date-less step for, and the latest it
// accepts), not the server's UTC day: at 20:00 UTC on 5 March (the test
// clock) it is 6 March in Bangkok and in Vientiane. Control: with no time
// zone set, the UTC day.
func TestHandoffFormsOfferTheOrganisationsDay(t *testing.T) {
	w, caseID, partnership := handoffWorld(t)
	cm, bcm := w.a.members[tenants.RoleCaseManager], w.b.members[tenants.RoleCaseManager]
	svc := handoffs.New(w.s)
	h, err := svc.Start(ctxOf(cm), handoffs.NewHandoff{PartnershipID: partnership, CaseID: caseID, Fields: []string{"prs_FirstName"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Accept(ctxOf(bcm), h.ID); err != nil {
		t.Fatal(err)
	}
	page := "/handoffs/" + h.ID.String()
	stepOn := func(day string) string {
		return `id="step-on" name="on" value="` + day + `" min="2000-01-01" max="` + day + `"`
	}
	feedbackOn := func(day string) string {
		return `id="feedback-on" name="on" value="` + day + `" min="2000-01-01" max="` + day + `"`
	}

	mustContain(t, get(t, w.as(t, cm), page), stepOn("2026-03-05"))
	mustContain(t, get(t, w.as(t, bcm), page), feedbackOn("2026-03-05"))

	ctx := context.Background()
	if err := w.s.PutSettings(ctx, w.a.id, map[string]string{"time_zone": "Asia/Bangkok"}); err != nil {
		t.Fatal(err)
	}
	if err := w.s.PutSettings(ctx, w.b.id, map[string]string{"time_zone": "Asia/Vientiane"}); err != nil {
		t.Fatal(err)
	}
	r := get(t, w.as(t, cm), page)
	mustContain(t, r, stepOn("2026-03-06"))
	mustNotContain(t, r, `max="2026-03-05"`)
	r = get(t, w.as(t, bcm), page)
	mustContain(t, r, feedbackOn("2026-03-06"))
	mustNotContain(t, r, `max="2026-03-05"`)
}
