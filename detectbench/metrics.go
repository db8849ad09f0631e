package detectbench

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/occsimore/occsimore/model"
)

// ReasonKeywords says, for each kind, which words name the broken habit in a
// reason ("code attr" of the engine, the codes of Baseline). They were written
// from the description of each habit, not read from the engine: the
// habit of new_terminals is the card's rate of "never-used terminals and
// merchants"; a device shows by its fingerprint and its user agent.
var ReasonKeywords = map[Kind][]string{
	FarCountry:        {"country"},
	AmountSpike:       {"amount"},
	Night:             {"hour"},
	EcomBurst:         {"velocity", "burst"},
	FastTravel:        {"travel", "speed"},
	NewDevice:         {"device"},
	NewTerminals:      {"terminal", "merchant"},
	Stuffing:          {"velocity", "fail", "burst", "user"},
	SprayThenSuccess:  {"velocity", "fail", "burst", "user"},
	NewDeviceNight:    {"device", "user_agent", "hour"},
	NewCountryHosting: {"country", "asn", "device", "user_agent", "hosting"},
	FarSession:        {"travel", "speed", "country"},
	HomeVPN:           {"asn", "hosting"},
}

// ReasonMatches reports whether reason names the habit kind breaks.
func ReasonMatches(kind Kind, reason string) bool {
	if reason == "" {
		return false
	}
	for _, w := range ReasonKeywords[kind] {
		if strings.Contains(reason, w) {
			return true
		}
	}
	return false
}

// FewOutscoreShare is the largest share of normal rows that may outscore an
// incident's best row for it to count under Measures.FewOutscore.
const FewOutscoreShare = 0.0003

// KindMeasures are the measures of one kind.
type KindMeasures struct {
	Incidents int     `json:"incidents"`
	Rows      int     `json:"rows"`
	FoundTopN int     `json:"found_top_n"`
	AUC       float64 `json:"auc"` // every row of the kind's incidents against every normal row
	// IncidentAUC takes each incident's best row: an incident of several
	// rows (a burst, days of a stolen card) is found by any of them, and
	// its first rows can look exactly like normal ones by construction.
	IncidentAUC  float64 `json:"incident_auc"`
	ReasonsRight int     `json:"reasons_right"`
	FewOutscore  int     `json:"few_outscore"`
}

// Measures are one scorer's results on one Set (see the package doc).
type Measures struct {
	Rows         int                    `json:"rows"`
	NormalRows   int                    `json:"normal_rows"`
	Incidents    int                    `json:"incidents"`
	TopN         int                    `json:"top_n"`
	FoundTopN    float64                `json:"found_top_n_share"`
	RowAP        float64                `json:"row_ap"`
	ReasonsRight float64                `json:"reasons_right_share"`
	FewOutscore  float64                `json:"few_outscore_share"`
	Kinds        map[Kind]*KindMeasures `json:"kinds"`
}

