// Package tenants is Homeward's tenant-isolated data: the organisations
// (tenants), the store that opens every transaction on behalf of exactly one
// tenant (InTenant), the embedded migrations, the schema check that keeps every
// tenant-owned table under forced row-level security, the transactional outbox
// rows that background work starts from, and the demo organisations.
//
// Isolation has two layers. On PostgreSQL the app role owns no table and cannot
// bypass row-level security; each transaction sets app.tenant_id with
// set_config(..., true) and the policies do the rest. On top of that (and alone
// on SQLite) a GORM callback adds the tenant condition to every query, update
// and delete on a tenant-owned table, stamps the tenant on every insert and
// refuses any statement on a tenant-owned table outside InTenant.
package tenants
