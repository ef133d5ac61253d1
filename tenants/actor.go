package tenants

import (
	"context"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// Actor kinds.
const (
	ActorMember   = "member"    // a person signed in to an organisation
	ActorAPIToken = "api_token" // a program using a member's API token
	ActorSystem   = "system"    // background work, scheduled jobs
	ActorOperator = "operator"  // a platform operator (no case data)
	// ActorPartner is another organisation, on this organisation's copy of
	// work the two share (a partnership, a repatriation handoff): the
	// organisation only, never one of its members (PartnerActor).
	ActorPartner = "partner"
)

// Actor is who acts: a person is an identity (issuer, subject), never an
// e-mail address; MemberID is their membership of the organisation acting.
type Actor struct {
	Kind     string
	Issuer   string
	Subject  string
	MemberID *uuid.UUID
}

// SystemActor is background work acting on its own.
var SystemActor = Actor{Kind: ActorSystem, Issuer: "homeward", Subject: "system"}

// PartnerActor is how organisation org is recorded when its member's action
// on shared work (a partnership, a handoff) is audited in the other
// organisation's chain: by the organisation alone, so that no member of
// one organisation is ever named to the other (no member id, no identity).
func PartnerActor(org uuid.UUID) Actor {
	return Actor{Kind: ActorPartner, Issuer: "homeward", Subject: "organisation:" + org.String()}
}

// AsPartner is tx (a step of Store.AcrossTenants on the other
// organisation's side) acting as organisation org: its audit rows name
// PartnerActor(org), and org as the organisation the actor acts for.
func AsPartner(tx *gorm.DB, org uuid.UUID) *gorm.DB {
	ctx := WithTenant(WithActor(tx.Statement.Context, PartnerActor(org)), org)
	return tx.WithContext(ctx)
}

type actorKey struct{}
type requestIDKey struct{}

// WithActor records who acts for the rest of the request or task.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor recorded by WithActor, else SystemActor.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return SystemActor
}

// WithRequestID records the request id (or task id) for the audit log.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestIDFrom returns the id recorded by WithRequestID.
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