// Measure computes the measures of scores (one per event of s) and reasons
// (the two largest of each event, "" when fewer).
func Measure(s *Set, scores []float64, reasons [][2]string) Measures {
	m := Measures{Rows: len(scores), Incidents: len(s.Incidents), TopN: 3 * len(s.Incidents), Kinds: map[Kind]*KindMeasures{}}
	labels := make([]bool, len(scores))
	var normal []float64
	for i, inc := range s.Incident {
		labels[i] = inc >= 0
		if inc < 0 {
			normal = append(normal, scores[i])
		}
	}
	m.NormalRows = len(normal)
	m.RowAP = model.AveragePrecision(scores, labels)

	// Top N, ties ordered normal rows first: the pessimistic reading.
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		if c := cmp.Compare(scores[b], scores[a]); c != 0 {
			return c
		}
		return cmp.Compare(s.Incident[a], s.Incident[b])
	})
	found := make([]bool, len(s.Incidents))
	for _, i := range idx[:min(m.TopN, len(idx))] {
		if k := s.Incident[i]; k >= 0 {
			found[k] = true
		}
	}
	sorted := slices.Clone(normal)
	slices.Sort(sorted)
	var nFound, nReason, nFew int
	for _, kind := range s.Kinds {
		km := &KindMeasures{}
		m.Kinds[kind] = km
		ks := slices.Clone(normal)
		kl := make([]bool, len(normal), len(normal)+16)
		is := slices.Clone(normal)
		il := make([]bool, len(normal), len(normal)+16)
		for k, inc := range s.Incidents {
			if inc.Kind != kind {
				continue
			}
			km.Incidents++
			best := inc.Rows[0]
			for _, r := range inc.Rows {
				ks = append(ks, scores[r])
				kl = append(kl, true)
				km.Rows++
				if scores[r] > scores[best] {
					best = r
				}
			}
			is = append(is, scores[best])
			il = append(il, true)
			if found[k] {
				km.FoundTopN++
			}
			if ReasonMatches(kind, reasons[best][0]) || ReasonMatches(kind, reasons[best][1]) {
				km.ReasonsRight++
			}
			// Normal rows scoring strictly above the best row.
			above := len(sorted) - sort.SearchFloat64s(sorted, nextUp(scores[best]))
			if float64(above) < FewOutscoreShare*float64(len(normal)) {
				km.FewOutscore++
			}
		}
		km.AUC = model.ROCAUC(ks, kl)
		km.IncidentAUC = model.ROCAUC(is, il)
		nFound += km.FoundTopN
		nReason += km.ReasonsRight
		nFew += km.FewOutscore
	}
	if n := float64(len(s.Incidents)); n > 0 {
		m.FoundTopN, m.ReasonsRight, m.FewOutscore = float64(nFound)/n, float64(nReason)/n, float64(nFew)/n
	}
	return m
}

// nextUp is the smallest float64 above x.
func nextUp(x float64) float64 { return math.Nextafter(x, math.Inf(1)) }

// Mean averages ms, measures of the same kinds over several seeds: shares,
// AP and AUC are averaged, counts summed.
func Mean(ms []Measures) Measures {
	var out Measures
	out.Kinds = map[Kind]*KindMeasures{}
	n := float64(len(ms))
	for _, m := range ms {
		out.Rows += m.Rows
		out.NormalRows += m.NormalRows
		out.Incidents += m.Incidents
		out.TopN += m.TopN
		out.FoundTopN += m.FoundTopN / n
		out.RowAP += m.RowAP / n
		out.ReasonsRight += m.ReasonsRight / n
		out.FewOutscore += m.FewOutscore / n
		for k, km := range m.Kinds {
			o := out.Kinds[k]
			if o == nil {
				o = &KindMeasures{}
				out.Kinds[k] = o
			}
			o.Incidents += km.Incidents
			o.Rows += km.Rows
			o.FoundTopN += km.FoundTopN
			o.ReasonsRight += km.ReasonsRight
			o.FewOutscore += km.FewOutscore
			o.AUC += km.AUC / n
			o.IncidentAUC += km.IncidentAUC / n
		}
	}
	return out
}

// BaselineWins names every measure on which base is strictly better than
// eng, with both values.
func BaselineWins(kinds []Kind, eng, base Measures) []string {
	var out []string
	cmp := func(name string, e, b float64) {
		if b > e {
			out = append(out, fmt.Sprintf("%s (engine %.6g, baseline %.6g)", name, e, b))
		}
	}
	cmp("incidents in top N", eng.FoundTopN, base.FoundTopN)
	cmp("row AP", eng.RowAP, base.RowAP)
	cmp("reasons right", eng.ReasonsRight, base.ReasonsRight)
	cmp("few outscore", eng.FewOutscore, base.FewOutscore)
	for _, k := range kinds {
		e, b := eng.Kinds[k], base.Kinds[k]
		if e == nil || b == nil {
			continue
		}
		cmp(string(k)+" AUC", e.AUC, b.AUC)
		cmp(string(k)+" incident AUC", e.IncidentAUC, b.IncidentAUC)
		cmp(string(k)+" in top N", float64(e.FoundTopN), float64(b.FoundTopN))
		cmp(string(k)+" reasons right", float64(e.ReasonsRight), float64(b.ReasonsRight))
		cmp(string(k)+" few outscore", float64(e.FewOutscore), float64(b.FewOutscore))
	}
	return out
}
