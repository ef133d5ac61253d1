package api

import (
	"context"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
)

// operatorSessionDiffers are the routes where a platform operator's browser
// session is, by design, not answered like the platform token of the
// matrix's platform_operator column: those that act on the session itself.
var operatorSessionDiffers = map[string]int{
	"POST /auth/switch": 403, // a session exists, but an operator's belongs to no organisation (a token has no session: 401)
}

// TestOperatorSessionFollowsTheMatrix: a platform operator signed in to the
// browser (a session of the operators' provider, with its CSRF token) gets,
// on every route of the authorization matrix and for every record (own,
// other, unknown), exactly the status of the matrix's platform_operator
// column, hand-written from docs/permissions.md: the platform's pages
// (/metrics, /ops/queues) yes, an organisation's members, tokens and
// settings 403. No answer holds either organisation's canary. Logout comes
// last and ends the session.
func TestOperatorSessionFollowsTheMatrix(t *testing.T) {
	s := storeForTest(t)
	a, b := newTestOrg(t, s, newTestProvider(t, 0)), newTestOrg(t, s, newTestProvider(t, 1))
	a.withCases(t, s)
	b.withCases(t, s)
	a.withKits(t, s)
	b.withKits(t, s)
	a.withShelters(t, s)
	b.withShelters(t, s)
	partner := newTestOrg(t, s, newTestProvider(t, 2))
	a.withHandoffs(t, s, partner)
	b.withHandoffs(t, s, partner)
	a.withPartnerships(t, s)
	b.withPartnerships(t, s)
	const issuer = "https://operators.example.org"
	app := operatorSessionServer(t, s, issuer)
	id, sess, _, err := s.StartOperatorSession(context.Background(), issuer, "operator-"+uuid.NewString(), "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	origin := "http://127.0.0.1:8080"
	send := func(method, target, body string, withCSRF bool) response {
		t.Helper()
		header := []string{"Cookie", sessionCookie + "=" + id, "Origin", origin}
		if withCSRF {
			header = append(header, csrfHeader, sess.CSRFToken)
		}
		var r io.Reader
		if body != "" {
			r = strings.NewReader(body)
			header = append(header, "Content-Type", bodyType(body))
		}
		return do(t, app, method, target, r, header...)
	}

	// Controls: the cookie is what authenticates (without it, 401), and
	// the session's CSRF token is required of its state changes.
	if r := call(t, app, "GET", "/ops/queues", "", ""); r.status != 401 {
		t.Fatalf("control: /ops/queues without the cookie = %d, want 401", r.status)
	}
	if r := send("POST", "/language", "", false); r.status != 403 {
		t.Errorf("control: a POST without the CSRF token = %d, want 403", r.status)
	}

	operatorColumn := len(matrixColumns) - 1
	if matrixColumns[operatorColumn] != string(tenants.RolePlatformOperator) {
		t.Fatalf("the matrix's last column is %s", matrixColumns[operatorColumn])
	}
	var logout *matrixRow
	for i, row := range authzMatrix {
		if row.route == "POST /logout" {
			logout = &authzMatrix[i]
			continue
		}
		method, path, _ := strings.Cut(row.route, " ")
		scopes := map[string]string{"own": row.own}
		if row.kind != "" {
			scopes["other"], scopes["unknown"] = row.other, row.unknown
		}
		for _, scope := range []string{"own", "other", "unknown"} {
			want, ok := scopes[scope]
			if !ok {
				continue
			}
			status := parseStatuses(t, row.route, scope, want)[operatorColumn]
			if differs, ok := operatorSessionDiffers[row.route]; ok {
				status = differs
			}
			id := ""
			if row.kind != "" {
				id = matrixTarget(t, row.kind, scope, a, b)
			}
			target, _ := matrixPath(path, id)
			if row.query != "" {
				target += "?" + matrixBody(row.query, a)
			}
			r := send(method, target, matrixBody(row.body, a), true)
			if r.status != status {
				t.Errorf("%s %s (%s record) as an operator's session: %d, want %d: %.200s", method, path, scope, r.status, status, r.body)
			}
			for _, o := range []*testOrg{a, b} {
				if leak := canaryIn(r, o); leak != "" {
					t.Errorf("%s %s (%s record) as an operator's session: the answer holds %s", method, path, scope, leak)
				}
			}
		}
	}
	if r := send("GET", "/api/v1/me", "", false); r.status != 200 || !strings.Contains(r.body, `"platform_operator"`) || strings.Contains(r.body, `"slug"`) {
		t.Errorf("GET /api/v1/me = %d %s, want platform_operator and no organisation", r.status, r.body)
	}

	// Last: logout (the matrix's 303), and the session is over.
	if logout == nil {
		t.Fatal("the matrix has no POST /logout row")
	}
	want := parseStatuses(t, logout.route, "own", logout.own)[operatorColumn]
	if r := send("POST", "/logout", "", true); r.status != want {
		t.Errorf("POST /logout = %d, want %d", r.status, want)
	}
	if r := send("GET", "/ops/queues", "", false); r.status != 401 {
		t.Errorf("/ops/queues after logout = %d, want 401", r.status)
	}
}

// operatorSessionServer is authServer with an operators' provider at
// issuer (never contacted here: the session is made in the store).
func operatorSessionServer(t *testing.T, s *tenants.Store, issuer string) *fiber.App {
	t.Helper()
	base, _ := url.Parse("http://127.0.0.1:8080")
	cfg := &homeward.Config{Mode: homeward.ModeDemo, BaseURL: base, OperatorSignIn: &homeward.OperatorSignIn{
		Issuer: issuer, ClientID: "homeward-operator", GroupsClaim: "groups", Group: "platform-operators"}}
	signIn, err := NewSignIn(s, cfg, nil, SignInOptions{})
	if err != nil {
		t.Fatal(err)
	}
	app, _ := newTestServer(t, Deps{
		Config: cfg, Database: s, Store: s, SignIn: signIn, Sessions: signIn, RateLimit: 1 << 30,
		QueueMonitor: newQueueMonitor(t), DemoMailbox: stubMailbox, DemoIdentityProvider: stubIdentityProvider, Pages: realPages(t, s, cfg),
		Documents: matrixDocuments,
	}, nil)
	return app
}
