package followup_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/followup"
	"github.com/afesip/homeward/tenants/tenanttest"
)

// The default rule: monthly for six months, then quarterly to three
// years: 6 + 10 visits; a month from the 31st ends on the month's last
// day; the limits are checked.
func TestScheduleDueDates(t *testing.T) {
	start := time.Date(2025, 1, 31, 0, 0, 0, 0, time.UTC)
	dates := followup.DefaultSchedule.DueDates(start)
	var got []string
	for _, d := range dates {
		got = append(got, d.Format(time.DateOnly))
	}
	want := []string{"2025-02-28", "2025-03-31", "2025-04-30", "2025-05-31", "2025-06-30", "2025-07-31",
		"2025-10-31", "2026-01-31", "2026-04-30", "2026-07-31", "2026-10-31", "2027-01-31", "2027-04-30",
		"2027-07-31", "2027-10-31", "2028-01-31"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("due dates\n got %v\nwant %v", got, want)
	}
	quarterly := followup.Schedule{MonthlyMonths: 0, ThenEveryMonths: 3, Years: 3, RemindDaysBefore: 7}.DueDates(start)
	if len(quarterly) != 12 || quarterly[0].Format(time.DateOnly) != "2025-04-30" {
		t.Errorf("quarterly from the start: %d visits, first %v", len(quarterly), quarterly[0])
	}
}

func TestScheduleSettingIsTheAdminsAndApplies(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			svc := followup.New(s)
			st := newStaff(t, s)
			got, err := svc.Schedule(st.admin)
			must(t, err)
			if got != followup.DefaultSchedule {
				t.Fatalf("an organisation without a rule: %+v", got)
			}
			monthly := followup.Schedule{MonthlyMonths: 12, ThenEveryMonths: 6, Years: 4, RemindDaysBefore: 3}
			_, err = svc.SetSchedule(st.manager, monthly)
			wantCode(t, "a case manager sets the rule", err, homeward.EFORBIDDEN)
			_, err = svc.SetSchedule(st.admin, followup.Schedule{MonthlyMonths: 6, ThenEveryMonths: 3, Years: 2, RemindDaysBefore: 7})
			var he *homeward.Error
			if !errors.As(err, &he) || he.Code != homeward.EINVALID || he.Fields["years"] == "" {
				t.Fatalf("two years of follow-up: %v, want invalid naming years", err)
			}
			_, err = svc.SetSchedule(st.admin, monthly)
			must(t, err)

			c := shelterCase(t, s, st, "Noy", st.socialP)
			r, err := svc.Reintegrate(st.social, c, followup.NewReintegration{Destination: followup.DestinationFamily,
				Date: day(-1), Place: "Ban Nongbua"})
			must(t, err)
			if n := generate(t, s, st.org, r.ID); n != 12+6 {
				t.Errorf("monthly for a year, then every six months to four years: %d visits, want 18", n)
			}
		})
	}
}

