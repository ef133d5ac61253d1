package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/google/uuid"
)

// Operator commands for sign-in: an organisation's identity provider
// (tenants set-idp) and API tokens (tokens create|revoke). The operator
// holds the database and the master key; the domain still validates and
// audits every change, with the operator as actor.

// operatorContext acts as a platform operator at the command line, named in
// the audit log by the login name.
func operatorContext(ctx context.Context, e env) context.Context {
	who := e.getenv("SUDO_USER")
	if who == "" {
		who = e.getenv("USER")
	}
	return tenants.WithPrincipal(ctx, tenants.OperatorPrincipal(who))
}

// listFlag is a repeatable flag; each value may also be a comma-separated
// list.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*l = append(*l, part)
		}
	}
	return nil
}

// mapFlag collects --map GROUP=ROLE[,ROLE]; a group given twice gets the
// roles of both.
type mapFlag map[string][]tenants.Role

func (m mapFlag) String() string { return "" }
func (m mapFlag) Set(v string) error {
	i := strings.LastIndex(v, "=")
	if i <= 0 || i == len(v)-1 {
		return fmt.Errorf("want GROUP=ROLE, got %q", v)
	}
	for _, r := range strings.Split(v[i+1:], ",") {
		m[v[:i]] = append(m[v[:i]], tenants.Role(strings.TrimSpace(r)))
	}
	return nil
}

// parseWithLeadingArg parses args whose first argument may come before the
// flags (tenants set-idp SLUG --issuer ...), and returns it.
func parseWithLeadingArg(fs *flag.FlagSet, args []string) (string, error) {
	var first string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		first, args = args[0], args[1:]
	}
	if err := parse(fs, args); err != nil {
		return "", err
	}
	if first == "" && fs.NArg() > 0 {
		first = fs.Arg(0)
		if fs.NArg() > 1 {
			return "", errUsage
		}
	} else if fs.NArg() > 0 {
		return "", errUsage
	}
	return first, nil
}

func tenantsSetIDP(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "tenants set-idp", "SLUG --issuer URL --client-id ID [--client-secret-file FILE] --groups-claim NAME --map GROUP=ROLE ... [--scopes S,...] [--email-domain D ...]",
		`Sets the organisation's OpenID provider: where its people sign in, and which of
the provider's groups give which roles (a group may map to several roles; an
identity none of whose groups maps to a role cannot sign in). The client
secret is read from a file (never from the command line, where other users
of the machine could read it) and stored encrypted; without the flag the
stored secret is kept. Roles: `+orgRoleList()+`.`)
	issuer := fs.String("issuer", "", "the provider's issuer URL (https://; http:// only on loopback or in demo mode)")
	clientID := fs.String("client-id", "", "the client id registered at the provider for Homeward")
	secretFile := fs.String("client-secret-file", "", "a file holding the client secret (omit for a public client, or to keep the stored one)")
	groupsClaim := fs.String("groups-claim", "groups", "the ID-token claim that lists the person's groups")
	groupRoles := mapFlag{}
	fs.Var(groupRoles, "map", "GROUP=ROLE[,ROLE]: people in the provider group GROUP get ROLE (repeat for each group)")
	var scopes, domains listFlag
	fs.Var(&scopes, "scopes", "extra scopes to ask for, comma-separated (openid is always asked)")
	fs.Var(&domains, "email-domain", "an e-mail domain whose people sign in here, to find the organisation at /login (repeatable)")
	slug, err := parseWithLeadingArg(fs, args)
	if err != nil {
		return err
	}
	if slug == "" {
		fs.Usage()
		return errUsage
	}
	change := tenants.IdentityProviderChange{Issuer: *issuer, ClientID: *clientID, GroupsClaim: *groupsClaim,
		GroupRoles: groupRoles, Scopes: scopes, EmailDomains: domains}
	if *secretFile != "" {
		b, err := os.ReadFile(*secretFile)
		if err != nil {
			return homeward.Invalid(map[string]string{"client-secret-file": err.Error()})
		}
		secret := strings.TrimRight(string(b), "\r\n")
		change.ClientSecret = &secret
	}
	cfg, s, t, err := storeForTenant(ctx, e, slug)
	if err != nil {
		return err
	}
	defer s.Close()
	change.AllowPlainHTTP = cfg.Demo()
	got, err := s.PutIdentityProvider(operatorContext(ctx, e), t.ID, change)
	if err != nil {
		return err
	}
	secret := "no client secret (a public client)"
	if got.ClientSecretSet {
		secret = "client secret set"
	}
	fmt.Fprintf(e.stdout, "%s signs in with %s as client %s (%s); groups from the claim %q map to:\n",
		t.Slug, got.Issuer, got.ClientID, secret, got.GroupsClaim)
	for group, roles := range got.GroupRoles {
		names := make([]string, len(roles))
		for i, r := range roles {
			names[i] = string(r)
		}
		fmt.Fprintf(e.stdout, "  %s -> %s\n", group, strings.Join(names, ", "))
	}
	return nil
}

