package pages

import (
	"context"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants/dashboard"
	"github.com/afesip/homeward/tenants/kits"
)

// The organisation's dashboard figures (tenants/dashboard) as charts drawn
// on the server: inline SVG, horizontal bars (long Lao and Thai labels fit
// on a phone), no script, a few hundred bytes each. Each chart is an image
// with a name (role="img", aria-label listing every figure), each bar has a
// <title> (a tooltip), and the figures are in a table under it too, for
// anyone who cannot see the bars.

// Dashboard is the organisation's dashboard figures (*dashboard.Service),
// authorized from the principal in ctx.
type Dashboard interface {
	Dashboard(ctx context.Context) (*dashboard.Summary, error)
}

var _ Dashboard = (*dashboard.Service)(nil)

// Geometry of a bar chart, in the SVG's own units (it scales to its box).
const (
	chartWidth = 320 // the viewBox's width
	barSpan    = 250 // the longest bar; the rest holds its figure
	rowHeight  = 36  // a label above its bar
	barHeight  = 14
)

// bar is one bar as the template draws it.
type bar struct {
	Label, Figure    string // in the reader's language
	LabelY, BarY     int
	Width            int // the value's share of barSpan
	Track            int // a part-to-whole bar: the whole's width ("" none)
	FigureX, FigureY int
}

// chart is one bar chart.
type chart struct {
	ID      string // for the element ids
	Title   string // the heading, in the reader's language
	Label   string // aria-label: the title and every figure
	Height  int
	Bars    []bar
	Caption string // the table's second column heading
}

// barValue is what a bar shows: value, out of whole when whole > 0.
type barValue struct {
	label, figure string
	value, whole  int64
}

// barChart lays the values out: bar widths proportional to the largest
// value (or whole), never wider than barSpan.
func barChart(id, title, caption string, values []barValue) *chart {
	top := int64(1)
	for _, v := range values {
		top = max(top, v.value, v.whole)
	}
	c := &chart{ID: id, Title: title, Caption: caption, Height: rowHeight * len(values)}
	figures := make([]string, 0, len(values))
	for i, v := range values {
		y := i * rowHeight
		b := bar{Label: v.label, Figure: v.figure, LabelY: y + 12, BarY: y + 17,
			Width: int(v.value * barSpan / top), FigureY: y + 17 + barHeight - 3}
		if v.whole > 0 {
			b.Track = int(v.whole * barSpan / top)
		}
		b.FigureX = max(b.Width, b.Track) + 4
		c.Bars = append(c.Bars, b)
		figures = append(figures, v.label+": "+v.figure)
	}
	c.Label = title + ". " + strings.Join(figures, "; ")
	return c
}

// dashboardCharts are the dashboard's charts and key figures.
type dashboardCharts struct {
	Own        bool // of the member's own cases
	Stages     *chart
	Admissions string // "12", in the reader's digits
	Year       string
	Shelters   *chart // nil: not the member's to see
	Visits     *chart // follow-up visits overdue and due soon; nil: not the member's to see
	Kits       string // starter kits disbursed this year; "": not the member's to see
	KitsSpent  string // what they cost, in US dollars in the reader's format
}

// charts reads the member's dashboard figures: nil when its roles include
// no dashboard (a finance officer, an auditor) or the figures cannot be
// read now (logged: the rest of the home page still works).
func (p *Pages) charts(c *fiber.Ctx, r *request) *dashboardCharts {
	if p.deps.Dashboard == nil || r.principal.TenantID == uuid.Nil {
		return nil
	}
	sum, err := p.deps.Dashboard.Dashboard(c.UserContext())
	if codeOf(err, homeward.EFORBIDDEN) != "" {
		return nil
	}
	if err != nil {
		p.deps.Logger.Warn("pages: dashboard", "err", err)
		return nil
	}
	l := r.locale
	out := &dashboardCharts{Own: sum.Own, Admissions: l.Number(int64(sum.Admissions)), Year: yearOf(r, sum.Year)}
	stages := make([]barValue, 0, len(sum.Stages))
	for _, s := range sum.Stages {
		stages = append(stages, barValue{label: l.T(stageKey(s.Stage)), figure: l.Number(int64(s.Cases)), value: int64(s.Cases)})
	}
	out.Stages = barChart("stages", l.T("dashboard.chart.stages"), l.T("dashboard.chart.cases"), stages)
	if sum.Shelters != nil {
		beds := make([]barValue, 0, len(sum.Shelters))
		for _, s := range sum.Shelters {
			beds = append(beds, barValue{label: s.Name, value: int64(s.Occupancy), whole: int64(s.Capacity),
				figure: l.T("dashboard.chart.beds", "Taken", l.Number(int64(s.Occupancy)), "Beds", l.Number(int64(s.Capacity)))})
		}
		out.Shelters = barChart("shelters", l.T("dashboard.chart.shelters"), l.T("dashboard.chart.occupancy"), beds)
	}
	if v := sum.Visits; v != nil {
		out.Visits = barChart("visits", l.T("dashboard.chart.visits"), l.T("dashboard.chart.visits_count"), []barValue{
			{label: l.T("dashboard.chart.overdue"), figure: l.Number(v.Overdue), value: v.Overdue},
			{label: l.Plural("dashboard.chart.due_soon", int64(v.Within)), figure: l.Number(v.DueSoon), value: v.DueSoon},
		})
	}
	if k := sum.Kits; k != nil {
		out.Kits, out.KitsSpent = l.Number(k.Disbursed), r.money(k.SpentUSDCents, kits.USD)
	}
	return out
}

// yearOf is a year as the reader counts it (Buddhist Era in th and lo).
func yearOf(r *request, year int) string {
	if r.locale.BuddhistEra() {
		year += 543
	}
	return strconv.Itoa(year)
}