// Reintegration: the assigned social worker moves a case at shelter to
// reintegrated, and the schedule's job is written with it; the roles and
// states that may not, may not, and leave nothing behind.
func TestReintegrateMovesTheCaseAndAsksForTheSchedule(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			svc := followup.New(s)
			st := newStaff(t, s)
			other := newOrg(t, s)
			otherManager, _ := member(t, s, other, "cm-other", tenants.RoleCaseManager)
			c := shelterCase(t, s, st, "Kham", st.socialP, st.counselP, st.medicalP)
			nr := followup.NewReintegration{Destination: followup.DestinationHomeVillage, Date: day(-3),
				Place: "Ban Phonsavang, Savannakhet", Note: "Her aunt takes her in."}

			_, err := svc.Reintegrate(st.counsellor, c, nr)
			wantCode(t, "the assigned counsellor (reads the follow-up)", err, homeward.EFORBIDDEN)
			_, err = svc.Reintegrate(st.medical, c, nr)
			wantCode(t, "the assigned medical officer (no follow-up)", err, homeward.EFORBIDDEN)
			_, err = svc.Reintegrate(st.social2, c, nr)
			wantCode(t, "a social worker not assigned", err, homeward.ENOTFOUND)
			_, err = svc.Reintegrate(otherManager, c, nr)
			wantCode(t, "another organisation's case manager", err, homeward.ENOTFOUND)
			_, err = svc.Reintegrate(st.social, c, followup.NewReintegration{Destination: "abroad", Date: day(1)})
			var he *homeward.Error
			if !errors.As(err, &he) || he.Fields["destination"] == "" || he.Fields["place"] == "" {
				t.Errorf("a bad destination and no place: %v", err)
			}
			_, err = svc.Reintegrate(st.social, c, followup.NewReintegration{Destination: followup.DestinationCity, Date: day(2), Place: "Vientiane"})
			if !errors.As(err, &he) || he.Fields["date"] == "" {
				t.Errorf("a date in the future: %v", err)
			}
			if n := outboxJobs(t, s, st.org, followup.KindSchedule); n != 0 {
				t.Fatalf("refusals left %d schedule jobs", n)
			}

			r, err := svc.Reintegrate(st.social, c, nr)
			must(t, err)
			if r.Destination != followup.DestinationHomeVillage || r.Place != nr.Place || r.Note != nr.Note || r.Scheduled {
				t.Errorf("reintegration %+v", r)
			}
			got, err := cases.New(s).Get(st.manager, c)
			must(t, err)
			if got.Stage != cases.StageReintegrated || got.Status() != cases.StatusFollowUp {
				t.Errorf("the case is at %s", got.Stage)
			}
			if n := outboxJobs(t, s, st.org, followup.KindSchedule); n != 1 {
				t.Errorf("%d schedule jobs, want 1", n)
			}
			_, err = svc.Reintegrate(st.social, c, nr)
			wantCode(t, "a case reintegrated already", err, homeward.ECONFLICT)

			// A case without the services consent is not reintegrated.
			bare, err := cases.New(s).Create(st.manager, cases.NewCase{Values: map[string]any{
				"prs_FirstName": "Bare", "prs_Birthdate": "2008-03-01", "prs_Gender": "Feminine"}})
			must(t, err)
			must(t, s.InTenant(context.Background(), st.org, func(tx *gorm.DB) error {
				return cases.MoveStage(tx, bare.ID, cases.StageShelter, "", time.Now())
			}))
			_, err = svc.Reintegrate(st.manager, bare.ID, nr)
			wantCode(t, "no services consent", err, homeward.ECONFLICT)

			// The place and note are encrypted with the case's key.
			if name == "postgres" {
				var raw []byte
				must(t, s.InTenant(context.Background(), st.org, func(tx *gorm.DB) error {
					return tx.Raw("SELECT place FROM reintegrations WHERE id = ?", r.ID).Row().Scan(&raw)
				}))
				if len(raw) == 0 || strings.Contains(string(raw), "Phonsavang") {
					t.Errorf("the place is stored as %q", raw)
				}
			}
		})
	}
}

// The schedule is generated once: a second run writes nothing, and a run
// that fails after writing (a worker dying midway) leaves nothing, so the
// next run writes it whole.
func TestScheduleIsGeneratedOnce(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			svc := followup.New(s)
			st := newStaff(t, s)
			c := shelterCase(t, s, st, "Mai", st.socialP)
			r, err := svc.Reintegrate(st.social, c, followup.NewReintegration{Destination: followup.DestinationFamily, Date: day(0), Place: "Ban Na"})
			must(t, err)

			died := errors.New("the worker died")
			err = s.InTenant(context.Background(), st.org, func(tx *gorm.DB) error {
				n, err := followup.GenerateSchedule(tx, r.ID)
				if err != nil || n != 16 {
					t.Errorf("the run that dies wrote %d visits: %v", n, err)
				}
				return died
			})
			if !errors.Is(err, died) {
				t.Fatalf("the dying run: %v", err)
			}
			ov, err := svc.Overview(st.social, c)
			must(t, err)
			if len(ov.Visits) != 0 || ov.Reintegration.Scheduled {
				t.Fatalf("after the rolled-back run: %d visits, scheduled %v", len(ov.Visits), ov.Reintegration.Scheduled)
			}

			if n := generate(t, s, st.org, r.ID); n != 16 {
				t.Errorf("the next run wrote %d visits, want 16", n)
			}
			if n := generate(t, s, st.org, r.ID); n != 0 {
				t.Errorf("a second run wrote %d visits, want 0", n)
			}
			ov, err = svc.Overview(st.social, c)
			must(t, err)
			if len(ov.Visits) != 16 || !ov.Reintegration.Scheduled || ov.Visits[0].Seq != 1 || ov.Visits[0].Status != followup.VisitPlanned ||
				ov.Visits[0].Reference != ov.Reference {
				t.Fatalf("after two runs: %d visits, first %+v", len(ov.Visits), ov.Visits[0])
			}
		})
	}
}

