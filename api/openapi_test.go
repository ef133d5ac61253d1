package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/gofiber/fiber/v2"

	homeward "github.com/afesip/homeward"
)

// serverWithEveryRoute builds the server with every optional route enabled,
// so that the route check sees them all. A new optional route (one that
// depends on the mode or on a Deps field) must be enabled here too:
// otherwise its documented path has no route and the check fails.
func serverWithEveryRoute(t *testing.T) *fiber.App {
	t.Helper()
	app, _ := newTestServer(t, Deps{Config: demoConfig(), QueueMonitor: newQueueMonitor(t), DemoMailbox: stubMailbox,
		DemoIdentityProvider: stubIdentityProvider, Pages: stubPages{}}, nil)
	return app
}

// stubIdentityProvider stands for the demo identity provider (web/demoidp,
// whose own tests drive the real one through this server): it answers with
// the method and path it was given.
var stubIdentityProvider = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "%s %s", r.Method, r.URL.Path)
})

// stubPages stands for the web pages (web/pages, which imports this
// package; its own tests check the real pages through this server).
type stubPages struct{}

func (stubPages) page(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.SendString("<!DOCTYPE html><title>Page</title>")
}
func (stubPages) form(c *fiber.Ctx) error { return c.Redirect("/", fiber.StatusSeeOther) }

func (p stubPages) Home(c *fiber.Ctx) error                 { return p.page(c) }
func (p stubPages) Leave(c *fiber.Ctx) error                { return p.page(c) }
func (p stubPages) SetLanguage(c *fiber.Ctx) error          { return p.form(c) }
func (p stubPages) Members(c *fiber.Ctx) error              { return p.page(c) }
func (p stubPages) Member(c *fiber.Ctx) error               { return p.page(c) }
func (p stubPages) SetMemberRoles(c *fiber.Ctx) error       { return p.form(c) }
func (p stubPages) DisableMember(c *fiber.Ctx) error        { return p.form(c) }
func (p stubPages) EnableMember(c *fiber.Ctx) error         { return p.form(c) }
func (p stubPages) APITokens(c *fiber.Ctx) error            { return p.page(c) }
func (p stubPages) CreateAPIToken(c *fiber.Ctx) error       { return p.page(c) }
func (p stubPages) RevokeAPIToken(c *fiber.Ctx) error       { return p.form(c) }
func (p stubPages) IdentityProvider(c *fiber.Ctx) error     { return p.page(c) }
func (p stubPages) SaveIdentityProvider(c *fiber.Ctx) error { return p.form(c) }
func (p stubPages) Retention(c *fiber.Ctx) error            { return p.page(c) }
func (p stubPages) SaveRetention(c *fiber.Ctx) error        { return p.form(c) }
func (p stubPages) KitLimit(c *fiber.Ctx) error             { return p.page(c) }
func (p stubPages) SaveKitLimit(c *fiber.Ctx) error         { return p.form(c) }
func (p stubPages) FollowUpSchedule(c *fiber.Ctx) error     { return p.page(c) }
func (p stubPages) SaveFollowUpSchedule(c *fiber.Ctx) error { return p.form(c) }
func (p stubPages) AssignCase(c *fiber.Ctx) error           { return p.form(c) }
func (p stubPages) Cases(c *fiber.Ctx) error                { return p.page(c) }
func (p stubPages) NewCase(c *fiber.Ctx) error              { return p.page(c) }
func (p stubPages) CreateCase(c *fiber.Ctx) error           { return p.form(c) }
func (p stubPages) Erasures(c *fiber.Ctx) error             { return p.page(c) }
func (p stubPages) ApproveErasure(c *fiber.Ctx) error       { return p.form(c) }
func (p stubPages) CancelErasure(c *fiber.Ctx) error        { return p.form(c) }
func (p stubPages) Case(c *fiber.Ctx) error                 { return p.page(c) }
func (p stubPages) CaseAudit(c *fiber.Ctx) error            { return p.page(c) }
func (p stubPages) SaveCaseGroup(c *fiber.Ctx) error        { return p.form(c) }
func (p stubPages) ChangeCaseStage(c *fiber.Ctx) error      { return p.form(c) }
func (p stubPages) AddCaseComment(c *fiber.Ctx) error       { return p.form(c) }
func (p stubPages) RecordCaseConsent(c *fiber.Ctx) error    { return p.form(c) }
func (p stubPages) WithdrawCaseConsent(c *fiber.Ctx) error  { return p.form(c) }
func (p stubPages) RequestCaseErasure(c *fiber.Ctx) error   { return p.form(c) }
func (p stubPages) CaseDocuments(c *fiber.Ctx) error        { return p.page(c) }
func (p stubPages) AddCaseDocument(c *fiber.Ctx) error      { return p.form(c) }
func (p stubPages) Shelters(c *fiber.Ctx) error             { return p.page(c) }
func (p stubPages) CreateShelter(c *fiber.Ctx) error        { return p.form(c) }
func (p stubPages) UpdateShelter(c *fiber.Ctx) error        { return p.form(c) }
func (p stubPages) Admission(c *fiber.Ctx) error            { return p.page(c) }
func (p stubPages) RecordAcceptance(c *fiber.Ctx) error     { return p.form(c) }
func (p stubPages) AdmitCase(c *fiber.Ctx) error            { return p.form(c) }
func (p stubPages) CancelWaiting(c *fiber.Ctx) error        { return p.form(c) }
func (p stubPages) TransferCase(c *fiber.Ctx) error         { return p.form(c) }
func (p stubPages) DischargeCase(c *fiber.Ctx) error        { return p.form(c) }
func (p stubPages) Kits(c *fiber.Ctx) error                 { return p.page(c) }
func (p stubPages) RequestKit(c *fiber.Ctx) error           { return p.form(c) }
func (p stubPages) ApproveKit(c *fiber.Ctx) error           { return p.form(c) }
func (p stubPages) RejectKit(c *fiber.Ctx) error            { return p.form(c) }
func (p stubPages) DisburseKit(c *fiber.Ctx) error          { return p.form(c) }
func (p stubPages) HandOverKit(c *fiber.Ctx) error          { return p.form(c) }
func (p stubPages) Psychological(c *fiber.Ctx) error        { return p.page(c) }
func (p stubPages) SavePsychological(c *fiber.Ctx) error    { return p.form(c) }
func (p stubPages) Medical(c *fiber.Ctx) error              { return p.page(c) }
func (p stubPages) SaveMedical(c *fiber.Ctx) error          { return p.form(c) }
func (p stubPages) Legal(c *fiber.Ctx) error                { return p.page(c) }
func (p stubPages) SaveLegal(c *fiber.Ctx) error            { return p.form(c) }
func (p stubPages) Support(c *fiber.Ctx) error              { return p.page(c) }
func (p stubPages) SaveSupport(c *fiber.Ctx) error          { return p.form(c) }
func (p stubPages) Asset(c *fiber.Ctx) error                { return p.page(c) }

