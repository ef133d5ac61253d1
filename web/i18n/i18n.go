// Package i18n is the five languages Homeward's pages speak (Lao, Thai,
// Malay, English, French): their messages, embedded in the binary as TOML
// files read by github.com/nicksnyder/go-i18n/v2 (CLDR plural rules), the
// choice of a request's language, and the formatting of dates, numbers and
// money in each language's convention.
//
// Load refuses a catalogue in which any key lacks a language, so a missing
// translation stops the build's tests and the server, never a page.
//
// Values are stored in neutral forms (ISO dates, integers in a currency's
// minor unit) and only turned into a language's convention here, at display.
package i18n

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Languages are the languages Homeward speaks, as in web/emails.
var Languages = []string{"lo", "th", "ms", "en", "fr"}

// Default is the language of last resort, and the reference the others
// are checked against.
const Default = "en"

// Endonyms are each language's name in itself, as the language picker shows
// them whatever the page's language.
var Endonyms = map[string]string{
	"lo": "ລາວ",
	"th": "ไทย",
	"ms": "Bahasa Melayu",
	"en": "English",
	"fr": "Français",
}

// Supported reports whether lang is one of Languages.
func Supported(lang string) bool { return slices.Contains(Languages, lang) }

//go:embed messages/*.toml
var embedded embed.FS

// Catalogue holds every message in every language.
type Catalogue struct {
	bundle  *goi18n.Bundle
	ids     []string // every message id, sorted
	locales map[string]*Locale
}

// Load reads the embedded catalogue (messages/LANG.toml). It fails when a
// language's file is missing, when a key of any file is missing from
// another, or when a message does not parse.
func Load() (*Catalogue, error) {
	sub, err := fs.Sub(embedded, "messages")
	if err != nil {
		return nil, err
	}
	return LoadFS(sub)
}

// MessageFile is one language's messages as written, for the checks of
// this package's tests.
type MessageFile struct {
	Lang     string
	Messages map[string]*goi18n.Message
}

// ReadFiles parses each language's messages of fsys without checking
// completeness: LANG.toml, plus AREA.LANG.toml files that keep one area's
// messages apart (cases.lo.toml), merged. A message id may appear in one
// file per language only.
func ReadFiles(fsys fs.FS) ([]MessageFile, error) {
	var files []MessageFile
	var problems []error
	names, _ := fs.Glob(fsys, "*")
	for _, lang := range Languages {
		f := MessageFile{Lang: lang, Messages: map[string]*goi18n.Message{}}
		found := false
		for _, name := range names {
			if name != lang+".toml" && !strings.HasSuffix(name, "."+lang+".toml") {
				continue
			}
			found = true
			buf, err := fs.ReadFile(fsys, name)
			if err != nil {
				problems = append(problems, fmt.Errorf("i18n: %s: %w", name, err))
				continue
			}
			mf, err := goi18n.ParseMessageFileBytes(buf, lang+".toml", map[string]goi18n.UnmarshalFunc{"toml": toml.Unmarshal})
			if err != nil {
				problems = append(problems, fmt.Errorf("i18n: %s: %w", name, err))
				continue
			}
			for _, m := range mf.Messages {
				if _, dup := f.Messages[m.ID]; dup {
					problems = append(problems, fmt.Errorf("i18n: %s: %s is defined twice for %s", name, m.ID, lang))
				}
				f.Messages[m.ID] = m
			}
		}
		if !found {
			problems = append(problems, fmt.Errorf("i18n: the %s messages: no %s.toml", lang, lang))
			continue
		}
		files = append(files, f)
	}
	for _, name := range names {
		base, ok := strings.CutSuffix(path.Base(name), ".toml")
		if i := strings.LastIndexByte(base, '.'); i >= 0 {
			base = base[i+1:]
		}
		if !ok || !Supported(base) {
			problems = append(problems, fmt.Errorf("i18n: %s is not LANG.toml or AREA.LANG.toml for one of %v", name, Languages))
		}
	}
	return files, errors.Join(problems...)
}