// reintegrated is a case reintegrated `ago` days back, with its schedule,
// assigned to the social worker (and to whoever else is given).
func reintegrated(t *testing.T, s *tenants.Store, st staff, ago int, assigned ...*tenants.Principal) (uuid.UUID, *followup.Overview) {
	t.Helper()
	c := shelterCase(t, s, st, "Dao", append([]*tenants.Principal{st.socialP}, assigned...)...)
	svc := followup.New(s)
	r, err := svc.Reintegrate(st.social, c, followup.NewReintegration{Destination: followup.DestinationFamily, Date: day(-ago), Place: "Ban Xai"})
	must(t, err)
	generate(t, s, st.org, r.ID)
	ov, err := svc.Overview(st.social, c)
	must(t, err)
	return c, ov
}

func TestVisitsAreRecordedByThoseWhoWriteTheFollowUp(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			svc := followup.New(s)
			st := newStaff(t, s)
			_, ov := reintegrated(t, s, st, 40, st.counselP, st.medicalP)
			first := ov.Visits[0]
			done := followup.VisitRecord{Outcome: followup.OutcomeDone, VisitedOn: day(-2), Findings: followup.Findings{
				LivingSituation: "Lives with her mother and sisters", BusinessIncome: "Sewing shop, about 900,000 LAK a month",
				Schooling: "Evening literacy class", RiskFlags: []string{followup.RiskDebt, followup.RiskRecruiterContact, followup.RiskDebt},
				TrainingWanted: "Bookkeeping", Notes: "A broker visited the village last week"}}

			_, err := svc.RecordVisit(st.counsellor, first.ID, done)
			wantCode(t, "the assigned counsellor records", err, homeward.EFORBIDDEN)
			_, err = svc.Visit(st.medical, first.ID)
			wantCode(t, "the assigned medical officer reads a visit", err, homeward.ENOTFOUND)
			_, err = svc.RecordVisit(st.social2, first.ID, done)
			wantCode(t, "a social worker not assigned", err, homeward.ENOTFOUND)
			_, err = svc.RecordVisit(st.social, first.ID, followup.VisitRecord{Outcome: followup.OutcomeDone, VisitedOn: day(-60),
				Findings: followup.Findings{RiskFlags: []string{"rumours"}}})
			var he *homeward.Error
			if !errors.As(err, &he) || he.Fields["risk_flags"] == "" {
				t.Errorf("an unknown risk flag: %v", err)
			}
			_, err = svc.RecordVisit(st.social, first.ID, followup.VisitRecord{Outcome: followup.OutcomeDone, VisitedOn: day(-60)})
			if !errors.As(err, &he) || he.Fields["visited_on"] == "" {
				t.Errorf("a visit before the reintegration: %v", err)
			}

			v, err := svc.RecordVisit(st.social, first.ID, done)
			must(t, err)
			if v.Status != followup.VisitDone || v.VisitedOn != done.VisitedOn || *v.VisitedBy != *st.socialP.Actor.MemberID ||
				strings.Join(v.Findings.RiskFlags, ",") != "debt,recruiter_contact" || v.Findings.Notes != done.Findings.Notes {
				t.Errorf("recorded %+v", v)
			}
			read, err := svc.Visit(st.counsellor, first.ID)
			must(t, err)
			if read.Findings.LivingSituation != done.Findings.LivingSituation || read.Findings.TrainingWanted != "Bookkeeping" {
				t.Errorf("the counsellor reads %+v", read.Findings)
			}
			missed, err := svc.RecordVisit(st.manager, ov.Visits[1].ID, followup.VisitRecord{Outcome: followup.OutcomeMissed,
				Findings: followup.Findings{Notes: "Not at home; moved to her uncle's"}})
			must(t, err)
			if missed.Status != followup.VisitMissed || missed.VisitedOn != "" {
				t.Errorf("missed %+v", missed)
			}
			if name == "postgres" {
				var raw []byte
				must(t, s.InTenant(context.Background(), st.org, func(tx *gorm.DB) error {
					return tx.Raw("SELECT risk_flags FROM followup_visits WHERE id = ?", first.ID).Row().Scan(&raw)
				}))
				if len(raw) == 0 || strings.Contains(string(raw), "debt") {
					t.Errorf("the risk flags are stored as %q", raw)
				}
			}
		})
	}
}