func (p stubPages) FollowUp(c *fiber.Ctx) error      { return p.page(c) }
func (p stubPages) Reintegrate(c *fiber.Ctx) error   { return p.form(c) }
func (p stubPages) CloseFollowUp(c *fiber.Ctx) error { return p.form(c) }
func (p stubPages) FollowUps(c *fiber.Ctx) error     { return p.page(c) }
func (p stubPages) RecordVisit(c *fiber.Ctx) error   { return p.form(c) }

func (p stubPages) Partnerships(c *fiber.Ctx) error       { return p.page(c) }
func (p stubPages) ProposePartnership(c *fiber.Ctx) error { return p.form(c) }
func (p stubPages) AcceptPartnership(c *fiber.Ctx) error  { return p.form(c) }
func (p stubPages) DeclinePartnership(c *fiber.Ctx) error { return p.form(c) }
func (p stubPages) SuspendPartnership(c *fiber.Ctx) error { return p.form(c) }
func (p stubPages) ResumePartnership(c *fiber.Ctx) error  { return p.form(c) }
func (p stubPages) EndPartnership(c *fiber.Ctx) error     { return p.form(c) }

func (p stubPages) Me(c *fiber.Ctx) error          { return p.page(c) }
func (p stubPages) SaveContact(c *fiber.Ctx) error { return p.form(c) }

func (p stubPages) Handoffs(c *fiber.Ctx) error              { return p.page(c) }
func (p stubPages) StartHandoff(c *fiber.Ctx) error          { return p.form(c) }
func (p stubPages) NewHandoff(c *fiber.Ctx) error            { return p.page(c) }
func (p stubPages) HandoffDashboard(c *fiber.Ctx) error      { return p.page(c) }
func (p stubPages) Handoff(c *fiber.Ctx) error               { return p.page(c) }
func (p stubPages) DecideHandoffOverride(c *fiber.Ctx) error { return p.form(c) }
func (p stubPages) AcceptHandoff(c *fiber.Ctx) error         { return p.form(c) }
func (p stubPages) DeclineHandoff(c *fiber.Ctx) error        { return p.form(c) }
func (p stubPages) WithdrawHandoff(c *fiber.Ctx) error       { return p.form(c) }
func (p stubPages) RecordHandoffStage(c *fiber.Ctx) error    { return p.form(c) }
func (p stubPages) PostHandoffMessage(c *fiber.Ctx) error    { return p.form(c) }
func (p stubPages) SendHandoffFeedback(c *fiber.Ctx) error   { return p.form(c) }
func (p stubPages) HandoffDocument(c *fiber.Ctx) error       { return p.page(c) }

// SignInChooser draws the plain chooser, as without pages.
func (stubPages) SignInChooser(c *fiber.Ctx, ch Chooser) error { return renderChooser(c, nil, ch) }

// ErrorPage draws the error as a page that names its status and code.
func (stubPages) ErrorPage(c *fiber.Ctx, e PageError) error {
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Status(e.Status).SendString(fmt.Sprintf("<!DOCTYPE html><title>Error</title><p>%d %s %s", e.Status, e.Code, e.RequestID))
}

// stubMailbox stands for the demo mailbox page (web/mailbox, which imports
// this package; its own tests check the real page).
func stubMailbox(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.SendString("<!DOCTYPE html><title>Demo mailbox</title>")
}

// loadOpenAPI parses and resolves an OpenAPI document (YAML or JSON).
func loadOpenAPI(document []byte) (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	return loader.LoadFromData(document)
}

func mustLoadOpenAPI(t *testing.T, document []byte) *openapi3.T {
	t.Helper()
	doc, err := loadOpenAPI(document)
	if err != nil {
		t.Fatalf("api/openapi.yaml does not load: %v", err)
	}
	return doc
}

