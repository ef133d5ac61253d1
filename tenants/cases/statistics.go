package cases

import (
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
)

// The anonymised statistics follow the CTDC practice: counts of cases by
// intake year, age band at intake, gender, type of exploitation and
// cas_Status, from the cases whose survivor consented to statistical
// reporting, with every row under k = 11 cases suppressed.
//
// Suppression protects the survivor in a small group: a row saying that
// one 15-year-old transgender girl entered in 2019 after forced marriage
// names her to anyone who knows her story. A row under 11 is dropped, not
// shown as "<11", and the table has no totals, so a suppressed count can be
// neither seen nor recovered by subtraction. A case with several types of
// exploitation counts once in each type's row, so the counts are cases per
// type, not a partition of the cases.

// kAnonymity is the smallest count a published row may have.
const kAnonymity = 11

// ageBands are the CTDC age bands, by their highest age; older is "48+".
var ageBands = []struct {
	label string
	upTo  int
}{{"0-8", 8}, {"9-17", 17}, {"18-20", 20}, {"21-23", 23}, {"24-26", 26}, {"27-29", 29}, {"30-38", 38}, {"39-47", 47}}

const (
	ageOver     = "48+"
	ageUnknown  = "unknown" // no birth date, or one after the intake
	notRecorded = "Unknown" // gender or type of exploitation not recorded
)

var statisticsHeader = []string{"intake_year", "age_band", "prs_Gender", "vic_TypeOfExploitation", "cas_Status", "count"}

// statisticsCell is one row of the table, before it is counted.
type statisticsCell struct {
	year         int
	ageBand      int // index in ageBands; len(ageBands) is 48+, one more unknown
	gender       string
	exploitation string
	status       string
}

// statisticsTable counts consented cases per cell. Both the organisation's
// and the platform's tables are built by add, so they count alike.
type statisticsTable map[statisticsCell]int

// add counts the cases of the transaction's organisation that have a
// standing statistics consent.
func (t statisticsTable) add(tx *gorm.DB) error {
	return eachCase(tx, func(c *Case) error {
		consented, err := Consented(tx, c.ID, PurposeStatistics)
		if err != nil || !consented {
			return err
		}
		intake := intakeDate(c)
		cell := statisticsCell{year: intake.Year(), ageBand: ageBand(c, intake), gender: notRecorded, status: c.Status()}
		if g, ok := c.Values["prs_Gender"].(string); ok {
			cell.gender = g
		}
		types, _ := c.Values["vic_TypeOfExploitation"].([]string)
		if len(types) == 0 {
			types = []string{notRecorded}
		}
		for _, e := range types {
			cell.exploitation = e
			t[cell]++
		}
		return nil
	})
}

// intakeDate is the day the case came in: the incoming referral date when
// recorded, else the day it was created.
func intakeDate(c *Case) time.Time {
	if s, ok := c.Values["cas_IncomingReferralDate"].(string); ok {
		if d, err := time.Parse(time.DateOnly, s); err == nil {
			return d
		}
	}
	return c.CreatedAt.UTC()
}

// ageBand is the band of the survivor's age in whole years on the intake
// day.
func ageBand(c *Case, intake time.Time) int {
	unknown := len(ageBands) + 1
	s, ok := c.Values["prs_Birthdate"].(string)
	if !ok {
		return unknown
	}
	born, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return unknown
	}
	age := intake.Year() - born.Year()
	if intake.Month() < born.Month() || intake.Month() == born.Month() && intake.Day() < born.Day() {
		age--
	}
	if age < 0 {
		return unknown
	}
	for i, b := range ageBands {
		if age <= b.upTo {
			return i
		}
	}
	return len(ageBands)
}

func ageBandLabel(i int) string {
	switch {
	case i < len(ageBands):
		return ageBands[i].label
	case i == len(ageBands):
		return ageOver
	}
	return ageUnknown
}