// The due list: overdue visits, and those due soon; a social worker sees
// her own cases only, a case manager every case, "mine" narrows it, and
// roles that do not follow up cases may not list them.
func TestDueListFollowsTheCasesTheMemberMaySee(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			svc := followup.New(s)
			st := newStaff(t, s)
			// Reintegrated 35 days ago: the first visit (5 days ago) is
			// overdue, the second (in about 25 days) is not due soon.
			c1, ov1 := reintegrated(t, s, st, 35)
			// Another case, assigned to the second social worker, 3 weeks
			// from its first visit.
			c2 := shelterCase(t, s, st, "Lin", st.social2P)
			r2, err := svc.Reintegrate(st.social2, c2, followup.NewReintegration{Destination: followup.DestinationCity, Date: day(-9), Place: "Pakse"})
			must(t, err)
			generate(t, s, st.org, r2.ID)

			overdue, err := svc.Due(st.manager, followup.DueQuery{})
			must(t, err)
			if len(overdue.Visits) != 1 || overdue.Visits[0].VisitID != ov1.Visits[0].ID || !overdue.Visits[0].Overdue ||
				overdue.Visits[0].Reference != ov1.Reference {
				t.Fatalf("the case manager's overdue list: %+v", overdue.Visits)
			}
			soon, err := svc.Due(st.manager, followup.DueQuery{Within: 30})
			must(t, err)
			if len(soon.Visits) != 3 { // c1's first two, c2's first
				t.Errorf("due within 30 days: %+v", soon.Visits)
			}
			mine, err := svc.Due(st.social2, followup.DueQuery{Within: 30})
			must(t, err)
			if len(mine.Visits) != 1 || mine.Visits[0].CaseID != c2 {
				t.Errorf("the second social worker's list: %+v", mine.Visits)
			}
			managerMine, err := svc.Due(st.manager, followup.DueQuery{Within: 30, Mine: true})
			must(t, err)
			if len(managerMine.Visits) != 0 {
				t.Errorf("the case manager's own cases (none): %+v", managerMine.Visits)
			}
			page, err := svc.Due(st.manager, followup.DueQuery{Within: 30, Limit: 2})
			must(t, err)
			if len(page.Visits) != 2 || page.Next == "" {
				t.Fatalf("first page of 2: %+v", page)
			}
			rest, err := svc.Due(st.manager, followup.DueQuery{Within: 30, Limit: 2, Cursor: page.Next})
			must(t, err)
			if len(rest.Visits) != 1 || rest.Next != "" || rest.Visits[0].VisitID == page.Visits[1].VisitID {
				t.Errorf("second page: %+v", rest)
			}
			_, err = svc.Due(st.manager, followup.DueQuery{Cursor: page.Next})
			wantCode(t, "a cursor of another list", err, homeward.EINVALID)
			_, err = svc.Due(st.medical, followup.DueQuery{})
			wantCode(t, "a medical officer", err, homeward.EFORBIDDEN)
			_, err = svc.Due(st.outreach, followup.DueQuery{})
			wantCode(t, "an outreach worker", err, homeward.EFORBIDDEN)

			// A recorded visit leaves the list; a closed follow-up takes
			// its case out.
			_, err = svc.RecordVisit(st.social, ov1.Visits[0].ID, followup.VisitRecord{Outcome: followup.OutcomeMissed})
			must(t, err)
			overdue, err = svc.Due(st.manager, followup.DueQuery{})
			must(t, err)
			if len(overdue.Visits) != 0 {
				t.Errorf("after recording the overdue visit: %+v", overdue.Visits)
			}
			_, err = svc.Close(st.manager, c1, "Married and moved to Thailand with her husband's family")
			must(t, err)
			soon, err = svc.Due(st.manager, followup.DueQuery{Within: 30})
			must(t, err)
			if len(soon.Visits) != 1 || soon.Visits[0].CaseID != c2 {
				t.Errorf("after closing the first case: %+v", soon.Visits)
			}
		})
	}
}

