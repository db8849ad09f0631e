package pipeline

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"

	"github.com/occsimore/occsimore/behavior"
)

// TestZeroNonFinite checks that a profile view holding NaN and infinities,
// as a snapshot written before the bounds on events may, becomes encodable
// JSON with every finite value kept.
func TestZeroNonFinite(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	v := behavior.ProfileView{
		Events:      3,
		Numeric:     []behavior.NumericView{{Attr: "amount", Count: 2, Mean: nan, Std: inf}},
		Categorical: []behavior.CategoricalView{{Count: 1, Top: []behavior.ValueShare{{Value: "FR", Share: -inf}}}},
		Hours:       &behavior.HoursView{Events: 2},
		Gap:         &behavior.GapView{Count: 1, TypicalSeconds: 60, LogStd: nan},
	}
	v.Hours.HourOfWeek[3][4] = nan
	if _, err := json.Marshal(v); err == nil {
		t.Fatal("the poisoned view encodes as it is: the test checks nothing")
	}
	if n := zeroNonFinite(reflectValue(&v)); n != 5 {
		t.Errorf("zeroNonFinite = %d, want 5", n)
	}
	if _, err := json.Marshal(v); err != nil {
		t.Fatalf("after zeroNonFinite: %v", err)
	}
	if v.Numeric[0].Count != 2 || v.Numeric[0].Mean != 0 || v.Gap.TypicalSeconds != 60 || v.Hours.Events != 2 || v.Events != 3 {
		t.Errorf("finite values changed or non-finite ones kept: %+v %+v %+v", v.Numeric[0], v.Gap, v.Hours.Events)
	}
}

func reflectValue(v *behavior.ProfileView) reflect.Value { return reflect.ValueOf(v).Elem() }
