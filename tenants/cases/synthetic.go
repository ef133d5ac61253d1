package cases

import (
	"iter"
	"math/rand/v2"
	"time"
)

// Synthetic case files are fake survivors for load tests and benchmarks
// (homeward seed --synthetic-cases): shaped like AFESIP's caseload (girls
// and young women 12 to 24 at intake, mostly Lao, trafficked to Thailand or
// Malaysia, at every stage of the path) so that lists, search, exports and
// statistics meet realistic data, and made only of invented values. The
// names are common Lao given and family names picked at random, in Lao
// script or in a Latin transliteration as a partner abroad would write
// them; no combination describes anyone.

// syntheticName is one name in both of its usual spellings.
type syntheticName struct{ lao, latin string }

var (
	syntheticGivenNames = []syntheticName{
		{"ສົມພອນ", "Somphone"}, {"ຄຳພອນ", "Khamphone"}, {"ພອນສະຫວັນ", "Phonesavanh"},
		{"ສຸກສະຫວັນ", "Souksavanh"}, {"ມະນີວັນ", "Manivanh"}, {"ວຽງຄຳ", "Viengkham"},
		{"ແສງເດືອນ", "Sengdeuane"}, {"ຈັນທະລາ", "Chanthala"}, {"ວິໄລ", "Vilay"},
		{"ທິບພະວັນ", "Thipphavanh"}, {"ມາລີ", "Maly"}, {"ນາລີ", "Naly"},
		{"ບົວພັນ", "Bouaphanh"}, {"ອຸ່ນເຮືອນ", "Ounheuane"}, {"ສຸດາ", "Souda"},
		{"ແກ້ວມະນີ", "Keomany"}, {"ດາວວອນ", "Daovone"}, {"ນ້ອຍ", "Noy"},
		{"ແສງຈັນ", "Sengchanh"}, {"ອາລຸນີ", "Alouny"}, {"ຄຳຫຼ້າ", "Khamla"},
		{"ສີດາ", "Sida"}, {"ປານີ", "Pany"}, {"ລັດດາ", "Ladda"},
		{"ນິດຕະຍາ", "Nittaya"}, {"ວັນດີ", "Vandy"}, {"ຈັນສະໝອນ", "Chansamone"},
		{"ດວງຈັນ", "Douangchanh"}, {"ເພັດສະໝອນ", "Phetsamone"}, {"ສີວິໄລ", "Sivilay"},
	}
	// syntheticBoysNames: about one case in ten is a boy's.
	syntheticBoysNames = []syntheticName{
		{"ບຸນມີ", "Bounmy"}, {"ສົມສັກ", "Somsack"}, {"ຄຳສີ", "Khamsy"}, {"ທອງດີ", "Thongdy"},
		{"ສີສະຫວາດ", "Sisavath"}, {"ພູມີ", "Phoumy"}, {"ວັນໄຊ", "Vanxay"}, {"ແສງທອງ", "Sengthong"},
	}
	syntheticFamilyNames = []syntheticName{
		{"ພົມມະຈັນ", "Phommachanh"}, {"ສີສຸວັນ", "Sisouvanh"}, {"ວົງສະຫວັນ", "Vongsavanh"},
		{"ພົມວິຫານ", "Phomvihane"}, {"ຈັນທະວົງ", "Chanthavong"}, {"ສຸລິຍະວົງ", "Souliyavong"},
		{"ອິນທະວົງ", "Inthavong"}, {"ແສງສະຫວັນ", "Sengsavanh"}, {"ພິລາວົງ", "Philavong"},
		{"ສີຫາລາດ", "Sihalath"}, {"ໄຊຍະວົງ", "Xayavong"}, {"ບຸບຜາ", "Bouppha"},
		{"ລາດຊະວົງ", "Latsavong"}, {"ດວງມາລາ", "Douangmala"}, {"ຄຳວົງສາ", "Khamvongsa"},
		{"ສີທອງ", "Sithong"}, {"ພັນທະວົງ", "Phanthavong"}, {"ວົງພະຈັນ", "Vongphachanh"},
		{"ສຸວັນນະລາດ", "Souvannalath"}, {"ມະໂນລົມ", "Manolom"}, {"ອຸດົມສຸກ", "Oudomsouk"},
		{"ແກ້ວມະນີວົງ", "Keomanivong"}, {"ດວງສະຫວັນ", "Douangsavanh"}, {"ພຸດທະວົງ", "Phouthavong"},
	}

	// Home provinces with a district and a village of each (villages are
	// "Ban ...": common village names, found in many districts).
	syntheticHomes = []struct{ province, district, village string }{
		{"Savannakhet", "Kaysone Phomvihane", "Ban Nongbua"},
		{"Savannakhet", "Outhoumphone", "Ban Phonsaat"},
		{"Champasak", "Pakse", "Ban Phonsavanh"},
		{"Champasak", "Champasak", "Ban Nongsa"},
		{"Salavan", "Khongsedone", "Ban Nakham"},
		{"Vientiane Province", "Vangvieng", "Ban Natong"},
		{"Vientiane Capital", "Sikhottabong", "Ban Dongnasok"},
		{"Luang Prabang", "Nambak", "Ban Houayhia"},
		{"Bokeo", "Houayxay", "Ban Donkeo"},
		{"Khammouane", "Thakhek", "Ban Nabone"},
		{"Bolikhamxay", "Pakxan", "Ban Phonthong"},
		{"Oudomxay", "Xay", "Ban Nongmeng"},
	}
	// Where the exploitation took place: Thailand mostly, Malaysia often.
	syntheticDestinations = []struct{ city, country string }{
		{"Bangkok", "TH"}, {"Bangkok", "TH"}, {"Pattaya", "TH"}, {"Udon Thani", "TH"},
		{"Nong Khai", "TH"}, {"Chiang Mai", "TH"}, {"Khon Kaen", "TH"}, {"Ubon Ratchathani", "TH"},
		{"Kuala Lumpur", "MY"}, {"Johor Bahru", "MY"}, {"Penang", "MY"},
	}
	// Border crossings on the way.
	syntheticCrossings = []struct{ city, country string }{
		{"Nong Khai", "TH"}, {"Mukdahan", "TH"}, {"Nakhon Phanom", "TH"}, {"Chong Mek", "TH"},
		{"Vientiane", "LA"}, {"Savannakhet", "LA"},
	}
	syntheticReferrers = []string{
		"Ministry of Social Development and Human Security (Thailand)",
		"Vientiane transit centre, Ministry of Labour and Social Welfare",
		"Anti-trafficking police, Vientiane Capital",
		"Partner NGO shelter, Nong Khai",
		"Partner NGO, Kuala Lumpur",
		"Village vigilance committee",
	}
	syntheticReferredTo = []string{
		"Provincial social welfare office",
		"Partner vocational training centre",
		"Government reception centre",
	}
	syntheticClosures = []string{
		"Follow-up completed: three years after reintegration, living with her family and working.",
		"Follow-up completed: settled in Vientiane with a stable job; she asked to end the visits.",
		"She moved away with her family; the follow-up ended by agreement.",
		"Reached adulthood, married and settled; no further support needed.",
		"Contact lost after repeated visits; closed after the agreed period.",
	}
	syntheticMedicalNotes = []string{
		"General check-up at intake: no acute condition. Vaccinations updated.",
		"Referred to the National Mother and Child Hospital for follow-up; attended both appointments.",
		"Dental care arranged; minor treatment completed.",
	}
	syntheticPsychologicalNotes = []string{
		"Initial assessment done; sleeps badly, withdrawn in groups. Weekly sessions agreed.",
		"Follow-up sessions: more confident, takes part in group activities.",
		"Joined the art and yoga activities; sessions reduced to twice a month.",
	}
	syntheticLegalNotes = []string{
		"Informed of her rights as a victim of trafficking (Article 25, Lao Penal Code). Does not wish a lawsuit for now.",
		"Wishes to file a complaint; statement prepared with the lawyer for the police.",
	}
	syntheticApps    = []string{"Facebook", "FacebookMessenger", "WhatsApp", "Line", "TikTok"}
	syntheticControl = []string{"DebtBondage", "FalsePromises", "WithholdsDocuments", "PsychologicalAbuse",
		"TakesEarnings", "RestrictsFinancialAccess", "ExcessiveWorkingHours", "PhysicalThreats"}
	// syntheticAgeWeights: how many in a hundred are of each age at intake, from 12.
	syntheticAgeWeights = []int{3, 6, 10, 14, 16, 15, 12, 8, 6, 4, 3, 2, 1}
)

