package pages

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases"
)

// The retention settings page: how many years after closure the scheduled
// job anonymises a closed case, and the cases it will anonymise soon, for
// the administrator to review in time. It is an organisation setting
// (docs/permissions.md): tenant admins change it, auditors read it; the
// domain (Deps.Cases) authorizes both, as it does for the API.

// retentionReviewDays is how far ahead the page lists the cases due.
const retentionReviewDays = 90

// maxRetentionYears bounds the rule, as the form tells the browser (the
// domain checks again).
const maxRetentionYears = 100

// dueCase is a closed case the rule will anonymise: its number and dates,
// never a name.
type dueCase struct {
	Reference   string
	Closed, Due *when
}

// retentionPage is the retention page's part of the view.
type retentionPage struct {
	CanWrite  bool
	Years     int    // as stored; 0: closed cases are kept until erased by hand
	Rule      string // the stored rule in words
	Days      int    // how far ahead Due looks
	Due       []dueCase
	Form      string // the years as the form shows them
	FormError string // a message key, beside the field
	MaxYears  int
}

// Retention is GET /settings/retention: the organisation's retention rule,
// the form that changes it (tenant admins), and the closed cases due for
// anonymisation within retentionReviewDays (tenant admins and auditors).
func (p *Pages) Retention(c *fiber.Ctx) error {
	r, err := p.caseSignedIn(c, PathRetention)
	if r == nil {
		return err
	}
	return p.retentionPage(c, r, fiber.StatusOK, nil, "")
}

// retentionPage draws the page with status; typed is the form's years as
// sent (nil: the stored rule) and formError its mistake.
func (p *Pages) retentionPage(c *fiber.Ctx, r *request, status int, typed *string, formError string) error {
	ctx := c.UserContext()
	rule, err := p.deps.Cases.Retention(ctx)
	if err != nil {
		return err
	}
	due, err := p.deps.Cases.RetentionDue(ctx, retentionReviewDays*24*time.Hour)
	if err != nil {
		return err
	}
	pg := &retentionPage{
		CanWrite: mayWrite(r.principal, tenants.PermSettingsWrite), Years: rule.Years, Days: retentionReviewDays,
		Form: strconv.Itoa(rule.Years), FormError: formError, MaxYears: maxRetentionYears,
	}
	pg.Rule = r.locale.T("cases.retention_keep")
	if rule.Years > 0 {
		pg.Rule = r.locale.Plural("cases.retention_years", int64(rule.Years))
	}
	if typed != nil {
		pg.Form = *typed
	}
	for _, d := range due {
		pg.Due = append(pg.Due, dueCase{Reference: d.Reference, Closed: r.when(&d.ClosedAt), Due: r.when(&d.Due)})
	}
	return p.render(c, status, "retention", p.frame(c, r, "cases.retention_title", PathRetention, pg))
}

// SaveRetention is POST /settings/retention (form: years, whole years
// after closure; 0 keeps closed cases until erased by hand): the rule,
// audited retention.change by the domain. A number it refuses draws the
// page again (422) with the reason beside the field; nothing is stored.
func (p *Pages) SaveRetention(c *fiber.Ctx) error {
	r, err := p.caseForm(c, PathRetention, func(pr *tenants.Principal) bool { return pr.Can(tenants.PermSettingsWrite) })
	if r == nil {
		return err
	}
	typed := strings.TrimSpace(c.FormValue("years"))
	if years, convErr := strconv.Atoi(typed); convErr == nil {
		_, err := p.deps.Cases.SetRetention(c.UserContext(), cases.Retention{Years: years})
		if codeOf(err, homeward.EINVALID) == "" { // the one field: years
			if err != nil {
				return err
			}
			p.flash(c, "cases.flash_retention_saved")
			return c.Redirect(PathRetention, fiber.StatusSeeOther)
		}
	}
	return p.retentionPage(c, r, fiber.StatusUnprocessableEntity, &typed, "cases.retention_error_years")
}
