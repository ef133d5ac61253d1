package tenants

// GlobalTables is the allow-list of tables without row-level security, each
// with the reason it may be global. Every other table is tenant-owned: it has
// tenant_id first in its primary key, forced row-level security and the
// tenant policy. CheckSchema fails on any table that is neither.
//
// A table goes on this list only when it holds no case data.
var GlobalTables = map[string]string{
	"tenants":          "the organisations themselves: name, country, status; read before any tenant is known (login, routing)",
	"outbox":           "background work waiting to be queued: kind, tenant id and record ids only, never personal data; the relay reads across tenants",
	"goose_db_version": "migration bookkeeping written by homeward migrate",
	"sessions":         "browser sessions: the SHA-256 of the session id, tenant and membership ids (or, for a platform operator, who has no organisation, the identity id), CSRF token, times, and the ID token sealed under a key only the browser's cookie yields (no case data); looked up from the cookie before the tenant is known (tenants/sessions.go, tenants/operators.go)",
	"login_attempts":   "sign-ins in progress (ten minutes, single use): the SHA-256 of the browser's login id, tenant id (none for a platform operator's), state, nonce, PKCE verifier (no personal data); read at the provider's callback before the tenant is known (tenants/sessions.go)",
	"identities":       "a person as (issuer, subject), no name, no e-mail, no case data; one identity spans organisations, so it cannot belong to one",
	"memberships":      "which identity belongs to which organisation with which roles (no case data); read before an organisation is chosen, at sign-in and when switching organisations; every read is filtered by organisation in tenants/members.go",
	"api_tokens":       "the SHA-256 of each API token, its roles and expiry (no case data); looked up by hash before the organisation is known; lists are filtered by organisation in tenants/tokens.go",
}

// isGlobal reports whether table is on the allow-list.
func isGlobal(table string) bool {
	_, ok := GlobalTables[table]
	return ok
}
