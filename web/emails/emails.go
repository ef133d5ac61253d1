// Package emails is the e-mail Homeward sends: one template per key
// ("platform:test"), written in every language Homeward speaks, embedded in
// the binary. A template is a subject and a plain-text body (text/template);
// the HTML alternative is the body's paragraphs in one shared layout
// (html/template) that names the language, so mail clients pick a Lao or
// Thai font.
//
// Templates receive Data: what the sender read, by id, inside the job's
// transaction. Nothing personal travels in a job's payload, and a template
// never needs more than the record its mail is about.
package emails

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	texttemplate "text/template"
	"time"
)

// Languages are the languages Homeward speaks; every template exists in
// each of them (Load refuses a template that lacks one).
var Languages = []string{"lo", "th", "ms", "en", "fr"}

// ValidLanguage reports whether lang is one of Languages.
func ValidLanguage(lang string) bool { return slices.Contains(Languages, lang) }

// Data is what a template may show.
type Data struct {
	// Organisation is the name of the organisation the mail is sent for.
	Organisation string
	// BaseURL is Homeward's address, such as https://homeward.example.org.
	BaseURL string
	// CaseReference is the case a mail is about, by its number only
	// ("C-00042"): a mail never names the survivor.
	CaseReference string
	// Date is the date a mail is about (a follow-up visit's due date),
	// already written in the mail's language's convention.
	Date string
}

// Rendered is a template rendered in one language.
type Rendered struct {
	Subject string // one line
	Text    string // the plain-text body
	HTML    string // the HTML alternative
}

// Message is a rendered mail ready for a sender (SMTP, or the demo mailbox).
type Message struct {
	// MessageID is the RFC 5322 Message-ID with its angle brackets,
	// derived from the mail's id: the same mail always carries the same one.
	MessageID string
	From      string
	To        string
	Language  string
	Date      time.Time
	Rendered
}

//go:embed templates
var embedded embed.FS

// Set is a loaded set of templates.
type Set struct {
	texts  map[string]map[string]*texttemplate.Template // key -> language -> template
	layout *htmltemplate.Template
}

// keySegment is one part of a template key; the key's parts are the folders
// under templates/ (templates/platform/test/en.txt is "platform:test" in
// English).
var keySegment = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// sample is what Load renders every template with, so that a template
// naming a field Data lacks fails the build's tests, not a send.
var sample = Data{Organisation: "AFESIP <Laos> & partners", BaseURL: "https://homeward.example.org",
	CaseReference: "C-00042", Date: "5 March 2026"}

// Load reads a set from fsys: layout.html, and KEY/PARTS/LANGUAGE.txt files
// defining "subject" and "body". Every key must exist in every language of
// Languages, and nothing else may be there.
func Load(fsys fs.FS) (*Set, error) {
	s := &Set{texts: map[string]map[string]*texttemplate.Template{}}
	layout, err := fs.ReadFile(fsys, "layout.html")
	if err != nil {
		return nil, fmt.Errorf("emails: %w", err)
	}
	if s.layout, err = htmltemplate.New("layout.html").Option("missingkey=error").Parse(string(layout)); err != nil {
		return nil, fmt.Errorf("emails: %w", err)
	}
	var problems []error
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == "layout.html" {
			return err
		}
		dir, file := path.Split(p)
		lang, ok := strings.CutSuffix(file, ".txt")
		parts := strings.Split(strings.TrimSuffix(dir, "/"), "/")
		for _, part := range parts {
			ok = ok && keySegment.MatchString(part)
		}
		if !ok || len(parts) < 2 {
			problems = append(problems, fmt.Errorf("%s: expected KEY/PARTS/LANGUAGE.txt, such as platform/test/en.txt", p))
			return nil
		}
		if !ValidLanguage(lang) {
			problems = append(problems, fmt.Errorf("%s: %q is not one of the languages %v", p, lang, Languages))
			return nil
		}
		src, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		t, err := texttemplate.New(p).Option("missingkey=error").Parse(string(src))
		if err != nil {
			problems = append(problems, err)
			return nil
		}
		for _, name := range []string{"subject", "body"} {
			if t.Lookup(name) == nil {
				problems = append(problems, fmt.Errorf("%s: defines no %q", p, name))
			}
		}
		key := strings.Join(parts, ":")
		if s.texts[key] == nil {
			s.texts[key] = map[string]*texttemplate.Template{}
		}
		s.texts[key][lang] = t
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("emails: %w", err)
	}
	for _, key := range s.Keys() {
		for _, lang := range Languages {
			if s.texts[key][lang] == nil {
				problems = append(problems, fmt.Errorf("template %s has no %s version (%s/%s.txt)", key, lang, strings.ReplaceAll(key, ":", "/"), lang))
				continue
			}
			if _, err := s.Render(key, lang, sample); err != nil {
				problems = append(problems, err)
			}
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("emails: %w", errors.Join(problems...))
	}
	return s, nil
}

// Keys lists the set's template keys, sorted.
func (s *Set) Keys() []string {
	keys := make([]string, 0, len(s.texts))
	for k := range s.texts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Has reports whether key names a template of the set.
func (s *Set) Has(key string) bool { _, ok := s.texts[key]; return ok }

// Render renders the template key in lang with d.
func (s *Set) Render(key, lang string, d Data) (*Rendered, error) {
	t := s.texts[key][lang]
	if t == nil {
		return nil, fmt.Errorf("emails: no template %q in language %q", key, lang)
	}
	var subject, body bytes.Buffer
	if err := t.ExecuteTemplate(&subject, "subject", d); err != nil {
		return nil, fmt.Errorf("emails: %s (%s): %w", key, lang, err)
	}
	if err := t.ExecuteTemplate(&body, "body", d); err != nil {
		return nil, fmt.Errorf("emails: %s (%s): %w", key, lang, err)
	}
	r := &Rendered{
		// One line, whatever the data held: a subject is a header.
		Subject: strings.Join(strings.Fields(subject.String()), " "),
		Text:    normaliseBody(body.String()),
	}
	var html bytes.Buffer
	err := s.layout.Execute(&html, struct {
		Language, Subject string
		Paragraphs        [][]string
	}{lang, r.Subject, paragraphs(r.Text)})
	if err != nil {
		return nil, fmt.Errorf("emails: %s (%s): layout: %w", key, lang, err)
	}
	r.HTML = html.String()
	return r, nil
}

// normaliseBody trims the body, its lines' trailing spaces, and runs of
// blank lines to one.
func normaliseBody(s string) string {
	lines := strings.Split(strings.ReplaceAll(strings.TrimSpace(s), "\r\n", "\n"), "\n")
	out := lines[:0]
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if l == "" && len(out) > 0 && out[len(out)-1] == "" {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n") + "\n"
}

// paragraphs splits a body at its blank lines.
func paragraphs(text string) [][]string {
	var out [][]string
	for _, p := range strings.Split(strings.TrimSpace(text), "\n\n") {
		out = append(out, strings.Split(p, "\n"))
	}
	return out
}

// templates is the set embedded in the binary; a template missing a
// language is caught by this package's tests before any binary runs.
var templates = func() *Set {
	sub, err := fs.Sub(embedded, "templates")
	if err != nil {
		panic(err)
	}
	s, err := Load(sub)
	if err != nil {
		panic(err)
	}
	return s
}()

// Templates is the set embedded in the binary.
func Templates() *Set { return templates }

// Known reports whether key names an embedded template.
func Known(key string) bool { return templates.Has(key) }

// Render renders the embedded template key in lang.
func Render(key, lang string, d Data) (*Rendered, error) { return templates.Render(key, lang, d) }
