package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"gocloud.dev/blob"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
)

// BodyLimit is the largest request body accepted, in bytes, on every route
// but the two document uploads (uploads.go: UploadBodyLimit). Larger bodies
// are refused with 413 too_large before any handler runs (limitBodies).
const BodyLimit = 1 << 20

// DefaultRateLimit is the number of requests one client may make per minute
// when Deps.RateLimit is zero.
const DefaultRateLimit = 300

// Pinger reports whether a backing service answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// QueueStats reports the number of background tasks per queue and state
// (pending, active, scheduled, retry, archived, ...).
type QueueStats interface {
	QueueSizes(ctx context.Context) (map[string]map[string]int, error)
}

// OutboxStats reports how many outbox rows wait for the relay.
type OutboxStats interface {
	OutboxBacklog(ctx context.Context) (int64, error)
}

// Pages is the server-rendered web interface, one method per page route
// (web/pages implements it; routes.go mounts each). Pages read the
// signed-in principal from c.UserContext() (tenants.PrincipalFrom).
type Pages interface {
	Home(c *fiber.Ctx) error                 // GET /: the dashboard, or the welcome page
	Leave(c *fiber.Ctx) error                // GET /leave: the neutral page of "Leave quickly"
	SetLanguage(c *fiber.Ctx) error          // POST /language: the language picker
	Me(c *fiber.Ctx) error                   // GET /me: the member's own page (its contact address)
	SaveContact(c *fiber.Ctx) error          // POST /me/contact
	Members(c *fiber.Ctx) error              // GET /settings/members
	Member(c *fiber.Ctx) error               // GET /settings/members/:id
	SetMemberRoles(c *fiber.Ctx) error       // POST /settings/members/:id/roles
	DisableMember(c *fiber.Ctx) error        // POST /settings/members/:id/disable
	EnableMember(c *fiber.Ctx) error         // POST /settings/members/:id/enable
	APITokens(c *fiber.Ctx) error            // GET /settings/api-tokens
	CreateAPIToken(c *fiber.Ctx) error       // POST /settings/api-tokens
	RevokeAPIToken(c *fiber.Ctx) error       // POST /settings/api-tokens/:id/revoke
	IdentityProvider(c *fiber.Ctx) error     // GET /settings/identity-provider
	SaveIdentityProvider(c *fiber.Ctx) error // POST /settings/identity-provider
	Retention(c *fiber.Ctx) error            // GET /settings/retention: closed cases' retention, and those due
	SaveRetention(c *fiber.Ctx) error        // POST /settings/retention
	KitLimit(c *fiber.Ctx) error             // GET /settings/kit-limit: the starter kit's limit
	SaveKitLimit(c *fiber.Ctx) error         // POST /settings/kit-limit
	FollowUpSchedule(c *fiber.Ctx) error     // GET /settings/followup: the follow-up schedule
	SaveFollowUpSchedule(c *fiber.Ctx) error // POST /settings/followup
	Cases(c *fiber.Ctx) error                // GET /cases: the list and its search
	NewCase(c *fiber.Ctx) error              // GET /cases/new: the intake form
	CreateCase(c *fiber.Ctx) error           // POST /cases
	Erasures(c *fiber.Ctx) error             // GET /cases/erasures: requests waiting for a second person
	ApproveErasure(c *fiber.Ctx) error       // POST /cases/erasures/:id/approve
	CancelErasure(c *fiber.Ctx) error        // POST /cases/erasures/:id/cancel
	Case(c *fiber.Ctx) error                 // GET /cases/:id[?tab=PART]
	CaseAudit(c *fiber.Ctx) error            // GET /cases/:id/audit
	SaveCaseGroup(c *fiber.Ctx) error        // POST /cases/:id/groups/:group
	ChangeCaseStage(c *fiber.Ctx) error      // POST /cases/:id/stage
	AssignCase(c *fiber.Ctx) error           // POST /cases/:id/assignment: owner and assigned staff
	AddCaseComment(c *fiber.Ctx) error       // POST /cases/:id/comments
	RecordCaseConsent(c *fiber.Ctx) error    // POST /cases/:id/consent
	WithdrawCaseConsent(c *fiber.Ctx) error  // POST /cases/:id/consent/:purpose/withdraw
	RequestCaseErasure(c *fiber.Ctx) error   // POST /cases/:id/erasure
	CaseDocuments(c *fiber.Ctx) error        // GET /cases/:id/documents: per visible part, and the upload form
	AddCaseDocument(c *fiber.Ctx) error      // POST /cases/:id/documents (multipart)
	Psychological(c *fiber.Ctx) error        // GET /cases/:id/psychological: assessment and sessions
	SavePsychological(c *fiber.Ctx) error    // POST /cases/:id/psychological
	Medical(c *fiber.Ctx) error              // GET /cases/:id/medical: visits, referrals, HIV and STI tests
	SaveMedical(c *fiber.Ctx) error          // POST /cases/:id/medical
	Legal(c *fiber.Ctx) error                // GET /cases/:id/legal: lawsuit wish, proceedings, lawyer, rights training
	SaveLegal(c *fiber.Ctx) error            // POST /cases/:id/legal
	Support(c *fiber.Ctx) error              // GET /cases/:id/support: education, training, support plans, activities
	SaveSupport(c *fiber.Ctx) error          // POST /cases/:id/support
	Asset(c *fiber.Ctx) error                // GET /static/:file: hashed, immutable assets

	// Reintegration and follow-up (web/pages/followup.go).
	FollowUp(c *fiber.Ctx) error      // GET /cases/:id/followup: reintegration, visits, closing
	Reintegrate(c *fiber.Ctx) error   // POST /cases/:id/followup/reintegration
	CloseFollowUp(c *fiber.Ctx) error // POST /cases/:id/followup/close
	FollowUps(c *fiber.Ctx) error     // GET /followups: overdue and due visits
	RecordVisit(c *fiber.Ctx) error   // POST /followups/visits/:id

	// Shelters and admission (web/pages/shelters.go).
	Shelters(c *fiber.Ctx) error         // GET /shelters: occupancy, waiting lists, and the forms of writers
	CreateShelter(c *fiber.Ctx) error    // POST /shelters
	UpdateShelter(c *fiber.Ctx) error    // POST /shelters/:id
	Admission(c *fiber.Ctx) error        // GET /cases/:id/admission
	RecordAcceptance(c *fiber.Ctx) error // POST /cases/:id/admission/acceptances
	AdmitCase(c *fiber.Ctx) error        // POST /cases/:id/admission/admit
	CancelWaiting(c *fiber.Ctx) error    // POST /cases/:id/admission/waiting/cancel
	TransferCase(c *fiber.Ctx) error     // POST /cases/:id/admission/transfer
	DischargeCase(c *fiber.Ctx) error    // POST /cases/:id/admission/discharge

	// The starter kit (web/pages/kits.go).
	Kits(c *fiber.Ctx) error        // GET /cases/:id/kit: the case's kit requests and their forms
	RequestKit(c *fiber.Ctx) error  // POST /cases/:id/kit
	ApproveKit(c *fiber.Ctx) error  // POST /cases/kits/:id/approve (a second person)
	RejectKit(c *fiber.Ctx) error   // POST /cases/kits/:id/reject
	DisburseKit(c *fiber.Ctx) error // POST /cases/kits/:id/disburse
	HandOverKit(c *fiber.Ctx) error // POST /cases/kits/:id/handover

	// Partnerships with other organisations (web/pages/partnerships.go).
	Partnerships(c *fiber.Ctx) error       // GET /partnerships: the list, proposals to decide, the proposal form
	ProposePartnership(c *fiber.Ctx) error // POST /partnerships
	AcceptPartnership(c *fiber.Ctx) error  // POST /partnerships/:id/accept (the other organisation)
	DeclinePartnership(c *fiber.Ctx) error // POST /partnerships/:id/decline
	SuspendPartnership(c *fiber.Ctx) error // POST /partnerships/:id/suspend
	ResumePartnership(c *fiber.Ctx) error  // POST /partnerships/:id/resume
	EndPartnership(c *fiber.Ctx) error     // POST /partnerships/:id/end

	// Repatriation handoffs (web/pages/handoffs.go).
	Handoffs(c *fiber.Ctx) error              // GET /handoffs: the inbox and outgoing tabs
	StartHandoff(c *fiber.Ctx) error          // POST /handoffs: from a case, or the short intake
	NewHandoff(c *fiber.Ctx) error            // GET /handoffs/new[?case=ID]: the start form, or the short intake
	HandoffDashboard(c *fiber.Ctx) error      // GET /handoffs/dashboard: by stage, days at each stage
	Handoff(c *fiber.Ctx) error               // GET /handoffs/:id: timeline, forms, thread, feedback
	DecideHandoffOverride(c *fiber.Ctx) error // POST /handoffs/:id/override (a second person)
	AcceptHandoff(c *fiber.Ctx) error         // POST /handoffs/:id/accept
	DeclineHandoff(c *fiber.Ctx) error        // POST /handoffs/:id/decline
	WithdrawHandoff(c *fiber.Ctx) error       // POST /handoffs/:id/withdraw: withdraw, or stop sharing
	RecordHandoffStage(c *fiber.Ctx) error    // POST /handoffs/:id/stages
	PostHandoffMessage(c *fiber.Ctx) error    // POST /handoffs/:id/messages
	SendHandoffFeedback(c *fiber.Ctx) error   // POST /handoffs/:id/feedback
	HandoffDocument(c *fiber.Ctx) error       // GET /handoffs/:id/documents/:document: a shared document's copy, as an attachment

	// ErrorPage answers an error as an HTML page in the reader's language
	// (errors.go calls it for a browser's request outside the API).
	ErrorPage(c *fiber.Ctx, e PageError) error

	// SignInChooser draws GET /login without an organisation (signin.go
	// calls it; without Pages the plain page of signin_page.go answers).
	SignInChooser(c *fiber.Ctx, ch Chooser) error
}

