package kits_test

import (
	"testing"

	"golang.org/x/text/currency"

	"github.com/afesip/homeward/tenants/kits"
)

// The minor units are CLDR's standard digits, as web/i18n formats money.
func TestMinorDigitsAreCLDRs(t *testing.T) {
	for _, code := range kits.Currencies {
		unit := currency.MustParseISO(code)
		if scale, _ := currency.Standard.Rounding(unit); scale != kits.MinorDigits[code] {
			t.Errorf("%s: %d digits, CLDR says %d", code, kits.MinorDigits[code], scale)
		}
	}
}

func TestRatesAreExactDecimals(t *testing.T) {
	for text, want := range map[string]int64{"21700": 21_700_000_000, "35.25": 35_250_000, " 0.000001 ": 1, "1.5": 1_500_000} {
		got, problem := kits.ParseRate(text)
		if problem != "" || got != want {
			t.Errorf("ParseRate(%q) = %d %q, want %d", text, got, problem, want)
		}
		if back, _ := kits.ParseRate(kits.FormatRate(got)); back != got {
			t.Errorf("FormatRate(%d) = %q does not read back", got, kits.FormatRate(got))
		}
	}
	for _, bad := range []string{"", "0", "-5", "1e3", "35.1234567", "21,700", "35.", ".5", "NaN", "1000000001"} {
		if _, problem := kits.ParseRate(bad); problem == "" {
			t.Errorf("ParseRate(%q) accepted", bad)
		}
	}
	if got := kits.FormatRate(35_250_000); got != "35.25" {
		t.Errorf("FormatRate = %q, want 35.25", got)
	}
}

func TestAmountsAreReadInTheCurrencysMinorUnit(t *testing.T) {
	for _, c := range []struct {
		text, currency string
		want           int64
	}{{"35.50", kits.USD, 3550}, {"35,5", kits.USD, 3550}, {"120", kits.USD, 12000}, {"2 170 000", kits.LAK, 2_170_000},
		{"999.99", kits.THB, 99999}, {"0", kits.LAK, 0}} {
		if got, ok := kits.ParseAmount(c.text, c.currency); !ok || got != c.want {
			t.Errorf("ParseAmount(%q, %s) = %d %v, want %d", c.text, c.currency, got, ok, c.want)
		}
		if back, ok := kits.ParseAmount(kits.FormatAmount(c.want, c.currency), c.currency); !ok || back != c.want {
			t.Errorf("FormatAmount(%d, %s) = %q does not read back", c.want, c.currency, kits.FormatAmount(c.want, c.currency))
		}
	}
	for _, c := range [][2]string{{"2,170,000", kits.LAK}, {"2170.5", kits.LAK}, {"1.234", kits.USD}, {"-3", kits.USD},
		{"abc", kits.THB}, {"10", "EUR"}, {"", kits.USD}} {
		if got, ok := kits.ParseAmount(c[0], c[1]); ok {
			t.Errorf("ParseAmount(%q, %s) accepted: %d", c[0], c[1], got)
		}
	}
}

// Each line is converted exactly and rounded half up to the cent; the
// total is the sum of the lines. No float: amounts that floats would blur
// come out exact.
func TestConversionRoundsEachLineHalfUp(t *testing.T) {
	rates := []kits.NewRate{{Currency: kits.LAK, UnitsPerUSD: "21700"}, {Currency: kits.THB, UnitsPerUSD: "35.5"}}
	for _, c := range []struct {
		name  string
		items []kits.NewItem
		want  int64
	}{
		{"USD as it is", []kits.NewItem{{Description: "x", Quantity: 3, UnitCostMinor: 1999, Currency: kits.USD}}, 5997},
		// 2 170 000 kip / 21 700 = USD 100 exactly.
		{"LAK exact", []kits.NewItem{{Description: "x", Quantity: 1, UnitCostMinor: 2_170_000, Currency: kits.LAK}}, 10000},
		// 10 849 kip = 49.9954 cents: 50; 10 740 kip = 49.4931 cents: 49.
		{"LAK up", []kits.NewItem{{Description: "x", Quantity: 1, UnitCostMinor: 10_849, Currency: kits.LAK}}, 50},
		{"LAK down", []kits.NewItem{{Description: "x", Quantity: 1, UnitCostMinor: 10_740, Currency: kits.LAK}}, 49},
		// 1 baht = 2.8169 cents: 3; two lines of one baht are 3 + 3, not round(5.63) = 6 by chance.
		{"THB per line", []kits.NewItem{{Description: "x", Quantity: 1, UnitCostMinor: 100, Currency: kits.THB},
			{Description: "y", Quantity: 1, UnitCostMinor: 100, Currency: kits.THB}}, 6},
		// 7 × 1.10 baht = 7.70 baht = 21.690 cents: 22 (the line, not each unit, is rounded).
		{"THB quantity", []kits.NewItem{{Description: "x", Quantity: 7, UnitCostMinor: 110, Currency: kits.THB}}, 22},
	} {
		var used []kits.NewRate
		for _, r := range rates {
			for _, it := range c.items {
				if it.Currency == r.Currency {
					used = append(used, r)
					break
				}
			}
		}
		if got, ok := kits.Total(c.items, used); !ok || got != c.want {
			t.Errorf("%s: Total = %d %v, want %d", c.name, got, ok, c.want)
		}
	}
	// Exactly half a cent goes up: 10 satang at 20 baht to the dollar is 0.5 cent; 30 satang 1.5 cents.
	for satang, want := range map[int64]int64{10: 1, 30: 2, 9: 0} {
		items := []kits.NewItem{{Description: "x", Quantity: 1, UnitCostMinor: satang, Currency: kits.THB}}
		if got, _ := kits.Total(items, []kits.NewRate{{Currency: kits.THB, UnitsPerUSD: "20"}}); got != want {
			t.Errorf("%d satang at 20 baht per dollar: %d cents, want %d", satang, got, want)
		}
	}
	if _, ok := kits.Total([]kits.NewItem{{Description: "x", Quantity: 1, UnitCostMinor: 1, Currency: kits.LAK}}, nil); ok {
		t.Error("a LAK item without a LAK rate is priced")
	}
	if got := kits.FormatUSD(123456789); got != "USD 1,234,567.89" {
		t.Errorf("FormatUSD = %q", got)
	}
}
