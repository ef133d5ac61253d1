package api_test

import (
	"gocloud.dev/blob/memblob"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/api"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/care"
	"github.com/afesip/homeward/tenants/casedocs"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/dashboard"
	"github.com/afesip/homeward/tenants/followup"
	"github.com/afesip/homeward/tenants/handoffs"
	"github.com/afesip/homeward/tenants/kits"
	"github.com/afesip/homeward/tenants/shelters"
	"github.com/afesip/homeward/web/pages"
)

// The authorization matrix (authz_matrix_test.go, package api) runs its
// page rows against the real pages, wired as serve wires them.
func init() {
	api.PagesForMatrix = func(s *tenants.Store, cfg *homeward.Config) (api.Pages, error) {
		return pages.New(pages.Deps{Config: cfg, Notifications: s, Settings: pages.TenantSettings{Store: s},
			Memberships: pages.StoreMemberships{Store: s}, LocaleSaver: s, Contacts: s, Administration: s, Cases: cases.New(s), FollowUp: followup.New(s), Shelters: shelters.New(s), Kits: kits.New(s),
			CaseDocuments: casedocs.New(s, memblob.OpenBucket(nil), tenants.DocumentLimits{}), Dashboard: dashboard.New(s),
			Care: care.New(s), Partnerships: handoffs.New(s), Handoffs: handoffs.New(s).WithDocuments(api.MatrixDocuments, tenants.DocumentLimits{})})
	}
}