// Chooser is the organisation chooser as a page draws it: the organisations
// to sign in to, each with its sign-in address, and the e-mail form.
type Chooser struct {
	Organisations []ChooserOrganisation
	Next          string // the local page to land on afterwards ("/": none)
	Email         string // the address typed, to show again
	Notice        string // "" or ChooserNoMatch: a code, the page has the words
	Operator      bool   // link the platform operators' sign-in (OperatorLoginPath)
}

// ChooserOrganisation is one organisation of the chooser.
type ChooserOrganisation struct {
	Slug, Name string
	Href       string // its sign-in: /login?tenant=SLUG[&next=...]
}

// ChooserNoMatch: no organisation signs in the e-mail address's domain.
const ChooserNoMatch = "no_match"

// OperatorLoginPath starts a platform operator's sign-in.
const OperatorLoginPath = "/login?operator=1"

// PageError is an error as an error page shows it: what the JSON body
// would say, without the message (the domain's English; the page has its
// own words per code).
type PageError struct {
	Status    int
	Code      string // homeward.EINVALID, ...
	RequestID string // to quote when reporting an internal error
}

// Deps is everything the HTTP layer needs. Nothing is global: NewServer gets it
// all from here.
type Deps struct {
	// Logger receives the access log and internal errors. Nil discards them.
	Logger *slog.Logger
	// Config is required. Its mode decides HSTS and the demo-only routes.
	Config *homeward.Config

	// Database is required; /readyz fails only when its Ping fails.
	Database Pinger
	// Redis, when set, is pinged by /readyz, which reports "degraded" (still
	// 200) when it does not answer: the API keeps serving without it.
	Redis Pinger
	// RateLimitRedis, when set, holds the rate-limit counters so that every
	// replica counts against one budget. While it errors, and when it is nil,
	// each process counts on its own.
	RateLimitRedis redis.UniversalClient

	// Queues and Outbox feed /metrics at scrape time. Either may be nil.
	Queues QueueStats
	Outbox OutboxStats

	// QueueMonitor is the asynqmon handler, built with RootPath "/ops/queues"
	// and ReadOnly true (payload redaction is the builder's concern). It is
	// mounted, GET only, for platform operators (both modes). May be nil.
	QueueMonitor http.Handler

	// DemoMailbox is demo mode's mailbox page (web/mailbox: the mail
	// Homeward would have sent). It is mounted at /demo/mailbox in demo
	// mode only. May be nil.
	DemoMailbox fiber.Handler

	// DemoIdentityProvider is demo mode's OpenID provider (web/demoidp),
	// which the demo organisations sign in with. It serves every path
	// under /demo-idp itself, prefix included (its issuer is
	// BASE_URL/demo-idp). It is mounted, GET and POST, in demo mode only.
	// May be nil.
	DemoIdentityProvider http.Handler

	// SignIn is the browser sign-in (NewSignIn): GET /login, GET
	// /auth/callback, POST /auth/switch and POST /logout. It is also the
	// session resolver to give as Sessions. Nil: those routes answer 503.
	SignIn *SignIn

	// Store is the domain the API serves: principals (API tokens, bearer
	// JWTs), members, tokens and identity-provider settings (auth.go,
	// members.go). Nil: no bearer credential is accepted and those routes
	// answer 503 (most of this package's tests).
	Store *tenants.Store
	// Sessions resolves the browser session cookie of requests that send
	// no Authorization header (the sign-in's, Deps.SignIn). Nil: no
	// sessions.
	Sessions SessionResolver

	// Documents is the document storage (HOMEWARD_BLOB_URL,
	// tenants.OpenDocumentBucket) behind the documents of a case. Nil: those
	// routes answer 503.
	Documents *blob.Bucket

	// Pages is the server-rendered web interface (web/pages): its routes
	// are mounted, compressed, when it is set. May be nil (an API-only
	// server, and most of this package's tests).
	Pages Pages

	// Registry receives the HTTP, queue and Go runtime metrics and is what
	// /metrics serves. Nil creates a new one.
	Registry *prometheus.Registry

	// RateLimit is the number of requests per minute one client may make to
	// everything except /healthz, /readyz and /metrics. Zero means
	// DefaultRateLimit.
	RateLimit int
	// TrustedProxies are the load balancers whose X-Forwarded-For is believed
	// when telling clients apart for rate limiting. Empty: the connection's
	// address is the client, and X-Forwarded-For is ignored.
	TrustedProxies []netip.Prefix
}

