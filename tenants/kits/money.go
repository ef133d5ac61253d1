package kits

import (
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
)

// Money, exactly: amounts are integers in their currency's minor unit and
// exchange rates integers in millionths, so that no float ever holds an
// amount.
//
// The minor units are CLDR's standard digits, as web/i18n formats money:
// US cents, Thai satang (2 digits), whole kip (0 digits).
//
// Conversion: a rate is how many units of the currency one US dollar buys,
// entered as a decimal with at most six decimals (21700 kip, 35.25 baht)
// and stored as millionths (21 700 000 000; 35 250 000). Each item's line
// (quantity × unit cost) is converted exactly,
//
//	cents = line_minor × 10^(2 − digits) × 10^6 / units_per_usd_micros
//
// and rounded half up to the cent (a half cent or more goes up); the kit's
// total is the sum of its lines, so the total is what the lines show, and
// it is the total that the organisation's limit bounds. Spending is
// converted the same way at the same recorded rates.

// Currencies a kit may be priced in.
const (
	USD = "USD"
	LAK = "LAK"
	THB = "THB"
)

// Currencies lists them; USD first, the currency of the limit.
var Currencies = []string{USD, LAK, THB}

// MinorDigits is how many decimals each currency's minor unit has.
var MinorDigits = map[string]int{USD: 2, LAK: 0, THB: 2}

// Bounds of what a request holds.
const (
	maxItems       = 50
	maxQuantity    = 1000
	maxAmountMinor = 1_000_000_000_000 // a trillion minor units: far above any kit, far below overflow
	maxRateMicros  = 1_000_000_000 * 1_000_000
	rateDecimals   = 6
)

// ParseRate reads a rate typed as a decimal ("21700", "35.25", "0.5"),
// units of a currency per US dollar, into millionths. The reason is ""
// when it is valid.
func ParseRate(text string) (int64, string) {
	const reason = "units of the currency per US dollar, a number above 0 with at most 6 decimals, like 21700 or 35.25"
	n, ok := parseDecimal(strings.TrimSpace(text), rateDecimals)
	if !ok || n <= 0 || n > maxRateMicros {
		return 0, reason
	}
	return n, ""
}

// FormatRate writes millionths as the shortest decimal: 21700, 35.25.
func FormatRate(micros int64) string {
	s := strconv.FormatInt(micros/1_000_000, 10)
	if frac := micros % 1_000_000; frac != 0 {
		s += "." + strings.TrimRight(fmt.Sprintf("%06d", frac), "0")
	}
	return s
}

// ParseAmount reads an amount typed in currency's major unit (35.50 dollars,
// 2170000 kip) into its minor unit: digits, then at most the currency's
// decimals after a point or a comma. Spaces are ignored; no other
// separator is taken, since "2,170" is two thousand in one language and
// two in another.
func ParseAmount(text, currency string) (int64, bool) {
	digits, ok := MinorDigits[currency]
	if !ok {
		return 0, false
	}
	text = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\u00a0', '\u202f':
			return -1
		case ',':
			return '.'
		}
		return r
	}, text)
	n, ok := parseDecimal(text, digits)
	return n, ok && n >= 0 && n <= maxAmountMinor
}

// FormatAmount writes minor units in the plain form ParseAmount reads
// back: 35.50 dollars, 2170000 kip (a form's value, not a display).
func FormatAmount(minor int64, currency string) string {
	digits := MinorDigits[currency]
	if digits == 0 {
		return strconv.FormatInt(minor, 10)
	}
	unit := int64(1)
	for range digits {
		unit *= 10
	}
	return fmt.Sprintf("%d.%0*d", minor/unit, digits, minor%unit)
}

// parseDecimal reads digits[.fraction] with at most scale fraction digits
// as an integer scaled by 10^scale.
func parseDecimal(text string, scale int) (int64, bool) {
	whole, frac, hasPoint := strings.Cut(text, ".")
	if whole == "" || len(frac) > scale || hasPoint && frac == "" || !allDigits(whole) || !allDigits(frac) || len(whole) > 15 {
		return 0, false
	}
	n, err := strconv.ParseInt(whole+frac+strings.Repeat("0", scale-len(frac)), 10, 64)
	return n, err == nil
}

func allDigits(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return r < '0' || r > '9' })
}

