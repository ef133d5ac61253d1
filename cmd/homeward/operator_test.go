package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/afesip/homeward/web/demoidp"
)

// TestDemoServeOperatorSignIn: demo serve, with no HOMEWARD_OPERATOR_*,
// signs platform operators in at the demo provider's operator client
// through the same flow as production: /login?operator=1 redirects to the
// demo provider's authorization endpoint (discovered from /demo-idp) for
// client homeward-operator, and choosing the operator account there ends in
// a session that opens /ops/queues and /metrics and no organisation's
// members.
func TestDemoServeOperatorSignIn(t *testing.T) {
	env := demoEnv(t)
	env["HOMEWARD_ADDR"] = "127.0.0.1:0"
	s := startServe(t, env, "")

	// The demo provider's discovery names its authorization endpoint.
	code, body := get(t, s.url+"/demo-idp/.well-known/openid-configuration")
	var discovery struct {
		Issuer        string `json:"issuer"`
		Authorization string `json:"authorization_endpoint"`
	}
	if err := json.Unmarshal([]byte(body), &discovery); code != 200 || err != nil || discovery.Issuer != s.url+demoidp.Path {
		t.Fatalf("demo discovery = %d %.200s", code, body)
	}

	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	fetch := func(method, target string, form url.Values) (int, string, string) {
		t.Helper()
		var r io.Reader
		if form != nil {
			r = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequest(method, target, r)
		if err != nil {
			t.Fatal(err)
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, target, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		loc := resp.Header.Get("Location")
		if loc != "" {
			if u, err := resp.Request.URL.Parse(loc); err == nil {
				loc = u.String()
			}
		}
		return resp.StatusCode, string(b), loc
	}

	status, _, to := fetch(http.MethodGet, s.url+demoidp.OperatorLoginPath, nil)
	if status != http.StatusFound || !strings.HasPrefix(to, discovery.Authorization+"?") {
		t.Fatalf("GET /login?operator=1 = %d to %q, want 302 to %s", status, to, discovery.Authorization)
	}
	q, _ := url.Parse(to)
	if got := q.Query().Get("client_id"); got != demoidp.OperatorClientID {
		t.Fatalf("client_id = %q, want %s", got, demoidp.OperatorClientID)
	}
	if q.Query().Get("code_challenge_method") != "S256" || q.Query().Get("nonce") == "" || q.Query().Get("state") == "" {
		t.Errorf("authorization request %v: want PKCE S256, state and nonce", q.Query())
	}

	// Through the demo provider's login page, as the operator.
	var page string
	for range 5 { // authorize -> login page
		if status, page, to = fetch(http.MethodGet, to, nil); to == "" {
			break
		}
	}
	m := regexp.MustCompile(`name="id" value="([^"]+)"`).FindStringSubmatch(page)
	if status != http.StatusOK || m == nil || !strings.Contains(page, demoidp.OperatorSubject) {
		t.Fatalf("the demo provider's login page = %d, want the operator account:\n%.500s", status, page)
	}
	status, _, to = fetch(http.MethodPost, s.url+demoidp.Path+"/login", url.Values{"id": {m[1]}, "account": {demoidp.OperatorSubject}})
	for i := 0; to != "" && !strings.HasPrefix(to, s.url+"/auth/callback"); i++ {
		if i > 5 {
			t.Fatal("too many redirects on the way back to the callback")
		}
		status, _, to = fetch(http.MethodGet, to, nil)
	}
	if status, body, to = fetch(http.MethodGet, to, nil); status != http.StatusSeeOther {
		t.Fatalf("callback = %d %.300s, want 303", status, body)
	}

	for path, want := range map[string]int{"/ops/queues": 200, "/metrics": 200, "/api/v1/members": 403} {
		if status, body, _ := fetch(http.MethodGet, s.url+path, nil); status != want {
			t.Errorf("GET %s as the demo operator = %d, want %d: %.200s", path, status, want, body)
		}
	}
	if status, body, _ := fetch(http.MethodGet, s.url+"/api/v1/me", nil); status != 200 || !strings.Contains(body, `"platform_operator"`) {
		t.Errorf("GET /api/v1/me = %d %s", status, body)
	}
	// No organisation's audit chain: the log stream records the sign-in.
	if !regexp.MustCompile(`msg="operator signed in" .*audit=auth.login actor_kind=operator identity=\S+ session=\S+`).MatchString(s.stderr.String()) {
		t.Errorf("the log does not record the operator's sign-in:\n%s", s.stderr.String())
	}
}