func TestClosingTheFollowUpClosesTheCase(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			svc := followup.New(s)
			st := newStaff(t, s)
			c, ov := reintegrated(t, s, st, 40, st.counselP)
			_, err := svc.RecordVisit(st.social, ov.Visits[0].ID, followup.VisitRecord{Outcome: followup.OutcomeDone, VisitedOn: day(-5)})
			must(t, err)

			_, err = svc.Close(st.counsellor, c, "Done")
			wantCode(t, "the counsellor", err, homeward.EFORBIDDEN)
			_, err = svc.Close(st.social, c, " ")
			wantCode(t, "no reason", err, homeward.EINVALID)
			other := shelterCase(t, s, st, "Other", st.socialP)
			_, err = svc.Close(st.social, other, "Done")
			wantCode(t, "a case at shelter", err, homeward.ECONFLICT)

			r, err := svc.Close(st.social, c, "Three years of follow-up completed; business stable")
			must(t, err)
			if r == nil || r.EndReason != followup.EndClosed || r.EndedAt == nil {
				t.Fatalf("closed reintegration %+v", r)
			}
			got, err := cases.New(s).Get(st.manager, c)
			must(t, err)
			if got.Stage != cases.StageClosed || got.Values["cas_ReasonForCaseClosure"] != "Three years of follow-up completed; business stable" {
				t.Errorf("the case: %s, %v", got.Stage, got.Values["cas_ReasonForCaseClosure"])
			}
			ov, err = svc.Overview(st.social, c)
			must(t, err)
			counts := map[string]int{}
			for _, v := range ov.Visits {
				counts[v.Status]++
			}
			if counts[followup.VisitDone] != 1 || counts[followup.VisitCancelled] != 15 || counts[followup.VisitPlanned] != 0 {
				t.Errorf("visits after closing: %v", counts)
			}
			_, err = svc.RecordVisit(st.social, ov.Visits[3].ID, followup.VisitRecord{Outcome: followup.OutcomeMissed})
			wantCode(t, "a visit of a closed follow-up", err, homeward.ECONFLICT)
			_, err = svc.Close(st.social, c, "again")
			wantCode(t, "closing twice", err, homeward.ECONFLICT)
		})
	}
}

// remind runs the reminder job's work at now; fail makes the run fail
// after writing (a worker dying midway).
func remind(s *tenants.Store, org uuid.UUID, now time.Time, fail error) (int, error) {
	var n int
	err := s.InTenant(context.Background(), org, func(tx *gorm.DB) (err error) {
		if n, err = followup.QueueReminders(tx, now); err != nil {
			return err
		}
		return fail
	})
	return n, err
}