// syntheticStages: how the caseload spreads over the path.
var syntheticStages = []struct {
	stage  Stage
	weight int
}{
	{StageIntake, 15}, {StageShelter, 40}, {StageReintegrated, 25}, {StageClosed, 15}, {StageReferred, 5},
}

// SyntheticCases yields n fake case files, the same ones for the same seed
// and now (the day their dates are counted back from); each passes
// NormalizeValues on that day.
func SyntheticCases(seed uint64, n int, now time.Time) iter.Seq[NewCase] {
	return func(yield func(NewCase) bool) {
		g := synthetic{rng: rand.New(rand.NewPCG(seed, 0x686f6d6577617264)), today: day(now)}
		for range n {
			if !yield(g.next()) {
				return
			}
		}
	}
}

type synthetic struct {
	rng   *rand.Rand
	today time.Time
}

func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func (g *synthetic) pick(list []string) string { return list[g.rng.IntN(len(list))] }

// chance is true p percent of the time.
func (g *synthetic) chance(p int) bool { return g.rng.IntN(100) < p }

// some picks between lo and hi distinct values of list.
func (g *synthetic) some(list []string, lo, hi int) []string {
	k := lo + g.rng.IntN(hi-lo+1)
	out := make([]string, 0, k)
	for _, i := range g.rng.Perm(len(list))[:k] {
		out = append(out, list[i])
	}
	return out
}