// LoadFS is Load from another folder of LANG.toml files (tests use it to
// show that an incomplete catalogue is refused).
func LoadFS(fsys fs.FS) (*Catalogue, error) {
	files, err := ReadFiles(fsys)
	if err != nil {
		return nil, err
	}
	if missing := Missing(files); len(missing) > 0 {
		return nil, fmt.Errorf("i18n: messages missing: %s", strings.Join(missing, "; "))
	}
	c := &Catalogue{bundle: goi18n.NewBundle(language.English), locales: map[string]*Locale{}}
	for _, f := range files {
		tag := language.MustParse(f.Lang)
		for _, m := range f.Messages {
			if err := c.bundle.AddMessages(tag, m); err != nil {
				return nil, fmt.Errorf("i18n: %s %s: %w", f.Lang, m.ID, err)
			}
		}
		if f.Lang == Default {
			for id := range f.Messages {
				c.ids = append(c.ids, id)
			}
		}
	}
	sort.Strings(c.ids)
	for _, lang := range Languages {
		tag := language.MustParse(lang)
		c.locales[lang] = &Locale{
			Lang:      lang,
			catalogue: c,
			localizer: goi18n.NewLocalizer(c.bundle, lang),
			printer:   message.NewPrinter(tag),
		}
	}
	// Every message must render in every language: a template error
	// (a bad {{...}}) is found here, not on a page.
	for _, lang := range Languages {
		l := c.locales[lang]
		for _, id := range c.ids {
			if _, err := l.localize(id, nil, sampleData); err != nil {
				return nil, fmt.Errorf("i18n: %s %s: %w", lang, id, err)
			}
		}
	}
	return c, nil
}

// sampleData fills every placeholder a message may use, for Load's check.
var sampleData = map[string]any{"Count": "2", "Organisation": "AFESIP", "Date": "1", "Day": 1, "Month": "1", "Year": 2026}

// Missing lists each key that one language has and another lacks, as
// "KEY: missing in LANG".
func Missing(files []MessageFile) []string {
	all := map[string]bool{}
	for _, f := range files {
		for id := range f.Messages {
			all[id] = true
		}
	}
	var missing []string
	for id := range all {
		for _, f := range files {
			if f.Messages[id] == nil {
				missing = append(missing, fmt.Sprintf("%s: missing in %s", id, f.Lang))
			}
		}
	}
	if len(files) < len(Languages) {
		missing = append(missing, fmt.Sprintf("a language file is missing: %d of %d", len(files), len(Languages)))
	}
	sort.Strings(missing)
	return missing
}

// IDs lists every message id, sorted.
func (c *Catalogue) IDs() []string { return slices.Clone(c.ids) }

// Has reports whether id is a message of the catalogue.
func (c *Catalogue) Has(id string) bool {
	_, found := slices.BinarySearch(c.ids, id)
	return found
}

// Locale returns the messages and formats of lang; an unsupported lang
// gets Default's.
func (c *Catalogue) Locale(lang string) *Locale {
	if l, ok := c.locales[lang]; ok {
		return l
	}
	return c.locales[Default]
}

// Choose picks the language of a request, the first supported of: the
// member's own choice (stored with their membership), the language the
// browser chose on this device (the picker's cookie), the browser's
// Accept-Language header, the organisation's default_language setting,
// and Default. Each argument may be empty.
func Choose(member, cookie, acceptLanguage, organisation string) string {
	for _, lang := range []string{member, cookie} {
		if Supported(lang) {
			return lang
		}
	}
	if lang := FromAcceptLanguage(acceptLanguage); lang != "" {
		return lang
	}
	if Supported(organisation) {
		return organisation
	}
	return Default
}

// FromAcceptLanguage returns the supported language the header ranks
// highest (by base language: th-TH is th), or "" when it names none.
func FromAcceptLanguage(header string) string {
	if header == "" {
		return ""
	}
	tags, _, err := language.ParseAcceptLanguage(header)
	if err != nil {
		return ""
	}
	for _, t := range tags { // sorted by weight, highest first
		base, conf := t.Base()
		if conf == language.No {
			continue
		}
		if Supported(base.String()) {
			return base.String()
		}
	}
	return ""
}
