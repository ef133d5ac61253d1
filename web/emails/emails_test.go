package emails_test

import (
	"strings"
	"testing"
	"testing/fstest"
	"unicode"

	"github.com/afesip/homeward/web/emails"
)

// TestEveryTemplateInEveryLanguage: each embedded template renders in all
// five languages, with a one-line subject and a body, and the Lao and Thai
// versions are written in Lao and Thai script (not left in English).
func TestEveryTemplateInEveryLanguage(t *testing.T) {
	keys := emails.Templates().Keys()
	if len(keys) == 0 || !emails.Known("platform:test") {
		t.Fatalf("embedded templates = %v, want platform:test among them", keys)
	}
	script := map[string]*unicode.RangeTable{"lo": unicode.Lao, "th": unicode.Thai}
	data := emails.Data{Organisation: "AFESIP Laos", BaseURL: "https://homeward.example.org"}
	for _, key := range keys {
		english, err := emails.Render(key, "en", data)
		if err != nil {
			t.Fatal(err)
		}
		for _, lang := range emails.Languages {
			r, err := emails.Render(key, lang, data)
			if err != nil {
				t.Errorf("%s in %s: %v", key, lang, err)
				continue
			}
			if r.Subject == "" || strings.ContainsAny(r.Subject, "\r\n") || strings.TrimSpace(r.Text) == "" {
				t.Errorf("%s in %s: subject %q, body %q", key, lang, r.Subject, r.Text)
			}
			if !strings.Contains(r.Text, "AFESIP Laos") {
				t.Errorf("%s in %s: the body does not show the organisation", key, lang)
			}
			if lang != "en" && (r.Subject == english.Subject || r.Text == english.Text) {
				t.Errorf("%s in %s is the English text", key, lang)
			}
			if table := script[lang]; table != nil {
				for what, s := range map[string]string{"subject": r.Subject, "body": r.Text} {
					if !hasScript(s, table) {
						t.Errorf("%s in %s: the %s has no %s script: %q", key, lang, what, lang, s)
					}
				}
			}
			if !strings.Contains(r.HTML, `<html lang="`+lang+`">`) {
				t.Errorf("%s in %s: the HTML does not name its language", key, lang)
			}
		}
	}
	// allowed control: the check finds Lao in Lao text and none in English
	if !hasScript("ຂໍ້ຄວາມ", unicode.Lao) || hasScript("message", unicode.Lao) {
		t.Fatal("hasScript is broken")
	}
}

func hasScript(s string, table *unicode.RangeTable) bool {
	for _, r := range s {
		if unicode.Is(table, r) {
			return true
		}
	}
	return false
}

// TestLoadRefusesAMissingLanguage: a template without one of the five
// languages, or with an unknown one, or naming data that does not exist,
// does not load; the complete set beside it does.
func TestLoadRefusesAMissingLanguage(t *testing.T) {
	layout := &fstest.MapFile{Data: []byte(`<html lang="{{.Language}}"><title>{{.Subject}}</title>{{range .Paragraphs}}<p>{{range .}}{{.}}{{end}}</p>{{end}}</html>`)}
	complete := fstest.MapFS{"layout.html": layout}
	for _, lang := range emails.Languages {
		complete["a/b/"+lang+".txt"] = &fstest.MapFile{Data: []byte(`{{define "subject"}}S ` + lang + `{{end}}{{define "body"}}Hello {{.Organisation}}{{end}}`)}
	}
	s, err := emails.Load(complete)
	if err != nil || !s.Has("a:b") {
		t.Fatalf("allowed control: a complete set did not load: %v", err)
	}

	missing := fstest.MapFS{}
	for k, v := range complete {
		if k != "a/b/lo.txt" {
			missing[k] = v
		}
	}
	if _, err := emails.Load(missing); err == nil || !strings.Contains(err.Error(), "a:b has no lo version") {
		t.Fatalf("a template without Lao loaded: err = %v", err)
	}

	extra := fstest.MapFS{"a/b/de.txt": complete["a/b/en.txt"]}
	badField := fstest.MapFS{"a/b/fr.txt": &fstest.MapFile{Data: []byte(`{{define "subject"}}S{{end}}{{define "body"}}{{.CaseNumber}}{{end}}`)}}
	noSubject := fstest.MapFS{"a/b/fr.txt": &fstest.MapFile{Data: []byte(`{{define "body"}}B{{end}}`)}}
	for name, change := range map[string]fstest.MapFS{"unknown language": extra, "unknown field": badField, "no subject": noSubject} {
		fsys := fstest.MapFS{}
		for k, v := range complete {
			fsys[k] = v
		}
		for k, v := range change {
			fsys[k] = v
		}
		if _, err := emails.Load(fsys); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
}

// TestRenderingIsSafe: the subject is one line whatever the data holds, and
// the HTML escapes the data.
func TestRenderingIsSafe(t *testing.T) {
	r, err := emails.Render("platform:test", "en", emails.Data{Organisation: "Evil\r\nBcc: x@example.org <b>", BaseURL: "https://h.example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(r.Subject, "\r\n") {
		t.Fatalf("subject %q", r.Subject)
	}
	if strings.Contains(r.HTML, "<b>") || !strings.Contains(r.HTML, "&lt;b&gt;") {
		t.Fatalf("the HTML does not escape the data: %s", r.HTML)
	}
	if _, err := emails.Render("platform:test", "de", emails.Data{}); err == nil {
		t.Fatal("rendered in a language Homeward does not speak")
	}
}
