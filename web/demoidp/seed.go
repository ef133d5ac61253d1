package demoidp

import (
	"context"
	"maps"
	"slices"
	"strings"

	"gorm.io/gorm"

	"github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
)

// IdentityProviders is where organisations' identity-provider settings are
// kept: in Homeward, TenantStore, the storage that `homeward tenants
// set-idp` and the settings page write, so that the demo organisations sign
// in through the production path.
type IdentityProviders interface {
	// IdentityProviderOf returns the organisation's settings, nil when it
	// has none, and a not_found *homeward.Error when there is no such
	// organisation.
	IdentityProviderOf(ctx context.Context, slug string) (*tenants.IdentityProvider, error)
	// PutIdentityProvider replaces the organisation's settings.
	PutIdentityProvider(ctx context.Context, slug string, idp tenants.IdentityProvider) error
}

// TenantStore is IdentityProviders on Homeward's store, the production
// path: it reads with tenants.IdentityProviderOf in the organisation's
// transaction and writes with Store.PutIdentityProvider (validated, the
// secret encrypted, audited as idp.change) as a platform operator at the
// command line, as `homeward tenants set-idp` does.
func TenantStore(s *tenants.Store) IdentityProviders { return tenantStore{s} }

type tenantStore struct{ s *tenants.Store }

func (ts tenantStore) IdentityProviderOf(ctx context.Context, slug string) (*tenants.IdentityProvider, error) {
	t, err := ts.s.TenantBySlug(ctx, slug)
	if err != nil {
		return nil, err
	}
	var idp *tenants.IdentityProvider
	err = ts.s.InTenant(ctx, t.ID, func(tx *gorm.DB) error {
		idp, err = tenants.IdentityProviderOf(tx)
		if homeward.ErrorCode(err) == homeward.ENOTFOUND {
			idp, err = nil, nil
		}
		return err
	})
	return idp, err
}

func (ts tenantStore) PutIdentityProvider(ctx context.Context, slug string, idp tenants.IdentityProvider) error {
	t, err := ts.s.TenantBySlug(ctx, slug)
	if err != nil {
		return err
	}
	secret := idp.ClientSecret
	ctx = tenants.WithPrincipal(ctx, tenants.OperatorPrincipal("demo-seed"))
	_, err = ts.s.PutIdentityProvider(ctx, t.ID, tenants.IdentityProviderChange{
		Issuer: idp.Issuer, ClientID: idp.ClientID, ClientSecret: &secret, Scopes: idp.Scopes,
		GroupsClaim: idp.GroupsClaim, GroupRoles: idp.GroupRoles, EmailDomains: idp.EmailDomains,
		AllowPlainHTTP: true, // demo on http://, wherever BASE_URL points
	})
	return err
}

// ConfigureOrganisations points each demo organisation at this provider
// and returns the slugs it changed. An organisation keeps its settings when
// they already match, and when they name another provider (someone trying
// a real provider in a demo); settings of a demo provider at another
// address (BASE_URL changed) or with another secret (the master key
// changed) are replaced. A demo organisation that does not exist is
// skipped. Running it again changes nothing.
func (p *Provider) ConfigureOrganisations(ctx context.Context, idps IdentityProviders) ([]string, error) {
	var changed []string
	for _, org := range tenants.DemoOrganisations {
		want, _ := p.IdentityProvider(org.Slug)
		have, err := idps.IdentityProviderOf(ctx, org.Slug)
		switch {
		case homeward.ErrorCode(err) == homeward.ENOTFOUND:
			continue
		case err != nil:
			return changed, err
		case have != nil && (!isDemoIssuer(have.Issuer) || sameSettings(*have, want)):
			continue
		}
		if err := idps.PutIdentityProvider(ctx, org.Slug, want); err != nil {
			return changed, err
		}
		changed = append(changed, org.Slug)
	}
	return changed, nil
}

// isDemoIssuer reports whether issuer is a demo provider's, at any address.
func isDemoIssuer(issuer string) bool {
	return strings.HasSuffix(strings.TrimSuffix(issuer, "/"), Path)
}

func sameSettings(a, b tenants.IdentityProvider) bool {
	return a.Issuer == b.Issuer && a.ClientID == b.ClientID && a.ClientSecret == b.ClientSecret &&
		a.GroupsClaim == b.GroupsClaim && slices.Equal(a.Scopes, b.Scopes) &&
		maps.EqualFunc(a.GroupRoles, b.GroupRoles, slices.Equal)
}
