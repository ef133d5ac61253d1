package care_test

import (
	"testing"

	"github.com/google/uuid"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants/care"
	"github.com/afesip/homeward/tenants/tenanttest"
)

// A support plan: its type from the HTCDS list, its progress moving its
// status; the social worker and the case manager write it, the counsellor
// reads it, the medical officer sees nothing of it.
func TestSupportPlanAndItsProgress(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			svc := care.New(s)
			st := newStaff(t, s)
			_, err := svc.AddPlan(st.social, st.caseID, care.NewPlan{Type: "Cooking", Objectives: "Read and write"})
			wantField(t, "a type off the HTCDS list", err, "spl_Type")
			_, err = svc.AddPlan(st.social, st.caseID, care.NewPlan{Type: "Education"})
			wantField(t, "no objectives", err, "spl_Objectives")
			plan, err := svc.AddPlan(st.social, st.caseID, care.NewPlan{Type: "Education", Objectives: "Read and write Lao",
				ActionPlan: "Literacy class three mornings a week", PlannedEnd: "2026-06-30"})
			must(t, err)
			if plan.Status != care.PlanNotStarted || plan.ActionPlan != "Literacy class three mornings a week" {
				t.Errorf("made %+v", plan)
			}
			_, err = svc.AddProgress(st.counsellor, plan.ID, care.NewProgress{Date: "2025-03-01", Status: care.PlanInProgress, Note: "x"})
			wantCode(t, "the counsellor notes progress", err, homeward.EFORBIDDEN)
			_, err = svc.AddProgress(st.social, plan.ID, care.NewProgress{Date: "2025-03-01", Status: "stalled", Note: "x"})
			wantField(t, "a status off the list", err, "status")
			_, err = svc.AddProgress(st.social, plan.ID, care.NewProgress{Date: "2025-03-01", Status: care.PlanInProgress,
				Note: "Knows the alphabet"})
			must(t, err)
			done, err := svc.AddProgress(st.manager, plan.ID, care.NewProgress{Date: "2025-05-20", Status: care.PlanDone,
				Note: "Reads a short text"})
			must(t, err)
			if done.Status != care.PlanDone || done.ActualEnd != "2025-05-20" || len(done.Progress) != 2 ||
				done.Progress[0].Note != "Knows the alphabet" {
				t.Errorf("after the progress: %+v", done)
			}
			objectives := "Read and write Lao and Thai"
			_, err = svc.UpdatePlan(st.social, plan.ID, care.PlanChange{Objectives: &objectives, Version: plan.Version})
			wantCode(t, "a change at an old version", err, homeward.ECONFLICT)
			changed, err := svc.UpdatePlan(st.social, plan.ID, care.PlanChange{Objectives: &objectives, Version: done.Version})
			must(t, err)
			if changed.Objectives != objectives || changed.Type != "Education" || changed.ActualEnd != "2025-05-20" {
				t.Errorf("changed %+v", changed)
			}

			plans, err := svc.Plans(st.counsellor, st.caseID)
			must(t, err)
			if len(plans.Plans) != 1 || plans.Plans[0].Objectives != objectives {
				t.Errorf("the counsellor reads %+v", plans.Plans)
			}
			_, err = svc.UpdatePlan(st.counsellor, plan.ID, care.PlanChange{Objectives: &objectives})
			wantCode(t, "the counsellor changes it", err, homeward.EFORBIDDEN)
			_, err = svc.Plans(st.medical, st.caseID)
			wantCode(t, "the medical officer lists plans", err, homeward.EFORBIDDEN)
			_, err = svc.Plan(st.medical, plan.ID)
			wantCode(t, "the medical officer reads a plan", err, homeward.ENOTFOUND)
			got, err := svc.Plan(st.counsellor, plan.ID)
			must(t, err)
			if got.ID != plan.ID {
				t.Errorf("the counsellor's plan %+v", got)
			}
		})
	}
}

// Group activities: held by those who write the support part; each case's
// attendance recorded under its support part; a member sees only the
// attendance of cases it may see.
func TestActivityAttendanceFollowsTheCases(t *testing.T) {
	for name, s := range tenanttest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			svc := care.New(s)
			st := newStaff(t, s)
			other := st.newCase(t) // nobody's but the case manager's
			_, err := svc.CreateActivity(st.counsellor, care.NewActivity{Type: "yoga", Date: "2025-03-01", Topic: "Breathing"})
			wantCode(t, "the counsellor holds an activity", err, homeward.EFORBIDDEN)
			_, err = svc.CreateActivity(st.medical, care.NewActivity{Type: "yoga", Date: "2025-03-01", Topic: "Breathing"})
			wantCode(t, "the medical officer holds an activity", err, homeward.EFORBIDDEN)
			_, err = svc.CreateActivity(st.social, care.NewActivity{Type: "karaoke", Date: "2025-03-01"})
			wantField(t, "an unknown type", err, "type")
			a, err := svc.CreateActivity(st.social, care.NewActivity{Type: "civics", Date: "2025-03-01",
				Topic: "The rights of trafficking victims (Article 25)"})
			must(t, err)

			_, err = svc.SetAttendance(st.social, a.ID, st.caseID, true)
			must(t, err)
			_, err = svc.SetAttendance(st.social, a.ID, other, true)
			wantCode(t, "the social worker records a case not hers", err, homeward.ENOTFOUND)
			_, err = svc.SetAttendance(st.counsellor, a.ID, st.caseID, true)
			wantCode(t, "the counsellor records attendance", err, homeward.EFORBIDDEN)
			_, err = svc.SetAttendance(st.social, uuid.New(), st.caseID, true)
			wantCode(t, "an unknown activity", err, homeward.ENOTFOUND)
			both, err := svc.SetAttendance(st.manager, a.ID, other, true)
			must(t, err)
			if len(both.Attendance) != 2 {
				t.Errorf("the case manager sees %d attendees, want 2", len(both.Attendance))
			}
			mine, err := svc.Activity(st.social, a.ID)
			must(t, err)
			if len(mine.Attendance) != 1 || mine.Attendance[0].CaseID != st.caseID || mine.Topic != a.Topic {
				t.Errorf("the social worker sees %+v", mine)
			}
			_, err = svc.Activity(st.medical, a.ID)
			wantCode(t, "the medical officer reads an activity", err, homeward.EFORBIDDEN)

			attended, err := svc.CaseActivities(st.counsellor, st.caseID)
			must(t, err)
			if len(attended.Activities) != 1 || attended.Activities[0].ID != a.ID {
				t.Errorf("the case attended %+v", attended.Activities)
			}
			_, err = svc.SetAttendance(st.social, a.ID, st.caseID, false)
			must(t, err)
			attended, err = svc.CaseActivities(st.social, st.caseID)
			must(t, err)
			if len(attended.Activities) != 0 {
				t.Errorf("after taking it back: %+v", attended.Activities)
			}
			page, err := svc.Activities(st.counsellor, 1, "")
			must(t, err)
			if len(page.Activities) != 1 || page.Next != "" {
				t.Errorf("the list: %+v", page)
			}
			_, err = svc.Activities(st.lawyer, 0, "")
			wantCode(t, "the lawyer lists activities", err, homeward.EFORBIDDEN)
		})
	}
}
