package api

import (
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/compress"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/tenants/care"
	"github.com/afesip/homeward/tenants/casedocs"
	"github.com/afesip/homeward/tenants/cases"
	"github.com/afesip/homeward/tenants/followup"
	"github.com/afesip/homeward/tenants/handoffs"
	"github.com/afesip/homeward/tenants/kits"
	"github.com/afesip/homeward/tenants/shelters"
)

// routes lists every route and middleware. Fiber runs them in the order they
// are registered, so the order below is the order a request meets them.
func routes(app *fiber.App, deps Deps, production bool, labels *routeLabels, testRoutes func(fiber.Router)) {
	metrics := newHTTPMetrics(deps.Registry, deps.Queues, deps.Outbox, deps.Logger)

	// Outermost: turn a panic anywhere below into a 500, then give every
	// request an id, then observe it (access log and metrics see the final
	// status, including errors and panics), then set the security headers
	// that the error responses carry too.
	app.Use(recoverPanics())
	app.Use(requestID())
	app.Use(requestContext)
	app.Use(observe(deps.Logger, metrics, labels))
	app.Use(securityHeaders(production))
	// Request bodies (uploads.go): every body is read here, at most
	// BodyLimit, except a document upload's, which waits on the connection
	// until sign-in and the organisation's limit say how much to read.
	app.Use(limitBodies)

	// Probes and metrics come before the rate limiter: an orchestrator or
	// Prometheus polling them must never be throttled.
	app.Get("/healthz", healthz)
	app.Get("/readyz", readyz(deps.Database, deps.Redis, deps.Logger))
	// /metrics is for the platform operator (Prometheus sends a platform
	// operator's API token: homeward tokens create --platform). It holds
	// counts only, no personal data; still keep it off the public ingress.
	auth := newAuthenticator(deps)
	app.Get("/metrics", auth.middleware, requirePermission(tenants.PermOperations),
		adaptor.HTTPHandler(promhttp.HandlerFor(deps.Registry, promhttp.HandlerOpts{
			ErrorHandling: promhttp.ContinueOnError,
		})))

	app.Use(rateLimit(deps.RateLimit, deps.RateLimitRedis, deps.TrustedProxies, deps.Logger))

	// Demo mode keeps mail instead of sending it, and shows it here.
	if deps.DemoMailbox != nil && deps.Config.Demo() {
		app.Get("/demo/mailbox", deps.DemoMailbox)
	}
	// Demo mode's OpenID provider: discovery, keys, authorize, the login
	// form, token, userinfo, end session. Its answers are OAuth's and its
	// own pages', not the API's.
	if deps.DemoIdentityProvider != nil && deps.Config.Demo() {
		idp := adaptor.HTTPHandler(deps.DemoIdentityProvider)
		app.Get("/demo-idp", idp)
		app.Get("/demo-idp/*", idp)
		app.Post("/demo-idp/*", idp)
	}

	// Who is asking (auth.go): an API token, a bearer JWT from the
	// organisation's provider, or the session cookie; a bad credential is
	// 401 here. Below this line c.UserContext() carries the principal. (The
	// demo provider above serves its own forms, never Homeward's session.)
	app.Use(auth.middleware)

	// The read-only queue monitor, for platform operators.
	if deps.QueueMonitor != nil {
		app.Use("/ops/queues", requirePermission(tenants.PermOperations))
		mountQueueMonitor(app, "/ops/queues", deps.QueueMonitor, deps.Logger)
	}

	// Sign-in with each organisation's provider, and the browser session
	// (signin.go, session.go). The two POSTs need the session's CSRF token.
	app.Get("/login", func(c *fiber.Ctx) error { return deps.SignIn.login(c, deps.Pages) })
	app.Get("/auth/callback", deps.SignIn.callback)
	app.Post("/auth/switch", deps.SignIn.switchOrganisation)
	app.Post("/logout", deps.SignIn.logout)

	// The web pages (web/pages), compressed (brotli or gzip, as the browser
	// accepts) for slow mobile links. Assets carry their content's hash in
	// their address and are cached for a year (they replace no-store).
	// Forms post with the session's CSRF token and answer 303 to the page
	// (a new API token: 200, the page that shows it once). The settings
	// pages are sign-in's members, API tokens and identity provider, and
	// the case files' retention rule; the domain authorizes each (tenant
	// admins change, auditors read).
	if deps.Pages != nil {
		compressed := compress.New(compress.Config{Level: compress.LevelDefault})
		app.Get("/", compressed, deps.Pages.Home)
		app.Get("/leave", compressed, deps.Pages.Leave)
		app.Post("/language", deps.Pages.SetLanguage)
		// The member's own page (web/pages/me.go): its contact address.
		app.Get("/me", compressed, deps.Pages.Me)
		app.Post("/me/contact", compressed, deps.Pages.SaveContact)
		app.Get("/settings/members", compressed, deps.Pages.Members)
		app.Get("/settings/members/:id", compressed, deps.Pages.Member)
		app.Post("/settings/members/:id/roles", compressed, deps.Pages.SetMemberRoles)
		app.Post("/settings/members/:id/disable", compressed, deps.Pages.DisableMember)
		app.Post("/settings/members/:id/enable", compressed, deps.Pages.EnableMember)
		app.Get("/settings/api-tokens", compressed, deps.Pages.APITokens)
		app.Post("/settings/api-tokens", compressed, deps.Pages.CreateAPIToken)
		app.Post("/settings/api-tokens/:id/revoke", compressed, deps.Pages.RevokeAPIToken)
		app.Get("/settings/identity-provider", compressed, deps.Pages.IdentityProvider)
		app.Post("/settings/identity-provider", compressed, auth.providersChangedAfter, deps.Pages.SaveIdentityProvider)
		app.Get("/settings/retention", compressed, deps.Pages.Retention)
		app.Post("/settings/retention", compressed, deps.Pages.SaveRetention)
		// The survivor's path settings (web/pages/pathsettings.go): the kit
		// limit and the follow-up schedule, organisation settings as above.
		app.Get("/settings/kit-limit", compressed, deps.Pages.KitLimit)
		app.Post("/settings/kit-limit", compressed, deps.Pages.SaveKitLimit)
		app.Get("/settings/followup", compressed, deps.Pages.FollowUpSchedule)
		app.Post("/settings/followup", compressed, deps.Pages.SaveFollowUpSchedule)
		// The case files (web/pages/cases.go): the domain authorizes each
		// read and write and leaves out the parts a member may not see.
		// /cases/new and /cases/erasures come before /cases/:id.
		app.Get("/cases", compressed, deps.Pages.Cases)
		app.Get("/cases/new", compressed, deps.Pages.NewCase)
		app.Post("/cases", compressed, deps.Pages.CreateCase)
		app.Get("/cases/erasures", compressed, deps.Pages.Erasures)
		app.Post("/cases/erasures/:id/approve", compressed, deps.Pages.ApproveErasure)
		app.Post("/cases/erasures/:id/cancel", compressed, deps.Pages.CancelErasure)
		app.Get("/cases/:id", compressed, deps.Pages.Case)
		app.Get("/cases/:id/audit", compressed, deps.Pages.CaseAudit)
		app.Post("/cases/:id/groups/:group", compressed, deps.Pages.SaveCaseGroup)
		app.Post("/cases/:id/stage", compressed, deps.Pages.ChangeCaseStage)
		app.Post("/cases/:id/assignment", compressed, deps.Pages.AssignCase)
		app.Post("/cases/:id/comments", compressed, deps.Pages.AddCaseComment)
		app.Post("/cases/:id/consent", compressed, deps.Pages.RecordCaseConsent)
		app.Post("/cases/:id/consent/:purpose/withdraw", compressed, deps.Pages.WithdrawCaseConsent)
		app.Post("/cases/:id/erasure", compressed, deps.Pages.RequestCaseErasure)
		app.Get("/cases/:id/documents", compressed, deps.Pages.CaseDocuments)
		app.Post("/cases/:id/documents", compressed, deps.Pages.AddCaseDocument) // its body: DocumentUpload and FormValue only (uploads.go)
		// Shelters and admission (web/pages/shelters.go): the shelters
		// service authorizes each (shelters.read/.write; the case's core).
		app.Get("/shelters", compressed, deps.Pages.Shelters)
		app.Post("/shelters", compressed, deps.Pages.CreateShelter)
		app.Post("/shelters/:id", compressed, deps.Pages.UpdateShelter)
		app.Get("/cases/:id/admission", compressed, deps.Pages.Admission)
		app.Post("/cases/:id/admission/acceptances", compressed, deps.Pages.RecordAcceptance)
		app.Post("/cases/:id/admission/admit", compressed, deps.Pages.AdmitCase)
		app.Post("/cases/:id/admission/waiting/cancel", compressed, deps.Pages.CancelWaiting)
		app.Post("/cases/:id/admission/transfer", compressed, deps.Pages.TransferCase)
		app.Post("/cases/:id/admission/discharge", compressed, deps.Pages.DischargeCase)
		// The starter kit (web/pages/kits.go): a case's requests and their
		// forms; the decisions and records post to /cases/kits/:id/... (the
		// kit service authorizes each: the case's kit part, kit.approve).
		app.Get("/cases/:id/kit", compressed, deps.Pages.Kits)
		app.Post("/cases/:id/kit", compressed, deps.Pages.RequestKit)
		app.Post("/cases/kits/:id/approve", compressed, deps.Pages.ApproveKit)
		app.Post("/cases/kits/:id/reject", compressed, deps.Pages.RejectKit)
		app.Post("/cases/kits/:id/disburse", compressed, deps.Pages.DisburseKit)
		app.Post("/cases/kits/:id/handover", compressed, deps.Pages.HandOverKit)
		// A case's services, one page per part (web/pages/care.go): the
		// entries and their forms; the support page also holds the support
		// plans and the group activities attended. The care service
		// authorizes each by the case's part.
		app.Get("/cases/:id/psychological", compressed, deps.Pages.Psychological)
		app.Post("/cases/:id/psychological", compressed, deps.Pages.SavePsychological)
		app.Get("/cases/:id/medical", compressed, deps.Pages.Medical)
		app.Post("/cases/:id/medical", compressed, deps.Pages.SaveMedical)
		app.Get("/cases/:id/legal", compressed, deps.Pages.Legal)
		app.Post("/cases/:id/legal", compressed, deps.Pages.SaveLegal)
		app.Get("/cases/:id/support", compressed, deps.Pages.Support)
		app.Post("/cases/:id/support", compressed, deps.Pages.SaveSupport)
		// Reintegration and follow-up (web/pages/followup.go): a case's
		// reintegration form, schedule, visit forms and closing; the
		// organisation's overdue and due visits. The follow-up service
		// authorizes each (the case's followup part).
		app.Get("/cases/:id/followup", compressed, deps.Pages.FollowUp)
		app.Post("/cases/:id/followup/reintegration", compressed, deps.Pages.Reintegrate)
		app.Post("/cases/:id/followup/close", compressed, deps.Pages.CloseFollowUp)
		app.Get("/followups", compressed, deps.Pages.FollowUps)
		app.Post("/followups/visits/:id", compressed, deps.Pages.RecordVisit)
		// Partnerships with other organisations (web/pages/partnerships.go):
		// the list, the proposal form, and each move's form; the handoff
		// service authorizes each (partnerships.read, .write).
		app.Get("/partnerships", compressed, deps.Pages.Partnerships)
		app.Post("/partnerships", compressed, deps.Pages.ProposePartnership)
		app.Post("/partnerships/:id/accept", compressed, deps.Pages.AcceptPartnership)
		app.Post("/partnerships/:id/decline", compressed, deps.Pages.DeclinePartnership)
		app.Post("/partnerships/:id/suspend", compressed, deps.Pages.SuspendPartnership)
		app.Post("/partnerships/:id/resume", compressed, deps.Pages.ResumePartnership)
		app.Post("/partnerships/:id/end", compressed, deps.Pages.EndPartnership)
		// Repatriation handoffs (web/pages/handoffs.go): the inbox and
		// outgoing tabs, the start form (from a case, or the short intake),
		// the dashboard, a handoff with its timeline and the forms of this
		// side's steps, thread and feedback. The handoff service authorizes
		// each; /handoffs/new and /handoffs/dashboard come before /:id.
		app.Get("/handoffs", compressed, deps.Pages.Handoffs)
		app.Post("/handoffs", compressed, deps.Pages.StartHandoff)
		app.Get("/handoffs/new", compressed, deps.Pages.NewHandoff)
		app.Get("/handoffs/dashboard", compressed, deps.Pages.HandoffDashboard)
		app.Get("/handoffs/:id", compressed, deps.Pages.Handoff)
		app.Post("/handoffs/:id/override", compressed, deps.Pages.DecideHandoffOverride)
		app.Post("/handoffs/:id/accept", compressed, deps.Pages.AcceptHandoff)
		app.Post("/handoffs/:id/decline", compressed, deps.Pages.DeclineHandoff)
		app.Post("/handoffs/:id/withdraw", compressed, deps.Pages.WithdrawHandoff)
		app.Post("/handoffs/:id/stages", compressed, deps.Pages.RecordHandoffStage)
		app.Post("/handoffs/:id/messages", compressed, deps.Pages.PostHandoffMessage)
		app.Post("/handoffs/:id/feedback", compressed, deps.Pages.SendHandoffFeedback)
		// A copy of a shared document, as an attachment: not compressed
		// (documents mostly are already).
		app.Get("/handoffs/:id/documents/:document", deps.Pages.HandoffDocument)
		app.Get("/static/:file", compressed, deps.Pages.Asset)
	}

	v1 := app.Group("/api/v1")
	// The OpenAPI document describes every route here: add each new route
	// to api/openapi.yaml too (openapi_test.go checks both ways).
	v1.Get("/openapi.yaml", serveOpenAPI)
	// Who am I; an organisation's members, API tokens, identity
	// provider and permission adjustments (members.go). Each is authorized in the domain.
	admin := &administration{store: deps.Store, auth: auth, demo: deps.Config.Demo()}
	v1.Get("/me", me)
	// The member's own contact address (contact.go): where its mail goes.
	v1.Get("/me/contact", admin.getContact)
	v1.Put("/me/contact", admin.putContact)
	v1.Get("/members", admin.listMembers)
	v1.Post("/members/:id/disable", admin.setMemberDisabled(true))
	v1.Post("/members/:id/enable", admin.setMemberDisabled(false))
	v1.Put("/members/:id/roles", admin.setMemberRoles)
	v1.Get("/tokens", admin.listTokens)
	v1.Post("/tokens", admin.createToken)
	v1.Delete("/tokens/:id", admin.revokeToken)
	v1.Get("/settings/identity-provider", admin.getIdentityProvider)
	v1.Put("/settings/identity-provider", admin.putIdentityProvider)
	v1.Get("/settings/permissions", admin.getPermissions)
	v1.Put("/settings/permissions", admin.putPermissions)
	// Case files (cases.go): the HTCDS-named record, its assignment,
	// consent, comments, erasure, export and audit trail; the anonymised
	// statistics; the retention rule. The case service authorizes each.
	files := &caseFiles{cases: cases.New(deps.Store)}
	v1.Get("/cases", files.listCases)
	v1.Post("/cases", files.createCase)
	v1.Get("/cases/:id", files.getCase)
	v1.Patch("/cases/:id", files.updateCase)
	v1.Put("/cases/:id/assignment", files.assignCase)
	v1.Get("/cases/:id/consent", files.getConsent)
	v1.Post("/cases/:id/consent", files.recordConsent)
	v1.Post("/cases/:id/consent/:purpose/withdraw", files.withdrawConsent)
	v1.Get("/cases/:id/comments", files.listComments)
	v1.Post("/cases/:id/comments", files.addComment)
	v1.Post("/cases/:id/erasure", files.requestErasure)
	v1.Get("/cases/:id/export", files.exportCase)
	v1.Get("/cases/:id/audit", files.caseAudit)
	v1.Get("/erasures", files.listErasures)
	v1.Post("/erasures/:id/approve", files.decideErasure(true))
	v1.Post("/erasures/:id/cancel", files.decideErasure(false))
	v1.Get("/statistics/cases.csv", files.statistics)
	v1.Get("/settings/retention", files.getRetention)
	v1.Put("/settings/retention", files.putRetention)
	v1.Get("/settings/retention/due", files.retentionDue)
	// A case's services (care.go): its entries per section, each
	// section's part deciding who may see and add them; support plans and
	// their progress; group activities and each case's attendance. The
	// care service authorizes each.
	services := &careServices{care: care.New(deps.Store)}
	v1.Get("/cases/:id/psychological", services.listEntries(care.SectionPsychological))
	v1.Post("/cases/:id/psychological", services.addEntry(care.SectionPsychological))
	v1.Get("/cases/:id/medical", services.listEntries(care.SectionMedical))
	v1.Post("/cases/:id/medical", services.addEntry(care.SectionMedical))
	v1.Get("/cases/:id/legal", services.listEntries(care.SectionLegal))
	v1.Post("/cases/:id/legal", services.addEntry(care.SectionLegal))
	v1.Get("/cases/:id/education", services.listEntries(care.SectionEducation))
	v1.Post("/cases/:id/education", services.addEntry(care.SectionEducation))
	v1.Get("/cases/:id/training", services.listEntries(care.SectionTraining))
	v1.Post("/cases/:id/training", services.addEntry(care.SectionTraining))
	v1.Get("/care-entries/:id", services.getEntry)
	v1.Put("/care-entries/:id", services.updateEntry)
	v1.Get("/cases/:id/support-plans", services.listPlans)
	v1.Post("/cases/:id/support-plans", services.addPlan)
	v1.Get("/support-plans/:id", services.getPlan)
	v1.Patch("/support-plans/:id", services.updatePlan)
	v1.Post("/support-plans/:id/progress", services.addProgress)
	v1.Get("/cases/:id/activities", services.caseActivities)
	v1.Get("/activities", services.listActivities)
	v1.Post("/activities", services.createActivity)
	v1.Get("/activities/:id", services.getActivity)
	v1.Post("/activities/:id/attendance", services.setAttendance)
	// The starter kit (kits.go): a case's kit requests, their approval by
	// a second person, rejection, disbursement and hand-over, and the
	// organisation's limit. The kit service authorizes each.
	starter := &kitRequests{kits: kits.New(deps.Store)}
	v1.Get("/cases/:id/kits", starter.listKits)
	v1.Post("/cases/:id/kits", starter.requestKit)
	v1.Get("/kits/:id", starter.getKit)
	v1.Put("/kits/:id", starter.changeKit)
	v1.Post("/kits/:id/approve", starter.approveKit)
	v1.Post("/kits/:id/reject", starter.rejectKit)
	v1.Post("/kits/:id/disburse", starter.disburseKit)
	v1.Post("/kits/:id/handover", starter.handOverKit)
	v1.Get("/settings/kit-limit", starter.getLimit)
	v1.Put("/settings/kit-limit", starter.putLimit)
	// The documents of a case (casedocs.go): added to a part of the case
	// and optionally to one of its entries; each is read and changed as
	// its part is (tenants/casedocs authorizes and audits).
	documents := &caseDocuments{}
	if deps.Documents != nil {
		documents.docs = casedocs.New(deps.Store, deps.Documents, tenants.DocumentLimits{})
	}
	v1.Get("/cases/:id/documents", documents.list)
	v1.Post("/cases/:id/documents", documents.upload) // reads its body through DocumentUpload only (uploads.go)
	v1.Get("/documents/:id", documents.download)
	v1.Delete("/documents/:id", documents.remove)
	// Shelters and the admission of a case (shelters.go): the shelters
	// with their occupancy and waiting lists; a case's acceptances,
	// admission (or place on a waiting list), transfers and discharge.
	housing := &shelterAdmissions{shelters: shelters.New(deps.Store)}
	v1.Get("/shelters", housing.listShelters)
	v1.Post("/shelters", housing.createShelter)
	v1.Get("/shelters/:id", housing.getShelter)
	v1.Patch("/shelters/:id", housing.updateShelter)
	v1.Get("/shelters/:id/waiting-list", housing.waitingList)
	v1.Get("/cases/:id/admission", housing.getAdmission)
	v1.Post("/cases/:id/admission/acceptances", housing.recordAcceptance)
	v1.Post("/cases/:id/admission/admit", housing.admit)
	v1.Post("/cases/:id/admission/waiting/cancel", housing.cancelWaiting)
	v1.Post("/cases/:id/admission/transfer", housing.transfer)
	v1.Post("/cases/:id/admission/discharge", housing.discharge)
	// Reintegration and follow-up (followup.go): a case's reintegration,
	// its visits and their records, the end of its follow-up; the
	// organisation's overdue and due visits; the organisation's schedule.
	// The follow-up service authorizes each.
	follow := &followUps{svc: followup.New(deps.Store)}
	v1.Get("/cases/:id/reintegration", follow.getReintegration)
	v1.Post("/cases/:id/reintegration", follow.reintegrate)
	v1.Get("/cases/:id/visits", follow.listVisits)
	v1.Post("/cases/:id/followup/close", follow.close)
	v1.Get("/visits/:id", follow.getVisit)
	v1.Post("/visits/:id/done", follow.recordVisit(followup.OutcomeDone))
	v1.Post("/visits/:id/missed", follow.recordVisit(followup.OutcomeMissed))
	v1.Get("/followups/overdue", follow.dueList(false))
	v1.Get("/followups/due", follow.dueList(true))
	v1.Get("/settings/followup", follow.getSchedule)
	v1.Put("/settings/followup", follow.putSchedule)
	// Partnerships between organisations (partnerships.go): the list, a
	// proposal, one partnership, accept and decline (the other side),
	// suspend, resume and end (either side), the partner's anonymised
	// statistics; the organisations one may propose to. The handoff
	// service authorizes each and writes both sides' copies.
	partners := &partnershipRoutes{svc: handoffs.New(deps.Store)}
	v1.Get("/partnerships", partners.list)
	v1.Post("/partnerships", partners.propose)
	v1.Get("/partnerships/:id", partners.get)
	v1.Post("/partnerships/:id/accept", partners.decide(true))
	v1.Post("/partnerships/:id/decline", partners.decide(false))
	v1.Post("/partnerships/:id/suspend", partners.change(handoffs.PartnershipSuspended))
	v1.Post("/partnerships/:id/resume", partners.change(handoffs.PartnershipActive))
	v1.Post("/partnerships/:id/end", partners.change(handoffs.PartnershipEnded))
	v1.Get("/partnerships/:id/statistics.csv", partners.statistics)
	v1.Get("/organisations/partners", partners.partners)
	// Repatriation handoffs between two organisations (handoffs.go):
	// the inbox and outgoing list, starting one from a case or the short
	// intake, the fields a case may share, the dashboard, a handoff as this
	// side sees it, the override decision, accept and decline, withdrawal,
	// the stages, the shared thread and the reintegration feedback, and
	// the copies of the documents shared on it. The handoff service
	// authorizes each; /sharable and /dashboard come before /:id.
	handover := &handoffRequests{svc: handoffs.New(deps.Store)}
	if deps.Documents != nil {
		handover.svc = handover.svc.WithDocuments(deps.Documents, tenants.DocumentLimits{})
	}
	v1.Get("/handoffs", handover.listHandoffs)
	v1.Post("/handoffs", handover.startHandoff)
	v1.Get("/handoffs/sharable", handover.sharable)
	v1.Get("/handoffs/dashboard", handover.dashboard)
	v1.Get("/handoffs/:id", handover.getHandoff)
	v1.Post("/handoffs/:id/override", handover.decideOverride)
	v1.Post("/handoffs/:id/accept", handover.accept)
	v1.Post("/handoffs/:id/decline", handover.decline)
	v1.Post("/handoffs/:id/withdraw", handover.withdraw)
	v1.Post("/handoffs/:id/stages", handover.recordStage)
	v1.Get("/handoffs/:id/documents/:document", handover.document)
	v1.Get("/handoffs/:id/messages", handover.thread)
	v1.Post("/handoffs/:id/messages", handover.post)
	v1.Get("/handoffs/:id/feedback", handover.listFeedback)
	v1.Post("/handoffs/:id/feedback", handover.sendFeedback)
	if testRoutes != nil {
		testRoutes(v1)
	}
	v1.Use(notFound)

	app.Use(notFound)
}

// notFound answers every path no route claimed.
func notFound(*fiber.Ctx) error {
	return homeward.Errorf(homeward.ENOTFOUND, "no such resource")
}
