package tenants

import (
	"context"

	"github.com/google/uuid"
)

// Actor kinds.
const (
	ActorMember   = "member"    // a person signed in to an organisation
	ActorAPIToken = "api_token" // a program using a member's API token
	ActorSystem   = "system"    // background work, scheduled jobs
	ActorOperator = "operator"  // a platform operator (no case data)
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