// fiberParam matches a fiber path parameter (:id, :id?, :id<int>) or a
// wildcard (* or +).
var fiberParam = regexp.MustCompile(`:([A-Za-z0-9_]+)(<[^>]*>)?\??|[*+]`)

// wildcardParam is the documented name of a wildcard path parameter (the
// document's components.parameters.WildcardPath); a second wildcard in one
// route is {path2}, and so on.
const wildcardParam = "path"

// documentedPath turns a fiber route path into the document's form:
// /cases/:id -> /cases/{id}, /ops/queues/* -> /ops/queues/{path}.
func documentedPath(fiberPath string) string {
	wildcards := 0
	return fiberParam.ReplaceAllStringFunc(fiberPath, func(p string) string {
		if p == "*" || p == "+" {
			wildcards++
			if wildcards == 1 {
				return "{" + wildcardParam + "}"
			}
			return "{" + wildcardParam + strconv.Itoa(wildcards) + "}"
		}
		return "{" + fiberParam.FindStringSubmatch(p)[1] + "}"
	})
}

// checkOpenAPI is the route check: it compares the fiber routes (from
// app.GetRoutes(true), so without middleware) with the OpenAPI document,
// both ways, and returns every problem found, none when they agree:
//
//   - the document does not load, is not OpenAPI 3.1, or is not valid;
//   - a route (method and path) that the document does not describe;
//   - a documented operation that no route serves;
//   - an operation without an operationId, a summary or a description;
//   - a list operation that breaks the list conventions (LimitParam,
//     CursorParam, a ListOf<Thing> schema built on ListPage);
//   - a 201 response whose body has no required top-level id;
//   - a JSON error response (4xx, 5xx) whose body is not the Error schema.
//
// HEAD routes that fiber adds beside each GET are not compared; a HEAD route
// without a GET is.
func checkOpenAPI(routes []fiber.Route, document []byte) []string {
	doc, err := loadOpenAPI(document)
	if err != nil {
		return []string{"the document does not load: " + err.Error()}
	}
	var problems []string
	report := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if !strings.HasPrefix(doc.OpenAPI, "3.1.") {
		report("the document is OpenAPI %q, want 3.1.x", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		report("the document is not valid OpenAPI: %v", err)
	}

	// The routes, in the document's form.
	gets := map[string]bool{}
	for _, r := range routes {
		if r.Method == fiber.MethodGet {
			gets[r.Path] = true
		}
	}
	served := map[string]bool{}
	for _, r := range routes {
		if r.Method == fiber.MethodHead && gets[r.Path] {
			continue
		}
		for _, name := range r.Params {
			if name == wildcardParam || strings.HasPrefix(name, wildcardParam) && isDigits(name[len(wildcardParam):]) {
				report("%s %s: the parameter name %q is kept for wildcards (*); choose another", r.Method, r.Path, name)
			}
		}
		served[r.Method+" "+documentedPath(r.Path)] = true
	}

	// The documented operations, with the rules each must follow.
	documented := map[string]bool{}
	operationIDs := map[string]string{}
	if doc.Paths != nil {
		for path, item := range doc.Paths.Map() {
			for method, op := range item.Operations() {
				key := method + " " + path
				documented[key] = true
				if strings.TrimSpace(op.OperationID) == "" {
					report("%s: the operation has no operationId", key)
				} else if other, dup := operationIDs[op.OperationID]; dup {
					report("%s: operationId %q is also used by %s", key, op.OperationID, other)
				} else {
					operationIDs[op.OperationID] = key
				}
				if strings.TrimSpace(op.Summary) == "" {
					report("%s (%s): the operation has no summary", key, op.OperationID)
				}
				if strings.TrimSpace(op.Description) == "" {
					report("%s (%s): the operation has no description", key, op.OperationID)
				}
				for _, p := range checkOperationConventions(op) {
					report("%s (%s): %s", key, op.OperationID, p)
				}
			}
		}
	}
	if doc.Components != nil {
		for name, s := range doc.Components.Schemas {
			if strings.HasPrefix(name, listOfPrefix) && !buildsOn(s, listPageRef) {
				report("components.schemas.%s: a ListOf schema must be allOf [%s, ...]", name, listPageRef)
			}
		}
	}

	for key := range served {
		if !documented[key] {
			report("%s is a route in api/routes.go but not in api/openapi.yaml: document it", key)
		}
	}
	for key := range documented {
		if !served[key] {
			report("%s is in api/openapi.yaml but no route serves it (an optional route? enable it in serverWithEveryRoute)", key)
		}
	}
	sort.Strings(problems)
	return problems
}

const (
	listOfPrefix   = "ListOf"
	listPageRef    = "#/components/schemas/ListPage"
	errorRef       = "#/components/schemas/Error"
	limitParamRef  = "#/components/parameters/LimitParam"
	cursorParamRef = "#/components/parameters/CursorParam"
	// notErrorExtension on an error response states why its JSON body is
	// not the Error schema (only /readyz's 503 so far).
	notErrorExtension = "x-homeward-not-error"
)

// checkOperationConventions checks one operation against the conventions
// that info.description states for every endpoint.
func checkOperationConventions(op *openapi3.Operation) []string {
	var problems []string
	usesLimit, usesCursor := false, false
	for _, p := range op.Parameters {
		switch {
		case p.Ref == limitParamRef:
			usesLimit = true
		case p.Ref == cursorParamRef:
			usesCursor = true
		case p.Value != nil && p.Value.In == openapi3.ParameterInQuery && (p.Value.Name == "limit" || p.Value.Name == "cursor"):
			usesLimit = usesLimit || p.Value.Name == "limit"
			usesCursor = usesCursor || p.Value.Name == "cursor"
			problems = append(problems, fmt.Sprintf("query parameter %q must be $ref %s", p.Value.Name,
				map[string]string{"limit": limitParamRef, "cursor": cursorParamRef}[p.Value.Name]))
		}
	}
	list := false
	if ok := jsonSchemaOf(op.Responses.Status(http.StatusOK)); ok != nil {
		list = strings.HasPrefix(ok.Ref, "#/components/schemas/"+listOfPrefix)
		if !list && buildsOn(ok, listPageRef) {
			problems = append(problems, "a list's 200 body must be $ref a schema named "+listOfPrefix+"<Thing>")
		}
	}
	if list && (!usesLimit || !usesCursor) {
		problems = append(problems, "a list operation must take both "+limitParamRef+" and "+cursorParamRef)
	}
	if !list && (usesLimit || usesCursor) {
		problems = append(problems, "an operation taking limit or cursor must answer 200 with a "+listOfPrefix+"<Thing> schema")
	}

	if created := op.Responses.Status(http.StatusCreated); created != nil && !requiresID(jsonSchemaOf(created)) {
		problems = append(problems, "a 201 response must be the created resource as JSON, with a required top-level id")
	}

	for status, r := range op.Responses.Map() {
		if !strings.HasPrefix(status, "4") && !strings.HasPrefix(status, "5") {
			continue
		}
		if r.Value != nil && r.Value.Extensions[notErrorExtension] != nil {
			continue // an exception, with its reason in the document
		}
		if s := jsonSchemaOf(r); s != nil && !buildsOn(s, errorRef) {
			problems = append(problems, fmt.Sprintf("the %s response's JSON body must be the Error schema (%s), or allOf it "+
				"(or the response must give its reason in %s)", status, errorRef, notErrorExtension))
		}
	}
	return problems
}

// jsonSchemaOf is the application/json schema of a response, or nil.
func jsonSchemaOf(r *openapi3.ResponseRef) *openapi3.SchemaRef {
	if r == nil || r.Value == nil {
		return nil
	}
	if mt := r.Value.Content[fiber.MIMEApplicationJSON]; mt != nil {
		return mt.Schema
	}
	return nil
}

// buildsOn reports whether s is ref or is built on it through allOf.
func buildsOn(s *openapi3.SchemaRef, ref string) bool {
	if s == nil {
		return false
	}
	if s.Ref == ref {
		return true
	}
	if s.Value == nil {
		return false
	}
	return slices.ContainsFunc(s.Value.AllOf, func(sub *openapi3.SchemaRef) bool { return buildsOn(sub, ref) })
}

// requiresID reports whether s, or one of its allOf parts, has a required
// property id.
func requiresID(s *openapi3.SchemaRef) bool {
	if s == nil || s.Value == nil {
		return false
	}
	if slices.Contains(s.Value.Required, "id") && s.Value.Properties["id"] != nil {
		return true
	}
	return slices.ContainsFunc(s.Value.AllOf, requiresID)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func TestOpenAPIDocumentMatchesRoutes(t *testing.T) {
	app := serverWithEveryRoute(t)
	for _, p := range checkOpenAPI(app.GetRoutes(true), openAPIDocument) {
		t.Error(p)
	}
}

// TestCheckOpenAPIFindsEachKindOfProblem proves the route check can fail:
// each case changes the routes (on a throwaway app) or a copy of the
// document in one way, and the check must report exactly that problem.
func TestCheckOpenAPIFindsEachKindOfProblem(t *testing.T) {
	realRoutes := serverWithEveryRoute(t).GetRoutes(true)

	// Control: the real routes and document agree; so does the document
	// after the round trip through kin-openapi that the edits below take.
	if p := checkOpenAPI(realRoutes, openAPIDocument); len(p) != 0 {
		t.Fatalf("control: the real routes and document disagree:\n%s", strings.Join(p, "\n"))
	}
	edited := func(edit func(doc *openapi3.T)) []byte {
		doc := mustLoadOpenAPI(t, openAPIDocument)
		edit(doc)
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if p := checkOpenAPI(realRoutes, edited(func(*openapi3.T) {})); len(p) != 0 {
		t.Fatalf("control: the unedited round trip disagrees:\n%s", strings.Join(p, "\n"))
	}

	ok := func(c *fiber.Ctx) error { return c.SendStatus(fiber.StatusNoContent) }
	response := func(description string, schema *openapi3.Schema) *openapi3.ResponseRef {
		r := openapi3.NewResponse().WithDescription(description)
		if schema != nil {
			r = r.WithJSONSchema(schema)
		}
		return &openapi3.ResponseRef{Value: r}
	}
	operation := func(id string, status int, r *openapi3.ResponseRef, params ...*openapi3.ParameterRef) *openapi3.Operation {
		return &openapi3.Operation{
			OperationID: id, Summary: id, Description: id + " does something.",
			Parameters: params,
			Responses:  openapi3.NewResponses(openapi3.WithStatus(status, r)),
		}
	}
	ref := func(to string) *openapi3.SchemaRef { return &openapi3.SchemaRef{Ref: to} }
	limit := &openapi3.ParameterRef{Ref: limitParamRef}
	cursor := &openapi3.ParameterRef{Ref: cursorParamRef}
	listOfThing := func(doc *openapi3.T) {
		doc.Components.Schemas["Thing"] = openapi3.NewSchemaRef("", openapi3.NewObjectSchema())
		doc.Components.Schemas["ListOfThing"] = openapi3.NewSchemaRef("", openapi3.NewAllOfSchema(
			openapi3.NewSchema(), // replaced below by a $ref
			&openapi3.Schema{Properties: openapi3.Schemas{"items": openapi3.NewSchemaRef("", &openapi3.Schema{Items: ref("#/components/schemas/Thing")})}},
		))
		doc.Components.Schemas["ListOfThing"].Value.AllOf[0] = ref(listPageRef)
	}
	listResponse := &openapi3.ResponseRef{Value: openapi3.NewResponse().WithDescription("A page.").
		WithContent(openapi3.NewContentWithJSONSchemaRef(ref("#/components/schemas/ListOfThing")))}

	for _, tc := range []struct {
		name   string
		routes func(app *fiber.App)
		edit   func(doc *openapi3.T)
		want   string
	}{
		{name: "route not documented",
			routes: func(app *fiber.App) { app.Get("/api/v1/villages/:id", ok) },
			want:   "GET /api/v1/villages/{id} is a route in api/routes.go but not in api/openapi.yaml"},
		{name: "route with a constrained, optional parameter not documented",
			routes: func(app *fiber.App) { app.Delete("/api/v1/cases/:id<guid>?", ok) },
			want:   "DELETE /api/v1/cases/{id} is a route"},
		{name: "another method on a documented path",
			routes: func(app *fiber.App) { app.Post("/healthz", ok) },
			want:   "POST /healthz is a route"},
		{name: "wildcard route not documented",
			routes: func(app *fiber.App) { app.Get("/files/*", ok) },
			want:   "GET /files/{path} is a route"},
		{name: "a HEAD route without a GET",
			routes: func(app *fiber.App) { app.Head("/api/v1/ping", ok) },
			want:   "HEAD /api/v1/ping is a route"},
		{name: "a parameter named like the wildcard",
			routes: func(app *fiber.App) { app.Get("/ops/queues/:path", ok) },
			want:   `the parameter name "path" is kept for wildcards`},
		{name: "documented path without a route",
			edit: func(doc *openapi3.T) {
				doc.AddOperation("/api/v1/ghost", http.MethodGet, operation("getGhost", 200, response("OK.", nil)))
			},
			want: "GET /api/v1/ghost is in api/openapi.yaml but no route serves it"},
		{name: "documented method without a route",
			edit: func(doc *openapi3.T) {
				doc.AddOperation("/healthz", http.MethodDelete, operation("deleteHealthz", 200, response("OK.", nil)))
			},
			want: "DELETE /healthz is in api/openapi.yaml but no route serves it"},
		{name: "operation without a description",
			edit: func(doc *openapi3.T) { doc.Paths.Value("/readyz").Get.Description = "" },
			want: "GET /readyz (getReadyz): the operation has no description"},
		{name: "operation without a summary",
			edit: func(doc *openapi3.T) { doc.Paths.Value("/metrics").Get.Summary = " " },
			want: "GET /metrics (getMetrics): the operation has no summary"},
		{name: "operation without an operationId",
			edit: func(doc *openapi3.T) { doc.Paths.Value("/healthz").Get.OperationID = "" },
			want: "GET /healthz: the operation has no operationId"},
		{name: "a list without CursorParam",
			routes: func(app *fiber.App) { app.Get("/api/v1/things", ok) },
			edit: func(doc *openapi3.T) {
				listOfThing(doc)
				doc.AddOperation("/api/v1/things", http.MethodGet, operation("listThings", 200, listResponse, limit))
			},
			want: "GET /api/v1/things (listThings): a list operation must take both"},
		{name: "limit as an inline parameter",
			routes: func(app *fiber.App) { app.Get("/api/v1/things", ok) },
			edit: func(doc *openapi3.T) {
				listOfThing(doc)
				doc.AddOperation("/api/v1/things", http.MethodGet, operation("listThings", 200, listResponse, cursor,
					&openapi3.ParameterRef{Value: openapi3.NewQueryParameter("limit").WithSchema(openapi3.NewIntegerSchema())}))
			},
			want: `query parameter "limit" must be $ref`},
		{name: "a ListOf schema not built on ListPage",
			routes: func(app *fiber.App) { app.Get("/api/v1/things", ok) },
			edit: func(doc *openapi3.T) {
				listOfThing(doc)
				doc.Components.Schemas["ListOfThing"].Value.AllOf[0] = openapi3.NewSchemaRef("", openapi3.NewObjectSchema())
				doc.AddOperation("/api/v1/things", http.MethodGet, operation("listThings", 200, listResponse, limit, cursor))
			},
			want: "components.schemas.ListOfThing: a ListOf schema must be allOf"},
		{name: "a create answering without an id",
			routes: func(app *fiber.App) { app.Post("/api/v1/things", ok) },
			edit: func(doc *openapi3.T) {
				doc.AddOperation("/api/v1/things", http.MethodPost, operation("createThing", 201,
					response("Created.", openapi3.NewObjectSchema().WithProperty("name", openapi3.NewStringSchema()))))
			},
			want: "POST /api/v1/things (createThing): a 201 response must be the created resource"},
		{name: "an error response that is not the Error schema",
			routes: func(app *fiber.App) { app.Delete("/api/v1/things/:id", ok) },
			edit: func(doc *openapi3.T) {
				doc.AddOperation("/api/v1/things/{id}", http.MethodDelete, &openapi3.Operation{
					OperationID: "deleteThing", Summary: "Delete a thing", Description: "Deletes it.",
					Parameters: openapi3.Parameters{{Value: openapi3.NewPathParameter("id").WithSchema(openapi3.NewUUIDSchema())}},
					Responses: openapi3.NewResponses(
						openapi3.WithStatus(204, response("Deleted.", nil)),
						openapi3.WithStatus(404, response("Not there.", openapi3.NewObjectSchema().WithProperty("message", openapi3.NewStringSchema())))),
				})
			},
			want: "DELETE /api/v1/things/{id} (deleteThing): the 404 response's JSON body must be the Error schema"},
		{name: "a document that is not valid OpenAPI",
			edit: func(doc *openapi3.T) { doc.Paths.Value("/healthz").Get.Responses.Value("200").Value.Description = nil },
			want: "the document is not valid OpenAPI"},
		{name: "a document of another version",
			edit: func(doc *openapi3.T) { doc.OpenAPI = "3.2.0" },
			want: `the document is OpenAPI "3.2.0", want 3.1.x`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			routes := realRoutes
			if tc.routes != nil {
				app := serverWithEveryRoute(t) // a throwaway app, never served
				tc.routes(app)
				routes = app.GetRoutes(true)
			}
			document := openAPIDocument
			if tc.edit != nil {
				document = edited(tc.edit)
			}
			problems := checkOpenAPI(routes, document)
			if len(problems) != 1 || !strings.Contains(problems[0], tc.want) {
				t.Errorf("problems:\n%s\nwant exactly one, containing %q", strings.Join(problems, "\n"), tc.want)
			}
		})
	}
}

func TestDocumentedPath(t *testing.T) {
	for in, want := range map[string]string{
		"/healthz":                      "/healthz",
		"/api/v1/cases/:id":             "/api/v1/cases/{id}",
		"/api/v1/cases/:case_id/notes":  "/api/v1/cases/{case_id}/notes",
		"/api/v1/cases/:id?":            "/api/v1/cases/{id}",
		"/api/v1/cases/:id<guid>":       "/api/v1/cases/{id}",
		"/ops/queues/*":                 "/ops/queues/{path}",
		"/files/+":                      "/files/{path}",
		"/a/*/b/*":                      "/a/{path}/b/{path2}",
		"/api/v1/handoffs/:from-:to":    "/api/v1/handoffs/{from}-{to}",
		"/api/v1/reports/:year.:format": "/api/v1/reports/{year}.{format}",
	} {
		if got := documentedPath(in); got != want {
			t.Errorf("documentedPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOpenAPIDocumentIsServed(t *testing.T) {
	app := serverWithEveryRoute(t)
	r := get(t, app, "/api/v1/openapi.yaml")
	if r.status != 200 || r.body != string(openAPIDocument) {
		t.Fatalf("GET /api/v1/openapi.yaml = %d, %d bytes; want 200 and the embedded document", r.status, len(r.body))
	}
	if ct := r.header.Get("Content-Type"); ct != "application/yaml" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := r.header.Get("Cache-Control"); !strings.Contains(cc, "max-age=") || strings.Contains(cc, "no-store") {
		t.Errorf("Cache-Control = %q, want cacheable", cc)
	}
	etag := r.header.Get("ETag")
	if etag != openAPIETag {
		t.Errorf("ETag = %q, want %q", etag, openAPIETag)
	}
	// The other security headers stay.
	if r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("Content-Security-Policy") == "" {
		t.Errorf("security headers missing: %v", r.header)
	}

	for _, match := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
		if r := get(t, app, "/api/v1/openapi.yaml", "If-None-Match", match); r.status != 304 || r.body != "" {
			t.Errorf("If-None-Match %s: %d %.40q, want 304 and no body", match, r.status, r.body)
		}
	}
	// Control: a stale ETag, or only If-Modified-Since, gets the document.
	for _, h := range [][]string{{"If-None-Match", `"stale"`}, {"If-Modified-Since", "Mon, 01 Jan 2124 00:00:00 GMT"}} {
		if r := get(t, app, "/api/v1/openapi.yaml", h...); r.status != 200 || r.body != string(openAPIDocument) {
			t.Errorf("%s: %s: got %d, want 200 and the document", h[0], h[1], r.status)
		}
	}
}

// validateResponse checks a response against the document's description of
// the operation at (method, template), which must document its status.
func validateResponse(t *testing.T, doc *openapi3.T, req *http.Request, template string, params map[string]string, r response) error {
	t.Helper()
	item := doc.Paths.Value(template)
	if item == nil || item.GetOperation(req.Method) == nil {
		t.Fatalf("%s %s is not documented", req.Method, template)
	}
	return validateAgainst(doc, req, &routers.Route{
		Spec: doc, Path: template, PathItem: item, Method: req.Method, Operation: item.GetOperation(req.Method),
	}, params, r)
}

// validateAgainstComponent checks a response against one of the document's
// reusable responses, as the answer of an operation documenting only it.
func validateAgainstComponent(doc *openapi3.T, req *http.Request, component string, r response) error {
	ref := doc.Components.Responses[component]
	if ref == nil {
		return fmt.Errorf("components.responses.%s is missing", component)
	}
	op := &openapi3.Operation{Responses: openapi3.NewResponses(openapi3.WithStatus(r.status, ref))}
	return validateAgainst(doc, req, &routers.Route{
		Spec: doc, Path: req.URL.Path, PathItem: &openapi3.PathItem{}, Method: req.Method, Operation: op,
	}, nil, r)
}

func validateAgainst(doc *openapi3.T, req *http.Request, route *routers.Route, params map[string]string, r response) error {
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 r.status,
		Header:                 r.header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	input.SetBodyBytes([]byte(r.body))
	return openapi3filter.ValidateResponse(context.Background(), input)
}

// TestResponsesMatchTheDocument calls each operation that needs no outside
// service and validates the answer (status, headers, body) against the
// document.
func TestResponsesMatchTheDocument(t *testing.T) {
	doc := mustLoadOpenAPI(t, openAPIDocument)
	down := pinger{err: fmt.Errorf("connection refused")}
	monitor := newQueueMonitor(t)

	for _, tc := range []struct {
		name     string
		deps     Deps
		target   string
		template string
		params   map[string]string
		header   []string
		status   int
	}{
		{name: "healthz", target: "/healthz", template: "/healthz", status: 200},
		{name: "readyz ok", deps: Deps{Redis: pinger{}}, target: "/readyz", template: "/readyz", status: 200},
		{name: "readyz without redis", target: "/readyz", template: "/readyz", status: 200},
		{name: "readyz degraded", deps: Deps{Redis: down}, target: "/readyz", template: "/readyz", status: 200},
		{name: "readyz unavailable", deps: Deps{Database: down, Redis: pinger{}}, target: "/readyz", template: "/readyz", status: 503},
		{name: "readyz all down", deps: Deps{Database: down, Redis: down}, target: "/readyz", template: "/readyz", status: 503},
		{name: "metrics", target: "/metrics", template: "/metrics", status: 200},
		{name: "openapi document", target: "/api/v1/openapi.yaml", template: "/api/v1/openapi.yaml", status: 200},
		{name: "openapi document not modified", target: "/api/v1/openapi.yaml", template: "/api/v1/openapi.yaml",
			header: []string{"If-None-Match", openAPIETag}, status: 304},
		{name: "queue monitor page", deps: Deps{QueueMonitor: monitor}, target: "/ops/queues",
			template: "/ops/queues", status: 200},
		{name: "queue monitor asset", deps: Deps{QueueMonitor: monitor}, target: "/ops/queues/manifest.json",
			template: "/ops/queues/{path}", params: map[string]string{"path": "manifest.json"}, status: 200},
		{name: "queue monitor script", deps: Deps{QueueMonitor: monitor}, target: "/ops/queues/static/js/runtime-main.9fea6c1a.js",
			template: "/ops/queues/{path}", params: map[string]string{"path": "static/js/runtime-main.9fea6c1a.js"}, status: 200},
		{name: "queue monitor data without redis", deps: Deps{QueueMonitor: monitor}, target: "/ops/queues/api/queues",
			template: "/ops/queues/{path}", params: map[string]string{"path": "api/queues"}, status: 500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app, _ := newTestServer(t, tc.deps, nil)
			r := get(t, app, tc.target, tc.header...)
			if r.status != tc.status {
				t.Fatalf("GET %s = %d, want %d: %.200s", tc.target, r.status, tc.status, r.body)
			}
			req := httptest.NewRequest(http.MethodGet, tc.target, nil)
			if err := validateResponse(t, doc, req, tc.template, tc.params, r); err != nil {
				t.Errorf("GET %s: the response does not match the document: %v\nbody: %.300s", tc.target, err, r.body)
			}
		})
	}

	t.Run("rate limited", func(t *testing.T) {
		app, _ := newTestServer(t, Deps{RateLimit: 1}, nil)
		get(t, app, "/api/v1/openapi.yaml")
		r := get(t, app, "/api/v1/openapi.yaml")
		if r.status != 429 {
			t.Fatalf("second request: %d, want 429", r.status)
		}
		req := httptest.NewRequest(http.MethodGet, "/api/v1/openapi.yaml", nil)
		if err := validateResponse(t, doc, req, "/api/v1/openapi.yaml", nil, r); err != nil {
			t.Errorf("429 does not match the document: %v\n%s %v", err, r.body, r.header)
		}
	})

	// Control: the validation can fail. A body of the wrong shape, and a
	// status the operation does not document, are both refused.
	t.Run("control", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodGet, "/healthz", nil)
		json := http.Header{"Content-Type": {"application/json"}}
		if err := validateResponse(t, doc, req, "/healthz", nil, response{200, json, `{"status":"fine"}`}); err == nil {
			t.Error("a healthz body of the wrong shape passed")
		}
		if err := validateResponse(t, doc, req, "/healthz", nil, response{418, json, `{}`}); err == nil {
			t.Error("an undocumented status passed")
		}
		if err := validateAgainstComponent(doc, req, "NotFound",
			response{404, http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"abc"}},
				`{"error":{"code":"conflict","message":"no such resource"}}`}); err == nil {
			t.Error("a not_found response with the code conflict passed")
		}
	})
}