// csv is the table as CSV with a header row: the rows of at least
// kAnonymity cases, in a stable order, the others dropped.
func (t statisticsTable) csv() ([]byte, error) {
	cells := slices.SortedFunc(maps.Keys(t), func(a, b statisticsCell) int {
		return cmp.Or(cmp.Compare(a.year, b.year), cmp.Compare(a.ageBand, b.ageBand), cmp.Compare(a.gender, b.gender),
			cmp.Compare(a.exploitation, b.exploitation), cmp.Compare(a.status, b.status))
	})
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(statisticsHeader); err != nil {
		return nil, err
	}
	for _, c := range cells {
		n := t[c]
		if n < kAnonymity {
			continue
		}
		row := []string{strconv.Itoa(c.year), ageBandLabel(c.ageBand), c.gender, c.exploitation, c.status, strconv.Itoa(n)}
		if err := w.Write(row); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// countOrganisation adds the consented cases of organisation tenantID to
// table and records, in the organisation's audit chain, that they were
// counted: the groups read (birth date and gender are identity fields) and
// the consent they were counted under.
func (s *Service) countOrganisation(ctx context.Context, tenantID uuid.UUID, table statisticsTable) error {
	return s.store.InTenant(ctx, tenantID, func(tx *gorm.DB) error {
		if err := table.add(tx); err != nil {
			return err
		}
		return tenants.Audit(tx, tenants.AuditEntry{Action: "statistics.export", RecordType: "statistics",
			FieldGroups: []string{tenants.FieldGroupCore, tenants.FieldGroupIdentity}, Purpose: string(PurposeStatistics)})
	})
}

// StatisticsOf is the anonymised statistics CSV (k = 11, the same table as
// Statistics) of the organisation of tx, an InTenant (or AcrossTenants
// step) transaction: for work that reads them on another organisation's
// behalf (a partner's statistics, tenants/handoffs). The caller has
// authorized the reader and audits the export in that organisation's
// chain; nothing is audited here.
func StatisticsOf(tx *gorm.DB) ([]byte, error) {
	table := statisticsTable{}
	if err := table.add(tx); err != nil {
		return nil, err
	}
	return table.csv()
}

// Statistics is the organisation's anonymised statistics as CSV
// (statistics.read), k-anonymous with k = 11, audited statistics.export.
// Roles that read no case (an auditor, a finance officer) may hold it: a
// row stands for at least 11 cases and names none.
func (s *Service) Statistics(ctx context.Context) ([]byte, error) {
	p, err := tenants.OrgPrincipal(ctx, tenants.PermStatisticsRead)
	if err != nil {
		return nil, err
	}
	table := statisticsTable{}
	if err := s.countOrganisation(ctx, p.TenantID, table); err != nil {
		return nil, err
	}
	return table.csv()
}

// PlatformStatistics is the same table summed over every organisation, for
// the platform operator (statistics.read without an organisation); each
// organisation is read in its own transaction and audits the count in its
// own chain. Suppression applies to the sums, so groups too small in each
// organisation may show once they reach 11 together. The table is the
// operator's alone: an organisation knows its own exact counts and could
// subtract them from the sums, revealing other organisations' small groups.
func (s *Service) PlatformStatistics(ctx context.Context) ([]byte, error) {
	p := tenants.PrincipalFrom(ctx)
	if err := tenants.Authorize(p, tenants.PermStatisticsRead); err != nil {
		return nil, err
	}
	if p.TenantID != uuid.Nil {
		return nil, homeward.Errorf(homeward.EFORBIDDEN,
			"the platform's statistics are the platform operator's; an organisation reads its own")
	}
	orgs, err := s.store.Tenants(ctx)
	if err != nil {
		return nil, err
	}
	table := statisticsTable{}
	for _, org := range orgs {
		if err := s.countOrganisation(ctx, org.ID, table); err != nil {
			return nil, err
		}
	}
	return table.csv()
}
