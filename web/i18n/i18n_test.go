package i18n

import (
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"
	"unicode"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
)

func messagesFS(t *testing.T) fs.FS {
	t.Helper()
	sub, err := fs.Sub(embedded, "messages")
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

func mustLoad(t *testing.T) *Catalogue {
	t.Helper()
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestEveryKeyInEveryLanguage: the embedded catalogue has every key in the
// five languages; and a catalogue with one key missing in one language is
// refused, naming the key and the language.
func TestEveryKeyInEveryLanguage(t *testing.T) {
	files, err := ReadFiles(messagesFS(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range Missing(files) {
		t.Error(m)
	}
	c := mustLoad(t)
	if len(c.IDs()) < 50 {
		t.Fatalf("only %d messages: the catalogue did not load whole", len(c.IDs()))
	}

	// Control: drop one key from the Lao file.
	broken := fstest.MapFS{}
	for _, lang := range Languages {
		b, err := fs.ReadFile(messagesFS(t), lang+".toml")
		if err != nil {
			t.Fatal(err)
		}
		if lang == "lo" {
			b = regexp.MustCompile(`(?m)^sign_out = .*\n`).ReplaceAll(b, nil)
		}
		broken[lang+".toml"] = &fstest.MapFile{Data: b}
	}
	_, err = LoadFS(broken)
	if err == nil || !strings.Contains(err.Error(), "sign_out: missing in lo") {
		t.Errorf("a catalogue without sign_out in Lao: err = %v, want it named", err)
	}
	// And a language file missing altogether.
	delete(broken, "th.toml")
	if _, err := LoadFS(broken); err == nil || !strings.Contains(err.Error(), "th") {
		t.Errorf("a catalogue without th.toml: err = %v", err)
	}
}

// sameEverywhere are the messages that stay as they are in Lao and Thai
// script (a name, the same in every language).
var sameEverywhere = map[string]bool{
	"app_name": true, // the product's name
}

// sameAsEnglish are the French and Malay messages that are rightly
// spelt as in English (and the apps' names: appName).
var sameAsEnglish = map[string]map[string]bool{
	"fr": {"app_name": true, "organisation_label": true, "card.operations": true, "date_long": true,
		"case.value.vic_Vulnerabilities.Addiction": true, "case.value.vic_Vulnerabilities.Discrimination": true,
		"case.value.vic_Vulnerabilities.Migration": true, "case.value.hte_Type.Exploitation": true,
		"care.value.infection.syphilis": true, "care.value.infection.chlamydia": true,
		"handoffs.partner_country": true},
	"ms": {"app_name": true, "date_long": true, "month.4": true, "month.9": true, "month.11": true,
		"care.value.infection.hepatitis_b": true, "care.value.infection.hepatitis_c": true,
		"handoffs.partner_country": true},
}

// appName reports whether id is an app recruiters used (HTCDS
// vic_RecruitmentWebsitesAndApps, but for Other): a brand name, spelt as in
// English in French and Malay.
func appName(id string) bool {
	app, ok := strings.CutPrefix(id, "case.value.vic_RecruitmentWebsitesAndApps.")
	return ok && app != "Other"
}

// forms are a message's texts, each plural form that it has.
func forms(m *goi18n.Message) []string {
	var out []string
	for _, s := range []string{m.Zero, m.One, m.Two, m.Few, m.Many, m.Other} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// scriptProblems lists the Lao and Thai messages written without a letter
// of their script (a copy of the English left behind), except those of
// sameEverywhere.
func scriptProblems(files []MessageFile) []string {
	script := map[string]*unicode.RangeTable{"lo": unicode.Lao, "th": unicode.Thai}
	var problems []string
	for _, f := range files {
		table := script[f.Lang]
		if table == nil {
			continue
		}
		for id, m := range f.Messages {
			if sameEverywhere[id] {
				continue
			}
			for _, text := range forms(m) {
				if !strings.ContainsFunc(text, func(r rune) bool { return unicode.Is(table, r) }) {
					problems = append(problems, fmt.Sprintf("%s %s has no %s script: %q", f.Lang, id, f.Lang, text))
				}
			}
		}
	}
	slices.Sort(problems)
	return problems
}

// TestLaoAndThaiMessagesAreInTheirScript: every Lao message holds Lao
// script and every Thai message Thai script; and the check finds an
// English text left in the Lao file, and a Thai text in the Lao file.
func TestLaoAndThaiMessagesAreInTheirScript(t *testing.T) {
	files, err := ReadFiles(messagesFS(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range scriptProblems(files) {
		t.Error(p)
	}

	// Controls.
	bad := []MessageFile{
		{Lang: "lo", Messages: map[string]*goi18n.Message{
			"sign_in":  {ID: "sign_in", Other: "Sign in"},
			"sign_out": {ID: "sign_out", Other: "ออกจากระบบ"}, // Thai, not Lao
			"app_name": {ID: "app_name", Other: "Homeward"},   // allowed
			"ok":       {ID: "ok", Other: "ເຂົ້າສູ່ລະບົບ"},
		}},
		{Lang: "th", Messages: map[string]*goi18n.Message{
			"plural": {ID: "plural", One: "เข้าสู่ระบบ", Other: "{{.Count}} notifications"},
		}},
	}
	got := scriptProblems(bad)
	want := []string{`lo sign_in has no lo script: "Sign in"`, `lo sign_out has no lo script: "ออกจากระบบ"`, `th plural has no th script: "{{.Count}} notifications"`}
	if !slices.Equal(got, want) {
		t.Errorf("the check found\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestFrenchAndMalayAreTranslated: no French or Malay message is the
// English one copied, except those listed as rightly the same.
func TestFrenchAndMalayAreTranslated(t *testing.T) {
	files, err := ReadFiles(messagesFS(t))
	if err != nil {
		t.Fatal(err)
	}
	byLang := map[string]MessageFile{}
	for _, f := range files {
		byLang[f.Lang] = f
	}
	for _, lang := range []string{"fr", "ms"} {
		for id, m := range byLang[lang].Messages {
			en := byLang["en"].Messages[id]
			same := en != nil && slices.Equal(forms(m), forms(en))
			if same && !sameAsEnglish[lang][id] && !appName(id) {
				t.Errorf("%s %s is the English text %q: translate it, or list it in sameAsEnglish", lang, id, m.Other)
			}
			if !same && sameAsEnglish[lang][id] {
				t.Errorf("%s %s is listed in sameAsEnglish but differs: remove it from the list", lang, id)
			}
		}
	}
}

// TestEveryMessageRendersInEveryLanguage: each message renders in each
// language without falling back to English, plural messages for counts of
// every CLDR category (0, 1, 2, 5, 1 000 000 cover one, many and other),
// and an unknown key is marked rather than hidden.
func TestEveryMessageRendersInEveryLanguage(t *testing.T) {
	c := mustLoad(t)
	for _, lang := range Languages {
		l := c.Locale(lang)
		for _, id := range c.IDs() {
			if got := l.T(id, "Organisation", "X", "Date", "D", "Day", 1, "Month", "M", "Year", 2026); strings.Contains(got, "⟦") {
				t.Errorf("%s %s: %q", lang, id, got)
			}
		}
		for _, n := range []int64{0, 1, 2, 5, 1_000_000} {
			got := l.Plural("notifications_unread", n)
			if strings.Contains(got, "⟦") || !strings.Contains(got, l.Number(n)) {
				t.Errorf("%s notifications_unread(%d) = %q", lang, n, got)
			}
		}
		if got := l.T("no.such.key"); got != "⟦no.such.key⟧" {
			t.Errorf("%s: an unknown key gave %q", lang, got)
		}
	}
	en, fr := c.Locale("en"), c.Locale("fr")
	if got := en.Plural("notifications_unread", 1); got != "1 unread notification" {
		t.Errorf("en one: %q", got)
	}
	if got := en.Plural("notifications_unread", 1200); got != "1,200 unread notifications" {
		t.Errorf("en other: %q", got)
	}
	if got := fr.Plural("notifications_unread", 0); got != "0 notification non lue" {
		t.Errorf("fr zero is singular: %q", got)
	}
	if got := c.Locale("xx"); got.Lang != Default {
		t.Errorf("an unsupported language gave %s", got.Lang)
	}
}

func TestChoose(t *testing.T) {
	for _, tc := range []struct {
		member, cookie, accept, org, want string
	}{
		{"lo", "fr", "th", "ms", "lo"}, // the member's own choice first
		{"", "fr", "th", "ms", "fr"},   // then this device's choice
		{"", "", "th-TH,th;q=0.9,en;q=0.8", "ms", "th"},
		{"", "", "de-DE, fr;q=0.5, en;q=0.4", "", "fr"}, // the first supported, by weight
		{"", "", "en;q=0.2, lo-LA;q=0.9", "", "lo"},
		{"", "", "de, zh", "ms", "ms"}, // nothing supported: the organisation
		{"", "", "fr;q=0", "ms", "ms"}, // q=0 means "not this"
		{"", "", "", "", "en"},
		{"xx", "yy", "garbage;;;", "zz", "en"},
	} {
		if got := Choose(tc.member, tc.cookie, tc.accept, tc.org); got != tc.want {
			t.Errorf("Choose(%q, %q, %q, %q) = %q, want %q", tc.member, tc.cookie, tc.accept, tc.org, got, tc.want)
		}
	}
}

// TestDates: long dates in each language, Buddhist Era in Thai and Lao
// (year + 543, the same day and month), Gregorian elsewhere.
func TestDates(t *testing.T) {
	c := mustLoad(t)
	day := time.Date(2026, time.March, 5, 23, 30, 0, 0, time.UTC)
	newYearsEve := time.Date(2025, time.December, 31, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		lang      string
		want, eve string
	}{
		{"en", "5 March 2026", "31 December 2025"},
		{"fr", "5 mars 2026", "31 décembre 2025"},
		{"ms", "5 Mac 2026", "31 Disember 2025"},
		{"th", "5 มีนาคม พ.ศ. 2569", "31 ธันวาคม พ.ศ. 2568"},
		{"lo", "5 ມີນາ ພ.ສ. 2569", "31 ທັນວາ ພ.ສ. 2568"},
	} {
		l := c.Locale(tc.lang)
		if got := l.Date(day); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.lang, got, tc.want)
		}
		if got := l.Date(newYearsEve); got != tc.eve {
			t.Errorf("%s: %q, want %q", tc.lang, got, tc.eve)
		}
	}
	// The day is the date's own: the caller converts to the organisation's
	// time zone first (23:30 UTC is already the 6th in Vientiane).
	vientiane, err := time.LoadLocation("Asia/Vientiane")
	if err == nil {
		if got := c.Locale("en").Date(day.In(vientiane)); got != "6 March 2026" {
			t.Errorf("in Vientiane: %q", got)
		}
	}
	if got := ISODate(day); got != "2026-03-05" {
		t.Errorf("ISODate = %q", got)
	}
}

func TestNumbers(t *testing.T) {
	c := mustLoad(t)
	for lang, want := range map[string]string{
		"en": "1,234,567",
		"th": "1,234,567",
		"ms": "1,234,567",
		"fr": "1\u00a0234\u00a0567",
		"lo": "1.234.567",
	} {
		if got := c.Locale(lang).Number(1234567); got != want {
			t.Errorf("%s: %q, want %q", lang, got, want)
		}
	}
	if got := c.Locale("en").Number(-42); got != "-42" {
		t.Errorf("negative: %q", got)
	}
}

func TestMoney(t *testing.T) {
	c := mustLoad(t)
	for _, tc := range []struct {
		lang  string
		minor int64
		iso   string
		want  string
	}{
		{"en", 123450, "EUR", "€1,234.50"},
		{"fr", 123450, "EUR", "1\u00a0234,50\u00a0€"},
		{"fr", 5, "EUR", "0,05\u00a0€"},
		{"ms", 1050, "MYR", "RM\u00a010.50"},
		{"th", 1050, "THB", "฿10.50"},
		{"lo", 1200000, "LAK", "₭1.200.000"}, // kip: no minor digits
		{"en", 1200000, "LAK", "₭1,200,000"},
		{"lo", 50000, "USD", "US$500,00"},
		{"en", -250, "EUR", "-€2.50"},
		{"en", 900_719_925_474_099, "EUR", "€9,007,199,254,740.99"},
	} {
		got, err := c.Locale(tc.lang).Money(tc.minor, tc.iso)
		if err != nil || got != tc.want {
			t.Errorf("%s Money(%d, %s) = %q, %v; want %q", tc.lang, tc.minor, tc.iso, got, err, tc.want)
		}
	}
	if _, err := c.Locale("en").Money(1, "XYZ1"); err == nil {
		t.Error("an unknown currency was formatted")
	}
}

// An area's messages may live in AREA.LANG.toml beside LANG.toml: they are
// merged per language; an id defined in two files, or a file named for no
// language, is refused.
func TestAreaFilesMergeIntoTheirLanguage(t *testing.T) {
	fsys := fstest.MapFS{}
	for _, lang := range Languages {
		fsys[lang+".toml"] = &fstest.MapFile{Data: []byte(`a = "A ` + lang + `"` + "\n")}
		fsys["cases."+lang+".toml"] = &fstest.MapFile{Data: []byte(`b = "B ` + lang + `"` + "\n")}
	}
	c, err := LoadFS(fsys)
	if err != nil {
		t.Fatalf("LoadFS with area files: %v", err)
	}
	if got := c.Locale("fr").T("b"); got != "B fr" {
		t.Errorf("fr b = %q, want the area file's %q", got, "B fr")
	}

	dup := fstest.MapFS{}
	for k, v := range fsys {
		dup[k] = v
	}
	dup["more.en.toml"] = &fstest.MapFile{Data: []byte(`b = "again"` + "\n")}
	if _, err := LoadFS(dup); err == nil || !strings.Contains(err.Error(), "defined twice") {
		t.Errorf("an id in two files: err = %v, want defined twice", err)
	}
	stray := fstest.MapFS{"cases.xx.toml": &fstest.MapFile{Data: []byte("")}}
	for k, v := range fsys {
		stray[k] = v
	}
	if _, err := LoadFS(stray); err == nil {
		t.Error("a file for no language was accepted")
	}
}
