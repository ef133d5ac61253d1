package pages

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/followup"
	"github.com/afesip/homeward/tenants/kits"
)

// The survivor's path settings pages: the organisation's limit on a
// starter kit's total (/settings/kit-limit) and its follow-up schedule
// (/settings/followup). Both are organisation settings
// (docs/permissions.md): tenant admins change them, auditors read them,
// anyone else gets 403. The domains (Deps.Kits, Deps.FollowUp) authorize
// each read and write and audit each change (kit.limit.change,
// followup.schedule.change), as for the API (/api/v1/settings/kit-limit,
// /api/v1/settings/followup); a form is refused before it is read when
// the member may not change settings. A mistake draws the page again
// (422) with the reason beside its field, in the reader's language, and
// nothing is stored.

// Paths of the survivor's path settings pages.
const (
	PathKitLimit         = "/settings/kit-limit"
	PathFollowUpSchedule = "/settings/followup"
)

// KitLimits is the organisation's limit on a kit's total, in US cents
// (*kits.Service: settings.read, settings.write).
type KitLimits interface {
	Limit(ctx context.Context) (int64, error)
	SetLimit(ctx context.Context, usdCents int64) (int64, error)
}

// FollowUpSchedules is the organisation's follow-up schedule
// (*followup.Service: settings.read, settings.write).
type FollowUpSchedules interface {
	Schedule(ctx context.Context) (followup.Schedule, error)
	SetSchedule(ctx context.Context, sc followup.Schedule) (followup.Schedule, error)
}

var (
	_ KitLimits         = (*kits.Service)(nil)
	_ FollowUpSchedules = (*followup.Service)(nil)
)

// settingSignedIn begins a settings page whose domain is ready (else
// unavailable answers): anyone not signed in is sent to sign in and back
// to path. A nil request means the answer is given (err is it).
func (p *Pages) settingSignedIn(c *fiber.Ctx, path string, ready bool, unavailable error) (*request, error) {
	if !ready {
		return nil, unavailable
	}
	r := p.begin(c)
	if r.principal == nil {
		return nil, c.Redirect(signInFirst(path), fiber.StatusSeeOther)
	}
	return r, nil
}

// settingForm begins a settings form post: as settingSignedIn, then the
// session's CSRF token, then the right to change the organisation's
// settings, refused before any field is read (the domain checks again).
func (p *Pages) settingForm(c *fiber.Ctx, path string, ready bool, unavailable error) (*request, error) {
	r, err := p.settingSignedIn(c, path, ready, unavailable)
	if r == nil {
		return nil, err
	}
	if err := checkForm(c, r.principal); err != nil {
		return nil, err
	}
	if !mayWrite(r.principal, tenants.PermSettingsWrite) {
		return nil, errNotYours
	}
	return r, nil
}

// ---------------------------------------------------------------------------
// The kit limit

// kitLimitPage is the kit limit page's part of the view.
type kitLimitPage struct {
	CanWrite  bool
	Limit     string // the stored limit, in the reader's language
	Default   string
	Min, Max  string
	Form      string // the form's value: as typed, or the stored limit in dollars
	FormError string // a message key, beside the field
}

// KitLimit is GET /settings/kit-limit: the organisation's limit on a
// starter kit's total, and the form that changes it (tenant admins).
func (p *Pages) KitLimit(c *fiber.Ctx) error {
	r, err := p.settingSignedIn(c, PathKitLimit, p.deps.Kits != nil, errNoKits)
	if r == nil {
		return err
	}
	return p.kitLimitPage(c, r, fiber.StatusOK, nil, "")
}

// kitLimitPage draws the page with status; typed is the form's amount as
// sent (nil: the stored limit) and formError its mistake.
func (p *Pages) kitLimitPage(c *fiber.Ctx, r *request, status int, typed *string, formError string) error {
	limit, err := p.deps.Kits.Limit(c.UserContext())
	if err != nil {
		return err
	}
	pg := &kitLimitPage{
		CanWrite: mayWrite(r.principal, tenants.PermSettingsWrite), Limit: r.money(limit, kits.USD),
		Default: r.money(kits.DefaultLimitUSDCents, kits.USD), Min: r.money(kits.MinLimitUSDCents, kits.USD),
		Max: r.money(kits.MaxLimitUSDCents, kits.USD), Form: kits.FormatAmount(limit, kits.USD), FormError: formError,
	}
	if typed != nil {
		pg.Form = *typed
	}
	return p.render(c, status, "kit_limit", p.frame(c, r, "pathsettings.kit_limit_title", PathKitLimit, pg))
}

// SaveKitLimit is POST /settings/kit-limit (form: usd, the limit in US
// dollars, at most two decimals; a comma may stand for the point): the
// limit, audited kit.limit.change by the domain. An amount it cannot read
// or refuses draws the page again (422) with the reason beside the field;
// nothing is stored.
func (p *Pages) SaveKitLimit(c *fiber.Ctx) error {
	r, err := p.settingForm(c, PathKitLimit, p.deps.Kits != nil, errNoKits)
	if r == nil {
		return err
	}
	typed := strings.TrimSpace(c.FormValue("usd"))
	if cents, ok := kits.ParseAmount(typed, kits.USD); ok {
		_, err := p.deps.Kits.SetLimit(c.UserContext(), cents)
		if codeOf(err, homeward.EINVALID) == "" { // the one field: usd_cents
			if err != nil {
				return err
			}
			p.flash(c, "pathsettings.flash_kit_limit_saved")
			return c.Redirect(PathKitLimit, fiber.StatusSeeOther)
		}
	}
	return p.kitLimitPage(c, r, fiber.StatusUnprocessableEntity, &typed, "pathsettings.kit_limit_error")
}