func orgRoleList() string {
	var names []string
	for _, r := range tenants.Roles {
		if r != tenants.RolePlatformOperator {
			names = append(names, string(r))
		}
	}
	return strings.Join(names, ", ")
}

const tokensUsage = `Usage: homeward tokens create --tenant SLUG --role ROLE [--role ROLE ...] --name NAME [--expires 90d]
       homeward tokens create --platform --name NAME [--expires 90d]
       homeward tokens revoke ID

API tokens for programs (Authorization: Bearer hw_...). create prints the
token alone on its last line; it is shown this once and stored only as a
hash. --platform makes a platform operator's token (the role
platform_operator: /metrics for Prometheus, the queue monitor), which reads
no organisation's records. A token expires after --expires (at most 366
days) and stops at once when revoked.`

func tokensCmd(ctx context.Context, e env, args []string) error {
	sub := ""
	if len(args) > 0 {
		sub = args[0]
	}
	switch sub {
	case "create":
		return tokensCreate(ctx, e, args[1:])
	case "revoke":
		return tokensRevoke(ctx, e, args[1:])
	case "-h", "--help", "help":
		fmt.Fprintln(e.stdout, tokensUsage)
		return nil
	}
	fmt.Fprintln(e.stderr, tokensUsage)
	return errUsage
}

// parseExpiry reads 90d, 12h, 30m (days, or a Go duration).
func parseExpiry(s string) (time.Duration, bool) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		return time.Duration(n) * 24 * time.Hour, err == nil && n > 0
	}
	d, err := time.ParseDuration(s)
	return d, err == nil && d > 0
}

func tokensCreate(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "tokens create", "--tenant SLUG --role ROLE ... --name NAME [--expires 90d] | --platform --name NAME", tokensUsage)
	slug := fs.String("tenant", "", "the organisation the token acts in")
	platform := fs.Bool("platform", false, "a platform operator's token (no organisation)")
	name := fs.String("name", "", "what the token is for, e.g. prometheus or monthly-report")
	expires := fs.String("expires", "90d", "how long it works: days (90d) or hours (12h); at most 366d")
	var roles listFlag
	fs.Var(&roles, "role", "a role of the token (repeatable): "+orgRoleList())
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 || (*slug == "") == !*platform {
		fmt.Fprintln(e.stderr, "homeward tokens create: give either --tenant SLUG or --platform")
		fs.Usage()
		return errUsage
	}
	lifetime, ok := parseExpiry(*expires)
	if !ok {
		return homeward.Invalid(map[string]string{"expires": "a number of days such as 90d, or hours such as 12h"})
	}
	n := tenants.NewAPIToken{Name: *name, ExpiresAt: time.Now().Add(lifetime)}
	for _, r := range roles {
		n.Roles = append(n.Roles, tenants.Role(r))
	}
	var (
		s      *tenants.Store
		tenant = uuid.Nil
		where  = "the platform"
		err    error
	)
	if *platform {
		if len(n.Roles) == 0 {
			n.Roles = []tenants.Role{tenants.RolePlatformOperator}
		}
		if s, err = storeFromEnv(ctx, e); err != nil {
			return err
		}
	} else {
		var t *tenants.Tenant
		if _, s, t, err = storeForTenant(ctx, e, *slug); err != nil {
			return err
		}
		tenant, where = t.ID, t.Slug
	}
	defer s.Close()
	created, err := s.IssueOperatorToken(operatorContext(ctx, e), tenant, n)
	if err != nil {
		return err
	}
	names := make([]string, len(created.Roles))
	for i, r := range created.Roles {
		names[i] = string(r)
	}
	fmt.Fprintf(e.stdout, "API token %s (%s) for %s, roles %s, expires %s, id %s.\n",
		created.Name, created.Prefix, where, strings.Join(names, ", "), created.ExpiresAt.Format(time.RFC3339), created.ID)
	fmt.Fprintln(e.stdout, "It is shown this once; keep it secret:")
	fmt.Fprintln(e.stdout, created.Token)
	return nil
}

func tokensRevoke(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "tokens revoke", "ID", "Revokes an API token (its id is printed by tokens create and listed in the organisation's settings).")
	if err := parse(fs, args); err != nil {
		return err
	}
	id, err := uuid.Parse(fs.Arg(0))
	if fs.NArg() != 1 || err != nil {
		fs.Usage()
		return errUsage
	}
	s, err := storeFromEnv(ctx, e)
	if err != nil {
		return err
	}
	defer s.Close()
	tok, err := s.RevokeOperatorToken(operatorContext(ctx, e), id)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "API token %s (%s) is revoked\n", tok.Name, tok.Prefix)
	return nil
}
