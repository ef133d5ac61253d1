package i18n

import (
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/currency"
	"golang.org/x/text/message"
	"golang.org/x/text/number"
)

// Locale is one language's messages and formats. Safe for concurrent use.
type Locale struct {
	// Lang is the language code: lo, th, ms, en or fr.
	Lang      string
	catalogue *Catalogue
	localizer *goi18n.Localizer
	printer   *message.Printer
}

// MissingMark wraps the id of a message that does not exist, so that a page
// naming an unknown key shows it (and the page tests find it) instead of
// failing.
const MissingMark = "⟦%s⟧"

// T returns the message id, filled with data given as name, value pairs:
// T("dashboard.welcome", "Organisation", name).
func (l *Locale) T(id string, pairs ...any) string {
	s, err := l.localize(id, nil, pairsToMap(pairs))
	if err != nil {
		return fmt.Sprintf(MissingMark, id)
	}
	return s
}

// Plural returns the form of the message id for count (by the language's
// CLDR plural rules), with {{.Count}} the count in the language's number
// format, and any other data as name, value pairs.
func (l *Locale) Plural(id string, count int64, pairs ...any) string {
	data := pairsToMap(pairs)
	data["Count"] = l.Number(count)
	s, err := l.localize(id, count, data)
	if err != nil {
		return fmt.Sprintf(MissingMark, id)
	}
	return s
}

func (l *Locale) localize(id string, count any, data map[string]any) (string, error) {
	s, tag, err := l.localizer.LocalizeWithTag(&goi18n.LocalizeConfig{MessageID: id, PluralCount: count, TemplateData: data})
	if err != nil {
		return "", err
	}
	if tag.String() != l.Lang {
		// go-i18n fell back to English: Load makes this impossible for the
		// embedded catalogue, but say so rather than mix languages.
		return "", fmt.Errorf("i18n: %s has no %s message", id, l.Lang)
	}
	return s, nil
}

func pairsToMap(pairs []any) map[string]any {
	m := make(map[string]any, len(pairs)/2+1)
	for i := 0; i+1 < len(pairs); i += 2 {
		m[fmt.Sprint(pairs[i])] = pairs[i+1]
	}
	return m
}

// BuddhistEra reports whether the language shows years in the Buddhist Era
// (Gregorian year + 543): Thai official dates do, and so do many Lao
// documents.
func (l *Locale) BuddhistEra() bool { return l.Lang == "th" || l.Lang == "lo" }

// Date shows a calendar date in the language's long form: "5 March 2026",
// "5 mars 2026", "5 Mac 2026", "5 มีนาคม พ.ศ. 2569", "5 ມີນາ ພ.ສ. 2569". The
// date is read as it is (its own location's calendar day): convert to the
// organisation's time zone first. Hand-formatted from the messages
// date_long and month.N, since golang.org/x/text has no date formatting;
// the Buddhist Era is the Gregorian year + 543, the same day and month.
func (l *Locale) Date(t time.Time) string {
	year := t.Year()
	if l.BuddhistEra() {
		year += 543
	}
	return l.T("date_long",
		"Day", t.Day(),
		"Month", l.T("month."+strconv.Itoa(int(t.Month()))),
		"Year", year)
}

// ISODate is the stored and machine-readable form of a date (for
// <time datetime>): 2026-03-05, always Gregorian.
func ISODate(t time.Time) string { return t.Format(time.DateOnly) }

// Number shows an integer with the language's digit grouping: 1,234,567 in
// en, th and ms; 1 234 567 (narrow no-break spaces) in fr; 1.234.567 in lo
// (CLDR's Lao convention).
func (l *Locale) Number(n int64) string { return l.printer.Sprint(number.Decimal(n)) }

// Money shows an amount stored as an integer count of the currency's minor
// unit (cents for EUR, satang for THB, sen for MYR; whole kip for LAK,
// whose CLDR standard precision is 0 digits) with its ISO 4217 code:
// Money(123450, "EUR") is "€1,234.50" in en and "1 234,50 €" in fr. The
// digits follow the language (x/text/number); the symbol's place follows
// CLDR's pattern for the language: after the number with a no-break space
// in fr, before it elsewhere, with a no-break space between a symbol
// ending in a letter (RM) and the digits. Exact for amounts under 2^53
// minor units (the float64 on the way holds them exactly before rounding
// to the currency's digits).
func (l *Locale) Money(minor int64, iso string) (string, error) {
	unit, err := currency.ParseISO(iso)
	if err != nil {
		return "", fmt.Errorf("i18n: currency %q: %w", iso, err)
	}
	scale, _ := currency.Standard.Rounding(unit)
	neg := minor < 0
	if neg {
		minor = -minor
	}
	digits := l.printer.Sprint(number.Decimal(float64(minor)/math.Pow10(scale), number.Scale(scale)))
	symbol := l.symbol(unit)
	var s string
	if l.Lang == "fr" {
		s = digits + "\u00a0" + symbol
	} else {
		sep := ""
		if r := []rune(symbol); len(r) > 0 && unicode.IsLetter(r[len(r)-1]) {
			sep = "\u00a0"
		}
		s = symbol + sep + digits
	}
	if neg {
		s = "-" + s
	}
	return s, nil
}

// symbol is the currency's symbol in the language: CLDR's standard symbol,
// or its narrow one when the standard symbol is only the ISO code (x/text
// gives "THB" in Thai, where people write ฿), unless the narrow one is a
// bare "$", which would not say which dollar.
func (l *Locale) symbol(unit currency.Unit) string {
	s := l.printer.Sprint(currency.Symbol(unit))
	if s == unit.String() {
		if narrow := l.printer.Sprint(currency.NarrowSymbol(unit)); narrow != "$" {
			s = narrow
		}
	}
	return s
}
