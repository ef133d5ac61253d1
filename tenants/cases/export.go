package cases

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/google/uuid"
	"gorm.io/gorm"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/cases/htcds"
)

// The HTCDS export is one case as the standard's record
// (htcds.Standard.ValidateRecord): keyed by the sheet's section headings,
// each an object of the standard's field names, the trafficking events an
// array. Only fields the standard defines go out, and of them only the
// groups the exporting member may read; Homeward's own fields, comments and
// the medical and psychological groups never do. It leaves the
// organisation only while the survivor's consent to share stands.

var errNoSharingConsent = homeward.Errorf(homeward.EFORBIDDEN, "the case has no standing consent to share")

// ExportHTCDS returns one case as HTCDS 2.0 JSON (case.export), only while
// the case has the sharing consent, audited case.export with the field
// groups that went out. The consent is read in the same transaction as the
// case, so a withdrawal stops the next export.
func (s *Service) ExportHTCDS(ctx context.Context, caseID uuid.UUID) ([]byte, error) {
	p, err := tenants.OrgPrincipal(ctx, tenants.PermCaseExport)
	if err != nil {
		return nil, err
	}
	var out []byte
	err = s.store.InTenant(ctx, p.TenantID, func(tx *gorm.DB) error {
		c, err := readCase(tx, caseID)
		if err != nil {
			return err
		}
		groups := exportableGroups(p, c)
		if groups == nil {
			return errNoCase // as for an id that does not exist
		}
		shared, err := Consented(tx, c.ID, PurposeSharing)
		if err != nil {
			return err
		}
		if !shared {
			return errNoSharingConsent
		}
		record, exported := htcdsRecord(c, groups)
		if out, err = json.Marshal(record); err != nil {
			return err
		}
		return tenants.Audit(tx, tenants.AuditEntry{Action: "case.export", RecordType: "case", RecordID: c.ID,
			FieldGroups: exported, Purpose: string(PurposeSharing)})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// exportableGroups are the field groups of c that p may read and that an
// HTCDS export may carry, core first; nil when p may not see c at all. The
// medical and psychological groups never leave by this route: the standard
// has no field for them, and health data would need health_sharing on top
// of sharing.
func exportableGroups(p *tenants.Principal, c *Case) []string {
	own := isOwn(p, c.OwnerID, c.Assigned)
	var groups []string
	for _, g := range tenants.FieldGroups {
		if g == tenants.FieldGroupMedical || g == tenants.FieldGroupPsychological {
			continue
		}
		if covers(p.CaseScope(g, false), own) {
			groups = append(groups, g)
		}
	}
	if !slices.Contains(groups, tenants.FieldGroupCore) {
		return nil
	}
	return groups
}

// htcdsRecord is c as the standard's record, from the groups given, and
// the groups whose data it holds.
func htcdsRecord(c *Case, groups []string) (map[string]any, []string) {
	std := htcds.Load()
	record := map[string]any{}
	put := func(name string, v any) {
		f, _ := std.Field(name)
		section, ok := record[f.Section].(map[string]any)
		if !ok {
			section = map[string]any{}
			record[f.Section] = section
		}
		section[name] = v
	}
	used := map[string]bool{tenants.FieldGroupCore: true} // cas_Status at least
	for _, f := range catalogue {
		v, ok := c.Values[f.Name]
		if !f.HTCDS || !ok || !slices.Contains(groups, f.Group) {
			continue
		}
		put(f.Name, v)
		used[f.Group] = true
	}
	put("cas_Status", c.Status())
	put("con_Consent", true) // the export happens only under the sharing consent

	var events []map[string]string
	for _, e := range c.Events {
		event := map[string]string{}
		for name, v := range map[string]string{"hte_Type": e.Type, "hte_Date": e.Date, "hte_City": e.City,
			"hte_Country": e.Country, "hte_Description": e.Description} {
			if v != "" {
				event[name] = v
			}
		}
		events = append(events, event)
	}
	if len(events) > 0 {
		f, _ := std.Field("hte_Type")
		record[f.Section] = events
	}

	var exported []string
	for _, g := range groups {
		if used[g] {
			exported = append(exported, g)
		}
	}
	return record, exported
}