// NewServer returns the fiber application serving every route in routes.go.
// It panics when Deps.Config or Deps.Database is missing: that is a wiring
// mistake to catch at startup, not a condition to serve through.
func NewServer(deps Deps) *fiber.App {
	return newServer(deps, nil)
}

// newServer is NewServer with a hook that lets tests add routes to /api/v1
// ahead of its not-found handler.
func newServer(deps Deps, testRoutes func(v1 fiber.Router)) *fiber.App {
	if deps.Config == nil || deps.Database == nil {
		panic("api.NewServer: Deps.Config and Deps.Database are required")
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Registry == nil {
		deps.Registry = prometheus.NewRegistry()
	}
	if deps.RateLimit <= 0 {
		deps.RateLimit = DefaultRateLimit
	}
	production := !deps.Config.Demo()
	labels := &routeLabels{}

	app := fiber.New(fiber.Config{
		ErrorHandler: errorHandler(deps.Logger, production, labels, deps.Pages),
		// Bodies are streamed: fasthttp reads the headers and at most 8 KiB
		// of the body; limitBodies (uploads.go) reads the rest within
		// BodyLimit, or, for a member's document upload, the organisation's
		// limit. fasthttp's own limit is the largest upload (a body above it
		// is still streamed, and limitBodies refuses it), and it must not
		// parse multipart forms itself (it would read them whole).
		BodyLimit:                    UploadBodyLimit,
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
		// Generous enough for a slow mobile link in the field, short enough
		// that idle or trickling connections do not pile up.
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           120 * time.Second,
		DisableStartupMessage: true,
		AppName:               "",
		ServerHeader:          "",
		// No ProxyHeader: c.IP() is always the connection's address. Proxies
		// are trusted only by the rate limiter's key, from Deps.TrustedProxies.
		ProxyHeader: "",
	})
	// Before fasthttp pre-reads a body: refuse one too large by its
	// Content-Length (uploads.go).
	app.Server().HeaderReceived = refuseLargeBodies
	routes(app, deps, production, labels, testRoutes)
	labels.load(app)
	return app
}