// usdCents converts amount (minor units of currency) to US cents at rate
// (units per US dollar in millionths; ignored for USD), rounding half up.
func usdCents(amount *big.Int, currency string, rateMicros int64) *big.Int {
	if currency == USD {
		return new(big.Int).Set(amount)
	}
	num := new(big.Int).Mul(amount, big.NewInt(1_000_000))
	num.Mul(num, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(2-MinorDigits[currency])), nil))
	rate := big.NewInt(rateMicros)
	q, r := new(big.Int).QuoRem(num, rate, new(big.Int))
	if r.Lsh(r, 1).Cmp(rate) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	return q
}

// quote is a request's items and rates checked and priced: the rates in
// millionths by currency, each line in US cents, and the total. Problems
// are reported on fe under the API's names (items[0].quantity,
// rates[1].units_per_usd, ...).
type quote struct {
	rates map[string]int64
	lines []*big.Int
	total *big.Int
}

func price(items []NewItem, rates []NewRate, fe map[string]string) quote {
	add := func(field, reason string) {
		if _, ok := fe[field]; !ok {
			fe[field] = reason
		}
	}
	q := quote{rates: map[string]int64{}, total: new(big.Int)}
	used := map[string]bool{}
	switch {
	case len(items) == 0:
		add("items", "at least one item: what the kit is made of")
	case len(items) > maxItems:
		add("items", fmt.Sprintf("at most %d items", maxItems))
	}
	for i, it := range items {
		at := fmt.Sprintf("items[%d].", i)
		if problem := checkText(it.Description, 1, maxDescription); problem != "" {
			add(at+"description", problem)
		}
		if it.Quantity < 1 || it.Quantity > maxQuantity {
			add(at+"quantity", fmt.Sprintf("a whole number from 1 to %d", maxQuantity))
		}
		if it.UnitCostMinor < 0 || it.UnitCostMinor > maxAmountMinor {
			add(at+"unit_cost_minor", "a whole number of the currency's minor unit (US cents, satang, kip), 0 or more")
		}
		if !slices.Contains(Currencies, it.Currency) {
			add(at+"currency", "one of "+strings.Join(Currencies, ", "))
			continue
		}
		used[it.Currency] = it.Currency != USD
	}
	for i, r := range rates {
		at := fmt.Sprintf("rates[%d].", i)
		micros, problem := ParseRate(r.UnitsPerUSD)
		switch {
		case r.Currency == USD:
			add(at+"currency", "US dollars need no rate: the limit is in US dollars")
		case !slices.Contains(Currencies, r.Currency):
			add(at+"currency", "LAK or THB")
		case q.rates[r.Currency] != 0:
			add(at+"currency", "one rate per currency")
		case !used[r.Currency]:
			add(at+"currency", "no item is priced in "+r.Currency+": leave its rate out")
		case problem != "":
			add(at+"units_per_usd", problem)
		default:
			q.rates[r.Currency] = micros
		}
	}
	for _, c := range Currencies {
		if used[c] && q.rates[c] == 0 && !slices.ContainsFunc(rates, func(r NewRate) bool { return r.Currency == c }) {
			add("rates", fmt.Sprintf("a rate for %s is needed (units per US dollar on the day of the request)", c))
		}
	}
	if len(fe) > 0 {
		return q
	}
	for _, it := range items {
		line := new(big.Int).Mul(big.NewInt(int64(it.Quantity)), big.NewInt(it.UnitCostMinor))
		cents := usdCents(line, it.Currency, q.rates[it.Currency])
		q.lines = append(q.lines, cents)
		q.total.Add(q.total, cents)
	}
	return q
}

// Total is the US-cent total of items at rates as a request would record
// it (pages use it to say by how much a refused request is over the
// limit); false when the items or rates are not valid.
func Total(items []NewItem, rates []NewRate) (int64, bool) {
	q := price(items, rates, map[string]string{})
	if q.lines == nil || !q.total.IsInt64() {
		return 0, false
	}
	return q.total.Int64(), true
}

// FormatUSD writes US cents as "USD 1,234.50" for messages of the domain
// (pages format money in the reader's language).
func FormatUSD(cents int64) string {
	whole := strconv.FormatInt(cents/100, 10)
	var grouped []string
	for len(whole) > 3 {
		grouped = append([]string{whole[len(whole)-3:]}, grouped...)
		whole = whole[:len(whole)-3]
	}
	grouped = append([]string{whole}, grouped...)
	return fmt.Sprintf("USD %s.%02d", strings.Join(grouped, ","), cents%100)
}