// ---------------------------------------------------------------------------
// The follow-up schedule

// scheduleField is one number of the schedule's form.
type scheduleField struct {
	Name, ID           string
	LabelKey, HelpKey  string
	Value              string
	Min, Max           int
	Error              string // a message key, beside the field
	ErrorMin, ErrorMax int    // the bounds its message names
}

// schedulePage is the follow-up schedule page's part of the view.
type schedulePage struct {
	CanWrite bool
	// The stored schedule in words.
	Monthly, Every, Years, Remind, Visits string
	Fields                                []scheduleField
	FormError                             bool // the form came back with mistakes
}

// scheduleFields are the schedule's numbers in form order: the field (the
// domain's name), its bounds as the browser is told (the domain checks
// again: the monthly months may not pass the follow-up's length).
var scheduleFields = []struct {
	name     string
	min, max int
	value    func(followup.Schedule) int
}{
	{"monthly_months", 0, followup.MaxYears * 12, func(sc followup.Schedule) int { return sc.MonthlyMonths }},
	{"then_every_months", 1, followup.MaxEveryMonths, func(sc followup.Schedule) int { return sc.ThenEveryMonths }},
	{"years", followup.MinYears, followup.MaxYears, func(sc followup.Schedule) int { return sc.Years }},
	{"remind_days_before", 1, followup.MaxRemindDays, func(sc followup.Schedule) int { return sc.RemindDaysBefore }},
}

// FollowUpSchedule is GET /settings/followup: the organisation's schedule
// of follow-up visits after a reintegration and of their reminders, and
// the form that changes it (tenant admins).
func (p *Pages) FollowUpSchedule(c *fiber.Ctx) error {
	r, err := p.settingSignedIn(c, PathFollowUpSchedule, p.deps.FollowUp != nil, errNoFollowUp)
	if r == nil {
		return err
	}
	return p.schedulePage(c, r, fiber.StatusOK, nil, nil)
}

// schedulePage draws the page with status; typed is the form as sent
// (nil: the stored schedule) and errs its mistakes (field → message key).
func (p *Pages) schedulePage(c *fiber.Ctx, r *request, status int, typed map[string]string, errs fieldErrors) error {
	sc, err := p.deps.FollowUp.Schedule(c.UserContext())
	if err != nil {
		return err
	}
	l := r.locale
	pg := &schedulePage{
		CanWrite:  mayWrite(r.principal, tenants.PermSettingsWrite),
		Monthly:   l.Plural("pathsettings.months", int64(sc.MonthlyMonths)),
		Every:     l.Plural("pathsettings.months", int64(sc.ThenEveryMonths)),
		Years:     l.Plural("pathsettings.years", int64(sc.Years)),
		Remind:    l.Plural("pathsettings.days_before", int64(sc.RemindDaysBefore)),
		Visits:    l.Plural("pathsettings.visits", int64(len(sc.DueDates(time.Now().UTC())))),
		FormError: len(errs) > 0,
	}
	for _, f := range scheduleFields {
		sf := scheduleField{Name: f.name, ID: "schedule-" + strings.ReplaceAll(f.name, "_", "-"),
			LabelKey: "pathsettings.schedule_" + f.name, HelpKey: "pathsettings.schedule_" + f.name + "_help",
			Value: strconv.Itoa(f.value(sc)), Min: f.min, Max: f.max, Error: errs[f.name], ErrorMin: f.min, ErrorMax: f.max}
		if typed != nil {
			sf.Value = typed[f.name]
		}
		pg.Fields = append(pg.Fields, sf)
	}
	return p.render(c, status, "followup_schedule", p.frame(c, r, "pathsettings.schedule_title", PathFollowUpSchedule, pg))
}

// SaveFollowUpSchedule is POST /settings/followup (form: monthly_months,
// then_every_months, years, remind_days_before, whole numbers): the
// schedule, audited followup.schedule.change by the domain; it applies to
// reintegrations recorded afterwards. A number that is not one, or that
// the domain refuses, draws the page again (422) with each reason beside
// its field; nothing is stored.
func (p *Pages) SaveFollowUpSchedule(c *fiber.Ctx) error {
	r, err := p.settingForm(c, PathFollowUpSchedule, p.deps.FollowUp != nil, errNoFollowUp)
	if r == nil {
		return err
	}
	typed, errs := map[string]string{}, fieldErrors{}
	numbers := map[string]int{}
	for _, f := range scheduleFields {
		typed[f.name] = strings.TrimSpace(c.FormValue(f.name))
		n, convErr := strconv.Atoi(typed[f.name])
		if convErr != nil {
			errs[f.name] = "pathsettings.schedule_error_" + f.name
		}
		numbers[f.name] = n
	}
	if len(errs) == 0 {
		_, err := p.deps.FollowUp.SetSchedule(c.UserContext(), followup.Schedule{MonthlyMonths: numbers["monthly_months"],
			ThenEveryMonths: numbers["then_every_months"], Years: numbers["years"], RemindDaysBefore: numbers["remind_days_before"]})
		if codeOf(err, homeward.EINVALID) == "" {
			if err != nil {
				return err
			}
			p.flash(c, "pathsettings.flash_schedule_saved")
			return c.Redirect(PathFollowUpSchedule, fiber.StatusSeeOther)
		}
		for field := range fieldsOf(err) {
			if _, known := numbers[field]; known {
				errs[field] = "pathsettings.schedule_error_" + field
			}
		}
		if len(errs) == 0 { // a reason on no field of the form's: still the form's
			return err
		}
	}
	return p.schedulePage(c, r, fiber.StatusUnprocessableEntity, typed, errs)
}
