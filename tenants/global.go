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
}

// isGlobal reports whether table is on the allow-list.
func isGlobal(table string) bool {
	_, ok := GlobalTables[table]
	return ok
}