// Reminders: one per visit and kind, to the assigned social worker (in the
// app, and by mail at her contact address), even when the job runs twice
// or dies after writing; the owner when no social worker is assigned.
func TestRemindersAreWrittenOncePerVisitAndKind(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			svc := followup.New(s)
			st := newStaff(t, s)
			// Reminders go to the member's contact address (tenants'):
			// the social worker's; the medical officer's, who is no
			// recipient, gets none.
			_, err := s.SetMemberContact(st.social, tenants.MemberContact{Address: "social@afesip.example.org", Language: "lo"})
			must(t, err)
			_, err = s.SetMemberContact(st.medical, tenants.MemberContact{Address: "medical@afesip.example.org", Language: "en"})
			must(t, err)

			// Reintegrated 35 days back: the first visit is 5 days
			// overdue, the second due in about 25 days.
			_, ov := reintegrated(t, s, st, 35, st.counselP)
			now := time.Now()
			died := errors.New("the worker died")
			if _, err := remind(s, st.org, now, died); !errors.Is(err, died) {
				t.Fatalf("the dying run: %v", err)
			}
			if n := outboxJobs(t, s, st.org, tenants.KindNotifyCreate) + outboxJobs(t, s, st.org, tenants.KindMailSend); n != 0 {
				t.Fatalf("the rolled-back run left %d jobs", n)
			}
			n, err := remind(s, st.org, now, nil)
			must(t, err)
			if n != 1 {
				t.Fatalf("first run: %d reminders, want 1 (the overdue visit)", n)
			}
			n, err = remind(s, st.org, now, nil)
			must(t, err)
			if n != 0 {
				t.Errorf("second run: %d reminders, want 0", n)
			}
			if got := outboxJobs(t, s, st.org, tenants.KindNotifyCreate); got != 1 {
				t.Errorf("%d notifications, want 1: the social worker, not the counsellor", got)
			}
			var mails []tenants.MailMessage
			must(t, s.InTenant(context.Background(), st.org, func(tx *gorm.DB) error { return tx.Find(&mails).Error }))
			if len(mails) != 1 || mails[0].ToAddress != "social@afesip.example.org" || mails[0].Template != followup.MailVisitOverdue ||
				mails[0].Language != "lo" || !strings.Contains(mails[0].Params, ov.Visits[0].ID.String()) {
				t.Fatalf("mails %+v", mails)
			}
			var rm followup.ReminderMail
			must(t, s.InTenant(context.Background(), st.org, func(tx *gorm.DB) error {
				ids, err := mails[0].IDs()
				if err != nil {
					return err
				}
				rm, err = followup.ReminderMailOf(tx, ids)
				return err
			}))
			if rm.Reference != ov.Reference || rm.Due.Format(time.DateOnly) != ov.Visits[0].Due {
				t.Errorf("the mail shows %+v, want %s due %s", rm, ov.Reference, ov.Visits[0].Due)
			}

			// 24 days on, the second visit is due within a week: one more
			// reminder of the kind "due soon"; and the first's overdue one
			// is not written again.
			later := now.AddDate(0, 0, 24)
			n, err = remind(s, st.org, later, nil)
			must(t, err)
			if n != 1 || outboxJobs(t, s, st.org, tenants.KindNotifyCreate) != 2 {
				t.Errorf("24 days on: %d reminders, %d notifications", n, outboxJobs(t, s, st.org, tenants.KindNotifyCreate))
			}

			// A case with no social worker assigned reminds its owner.
			owned, err := cases.New(s).Create(st.social2, cases.NewCase{
				Values: map[string]any{"prs_FirstName": "Owned", "prs_Birthdate": "2008-03-01", "prs_Gender": "Feminine"},
				Consents: []cases.NewConsent{{Purpose: cases.PurposeServices, GivenBy: cases.GivenByGirl,
					GivenOn: "2024-01-10", Basis: cases.BasisSignedForm}}})
			must(t, err)
			must(t, s.InTenant(context.Background(), st.org, func(tx *gorm.DB) error {
				return cases.MoveStage(tx, owned.ID, cases.StageShelter, "", time.Now())
			}))
			r, err := svc.Reintegrate(st.social2, owned.ID, followup.NewReintegration{Destination: followup.DestinationFamily, Date: day(-32), Place: "Ban Don"})
			must(t, err)
			generate(t, s, st.org, r.ID)
			n, err = remind(s, st.org, now, nil)
			must(t, err)
			var notes []tenants.OutboxMessage
			must(t, s.Global(context.Background(), func(tx *gorm.DB) error {
				return tx.Where("tenant_id = ? AND kind = ?", st.org, tenants.KindNotifyCreate).Find(&notes).Error
			}))
			owner := 0
			for _, m := range notes {
				if strings.Contains(m.Payload, st.social2P.Actor.MemberID.String()) {
					owner++
				}
			}
			if n != 1 || owner != 1 {
				t.Errorf("the owned case: %d reminders, %d to its owner", n, owner)
			}
		})
	}
}