// daysBefore is the day d days before t, as YYYY-MM-DD.
func daysBefore(t time.Time, d int) string { return t.AddDate(0, 0, -d).Format(time.DateOnly) }

func (g *synthetic) next() NewCase {
	r := g.rng
	age := 12
	for w := r.IntN(100); w >= syntheticAgeWeights[age-12]; age++ {
		w -= syntheticAgeWeights[age-12]
	}
	// Born age years and up to a year before today: age at intake is age.
	birth := g.today.AddDate(-age, 0, -r.IntN(365))

	gender, names := "Feminine", syntheticGivenNames
	if g.chance(10) {
		gender, names = "Masculine", syntheticBoysNames
	}
	given, family := names[r.IntN(len(names))], syntheticFamilyNames[r.IntN(len(syntheticFamilyNames))]
	first, second := given.lao, family.lao
	if g.chance(35) { // recorded abroad, in Latin letters
		first, second = given.latin, family.latin
	}
	home := syntheticHomes[r.IntN(len(syntheticHomes))]
	dest := syntheticDestinations[r.IntN(len(syntheticDestinations))]
	crossing := syntheticCrossings[r.IntN(len(syntheticCrossings))]

	// The path: recruited, exploited for months, referred, then intake.
	referral := 20 + r.IntN(400)
	exploited := referral + 30 + r.IntN(500)
	recruited := exploited + 3 + r.IntN(40)
	ageWhenTrafficked := max(age-(recruited/365), 10)

	values := map[string]any{
		"prs_FirstName":               first,
		"prs_SecondName":              second,
		"prs_Birthdate":               birth.Format(time.DateOnly),
		"prs_Gender":                  gender,
		"prs_MaritalStatus":           "Single",
		"prs_PrimaryLanguage":         "lao",
		"prs_Citizenship":             []string{"LA"},
		"prs_HighestLevelOfEducation": g.pick([]string{"PrimaryEducation", "PrimaryEducation", "LowerSecondaryEducation", "EarlyChildhoodEducation"}),

		"vic_TraffickingStatus":                  g.pick([]string{"ActualVictimOfTrafficking", "ActualVictimOfTrafficking", "ActualVictimOfTrafficking", "PossibleVictimOfTrafficking"}),
		"vic_TraffickingStatusDecisionMakingOrg": g.pick([]string{"Police", "NGO", "NonPoliceGovernmentalOrganization"}),
		"vic_RelationshipToTrafficker":           g.pick([]string{"Acquainted", "Acquainted", "Familial", "Unaquainted"}),
		"vic_AgeWhenTrafficked":                  ageWhenTrafficked,
		"vic_LocationOfRecruitment":              home.village + ", " + home.district + ", " + home.province,
		"vic_LocationOfExploitation":             dest.city + ", " + dest.country,
		"vic_MethodsOfControl":                   g.some(syntheticControl, 1, 4),
		"vic_Vulnerabilities":                    g.some([]string{"Poverty", "Education", "Migration", "AbuseSocialMedia"}, 1, 2),
		"cas_ReferringOrganisation":              g.pick(syntheticReferrers),
		"cas_IncomingReferralDate":               daysBefore(g.today, referral),

		"family_home_village":   home.village,
		"family_home_district":  home.district,
		"family_home_province":  home.province,
		"family_tracing_status": g.pick([]string{"Found", "Found", "Found", "InProgress", "NotStarted", "NotFound"}),
	}
	if g.chance(45) {
		values["vic_MethodOfRecruitment"] = []string{"ThroughOnlineSocialNetworks"}
		values["vic_RecruitmentWebsitesAndApps"] = g.some(syntheticApps, 1, 2)
	} else {
		values["vic_MethodOfRecruitment"] = []string{g.pick([]string{"ThroughFriendsOrSocialEvents", "ThroughFamilyOrFamilyEvents", "AtWork"})}
	}
	switch w := r.IntN(100); {
	case w < 80:
		values["vic_TypeOfExploitation"] = []string{"SexualExploitation"}
		values["vic_TypeOfSexExploitation"] = []string{g.pick([]string{"Prostitution", "Prostitution", "PrivateSexualServices", "RemoteInteractiveServices"})}
	case w < 92:
		values["vic_TypeOfExploitation"] = []string{g.pick([]string{"ForcedLabour", "Servitude"})}
	default:
		values["vic_TypeOfExploitation"] = []string{"ForcedMarriage"}
	}
	if g.chance(60) {
		values["medical_notes"] = g.pick(syntheticMedicalNotes)
	}
	if g.chance(60) {
		values["psychological_notes"] = g.pick(syntheticPsychologicalNotes)
	}
	if g.chance(30) {
		values["legal_notes"] = g.pick(syntheticLegalNotes)
		values["per_RoleInProcess"] = g.some([]string{"RecruiterOrIntermediary", "Transporter", "Exploiter", "BrokerTravelAgent"}, 1, 2)
	}

	w, stage := r.IntN(100), StageIntake
	for _, s := range syntheticStages {
		if w < s.weight {
			stage = s.stage
			break
		}
		w -= s.weight
	}
	switch stage {
	case StageClosed:
		values["cas_ReasonForCaseClosure"] = g.pick(syntheticClosures)
	case StageReferred:
		values["cas_ReferredOrganisation"] = g.pick(syntheticReferredTo)
		values["cas_OutgoingReferralDate"] = daysBefore(g.today, r.IntN(referral))
	}

	return NewCase{
		Values: values,
		Events: []Event{
			{Type: "Recruitment", Date: daysBefore(g.today, recruited), City: home.district, Country: "LA"},
			{Type: "Transit", Date: daysBefore(g.today, recruited-1), City: crossing.city, Country: crossing.country},
			{Type: "Exploitation", Date: daysBefore(g.today, exploited), City: dest.city, Country: dest.country},
		},
		Consents: g.consents(referral),
		Stage:    stage,
	}
}

// consents: services for nearly all, statistics for most, the others for
// some; given by the girl or, for a child, often her family or guardian,
// between the referral and today.
func (g *synthetic) consents(referral int) []NewConsent {
	var out []NewConsent
	add := func(p Purpose, percent int) {
		if !g.chance(percent) {
			return
		}
		out = append(out, NewConsent{
			Purpose: p,
			GivenBy: g.pick([]string{GivenByGirl, GivenByGirl, GivenByFamily, GivenByGuardian}),
			GivenOn: daysBefore(g.today, g.rng.IntN(referral+1)),
			Basis:   g.pick([]string{BasisSignedForm, BasisSignedForm, BasisRecordedVerbal}),
		})
	}
	add(PurposeServices, 95)
	add(PurposeStatistics, 85)
	add(PurposeFamilyTracing, 60)
	add(PurposeHIVSTITesting, 40)
	sharing := len(out)
	add(PurposeSharing, 25)
	if len(out) > sharing {
		add(PurposeHealthSharing, 40) // on top of sharing only
	}
	return out
}