// TestErrorResponsesMatchTheDocument raises each error code through the real
// error handler and validates the answer against the document's reusable
// response for it, and checks that the document's code enum is errors.go's.
func TestErrorResponsesMatchTheDocument(t *testing.T) {
	doc := mustLoadOpenAPI(t, openAPIDocument)

	var enum []string
	for _, v := range doc.Components.Schemas["ErrorCode"].Value.Enum {
		enum = append(enum, fmt.Sprint(v))
	}
	var codes []string
	for code := range statusOf {
		codes = append(codes, code)
	}
	sort.Strings(enum)
	sort.Strings(codes)
	if !slices.Equal(enum, codes) {
		t.Errorf("components.schemas.ErrorCode enum = %v, want the codes of errors.go %v", enum, codes)
	}

	app, _ := newTestServer(t, Deps{}, func(v1 fiber.Router) {
		v1.Get("/err/:code", func(c *fiber.Ctx) error {
			if c.Params("code") == homeward.EINVALID {
				return homeward.Invalid(map[string]string{"name": "required"})
			}
			return homeward.Errorf(c.Params("code"), "message for %s", c.Params("code"))
		})
		v1.Post("/echo", func(c *fiber.Ctx) error {
			var v struct{ Name string }
			return decodeJSON(c, &v)
		})
		v1.Get("/panic", func(*fiber.Ctx) error { panic("secret detail") })
		v1.Get("/headers", func(*fiber.Ctx) error { return fiber.ErrRequestHeaderFieldsTooLarge })
	})
	type errorCase struct {
		component string
		method    string
		target    string
		body      string
		status    int
	}
	cases := []errorCase{
		{"BadRequest", http.MethodPost, "/api/v1/echo", `{"name":`, 400},
		{"Invalid", http.MethodGet, "/api/v1/err/invalid", "", 422},
		{"Unauthenticated", http.MethodGet, "/api/v1/err/unauthenticated", "", 401},
		{"Forbidden", http.MethodGet, "/api/v1/err/forbidden", "", 403},
		{"NotFound", http.MethodGet, "/api/v1/err/not_found", "", 404},
		{"NotFound", http.MethodGet, "/api/v1/no/such/path", "", 404},
		{"NotFound", http.MethodGet, "/no/such/page", "", 404},
		{"Conflict", http.MethodGet, "/api/v1/err/conflict", "", 409},
		{"TooLarge", http.MethodGet, "/api/v1/err/too_large", "", 413},
		{"TooLarge", http.MethodGet, "/api/v1/headers", "", 431},
		{"RateLimited", http.MethodGet, "/api/v1/err/rate_limited", "", 429},
		{"Unavailable", http.MethodGet, "/api/v1/err/unavailable", "", 503},
		{"Internal", http.MethodGet, "/api/v1/err/internal", "", 500},
		{"Internal", http.MethodGet, "/api/v1/panic", "", 500},
	}
	for _, tc := range cases {
		t.Run(tc.component+" "+tc.target, func(t *testing.T) {
			r := do(t, app, tc.method, tc.target, strings.NewReader(tc.body), "Content-Type", "application/json")
			if r.status != tc.status {
				t.Fatalf("%s %s = %d, want %d: %s", tc.method, tc.target, r.status, tc.status, r.body)
			}
			if tc.component == "RateLimited" {
				// Raised by a handler here, not by the limiter: no
				// Retry-After (TestResponsesMatchTheDocument checks the
				// limiter's own answer).
				r.header.Set("Retry-After", "60")
			}
			req := httptest.NewRequest(tc.method, tc.target, nil)
			if err := validateAgainstComponent(doc, req, tc.component, r); err != nil {
				t.Errorf("%s %s does not match components.responses.%s: %v\nbody: %s", tc.method, tc.target, tc.component, err, r.body)
			}
		})
	}

	// A body over the limit is refused while it is read, before routing
	// (see TestBodyLimit for why this takes a raw connection).
	t.Run("TooLarge body", func(t *testing.T) {
		conn, err := net.Dial("tcp", strings.TrimPrefix(listen(t, app), "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /api/v1/echo HTTP/1.1\r\nHost: homeward.test\r\n"+
			"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n", BodyLimit+1)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		r := response{status: resp.StatusCode, header: resp.Header, body: string(b)}
		if r.status != 413 {
			t.Fatalf("status %d, want 413: %s", r.status, r.body)
		}
		req := httptest.NewRequest(http.MethodPost, "/api/v1/echo", nil)
		if err := validateAgainstComponent(doc, req, "TooLarge", r); err != nil {
			t.Errorf("does not match components.responses.TooLarge: %v\nbody: %s", err, r.body)
		}
	})

	// Every reusable response is exercised above.
	for name := range doc.Components.Responses {
		if !slices.ContainsFunc(cases, func(c errorCase) bool { return c.component == name }) {
			t.Errorf("components.responses.%s is not checked against a real response here", name)
		}
	}
}
