package demoidp

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode"
)

// acceptLanguage sends every request with the Accept-Language header.
type acceptLanguage string

func (a acceptLanguage) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Accept-Language", string(a))
	return http.DefaultTransport.RoundTrip(r)
}

// TestLoginPageInTheBrowsersLanguage: for a Thai browser the account
// picker (banner, heading, accounts' roles, button) is in Thai script,
// and its refusal too; Homeward's language cookie comes before the
// browser's language; without either it is English.
func TestLoginPageInTheBrowsersLanguage(t *testing.T) {
	s := startProvider(t)
	rp := newRelyingParty(t, s, "demo-partner-th")

	th := newBrowser(t)
	th.Transport = acceptLanguage("th-TH,th;q=0.9")
	p := fetch(t, th, http.MethodGet, rp.authURL(newSignIn()), nil)
	if p.status != http.StatusOK {
		t.Fatalf("login page: %d", p.status)
	}
	for _, want := range []string{`<html lang="th">`, "เข้าสู่ระบบสาธิต — ข้อมูลสาธิตเท่านั้น", "เลือกบัญชีสาธิต", "บัญชีสาธิต: นักกฎหมาย", ">เข้าสู่ระบบ</button>"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the Thai page lacks %q:\n%s", want, p.body)
		}
	}
	for _, english := range []string{"Demo sign-in", "Choose a demo account", "Sign in", "⟦"} {
		if strings.Contains(p.body, english) {
			t.Errorf("the Thai page has %q", english)
		}
	}
	main := p.body[strings.Index(p.body, "<main"):]
	if !strings.ContainsFunc(main, func(r rune) bool { return unicode.Is(unicode.Thai, r) }) {
		t.Error("the Thai page has no Thai script")
	}
	f := parseLoginForm(t, p.body)
	if len(f.accounts) == 0 || !f.labelled {
		t.Errorf("the Thai page offers %v (labelled %v)", f.accounts, f.labelled)
	}
	r := fetch(t, th, http.MethodPost, f.action, url.Values{fieldRequest: {f.requestID}, fieldAccount: {"afesip-laos.lawyer"}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "โปรดเลือกหนึ่งในบัญชีที่แสดงไว้") {
		t.Errorf("another organisation's account: %d, want 422 in Thai:\n%s", r.status, r.body)
	}

	// Homeward's language cookie first; then the control, English.
	fr := newBrowser(t)
	fr.Transport = acceptLanguage("th")
	u, _ := url.Parse(s.Issuer())
	fr.Jar.SetCookies(u, []*http.Cookie{{Name: languageCookie, Value: "fr", Path: "/"}})
	if p := fetch(t, fr, http.MethodGet, rp.authURL(newSignIn()), nil); !strings.Contains(p.body, `<html lang="fr">`) || !strings.Contains(p.body, "Connexion de démonstration") {
		t.Errorf("with the cookie fr the page is not French:\n%s", p.body)
	}
	if p := fetch(t, newBrowser(t), http.MethodGet, rp.authURL(newSignIn()), nil); !strings.Contains(p.body, `<html lang="en">`) || !strings.Contains(p.body, "Demo account: Lawyer") {
		t.Errorf("without a language the page is not English:\n%s", p.body)
	}
}
