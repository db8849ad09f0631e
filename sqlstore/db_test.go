package sqlstore

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRebind(t *testing.T) {
	pg := &DB{dialect: Dialect{Numbered: true}}
	lite := &DB{dialect: Dialect{}}
	for _, tc := range []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"WHERE id = ?", "WHERE id = $1"},
		{"VALUES (?, ?, ?)", "VALUES ($1, $2, $3)"},
		{"a=?,b=?,c=?,d=?,e=?,f=?,g=?,h=?,i=?,j=?", "a=$1,b=$2,c=$3,d=$4,e=$5,f=$6,g=$7,h=$8,i=$9,j=$10"},
	} {
		if got := pg.Rebind(tc.in); got != tc.want {
			t.Errorf("Rebind(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got := lite.Rebind(tc.in); got != tc.in {
			t.Errorf("SQLite Rebind(%q) = %q, want it unchanged", tc.in, got)
		}
	}
}

func FuzzRebind(f *testing.F) {
	f.Add("SELECT a FROM t WHERE b = ? AND c = ?")
	f.Add("??")
	f.Add("")
	f.Fuzz(func(t *testing.T, q string) {
		db := &DB{dialect: Dialect{Numbered: true}}
		got := db.Rebind(q)
		if strings.Contains(got, "?") {
			t.Fatalf("Rebind(%q) = %q still has a ?", q, got)
		}
		// Numbering the placeholders back in order gives the input again.
		n := strings.Count(q, "?")
		back := got
		for i := n; i >= 1; i-- { // $10 before $1
			back = strings.Replace(back, "$"+strconv.Itoa(i), "?", 1)
		}
		if !strings.Contains(q, "$") && back != q {
			t.Fatalf("Rebind(%q) = %q, which does not map back", q, got)
		}
	})
}

func TestTimeEncoding(t *testing.T) {
	zone := time.FixedZone("X", -7*3600)
	in := time.Date(2026, 1, 2, 3, 4, 5, 678901234, zone)
	want := time.Date(2026, 1, 2, 10, 4, 5, 678901000, time.UTC)
	if got := fromMicros(micros(in)); !got.Equal(want) || got.Location() != time.UTC {
		t.Fatalf("round trip of %v = %v, want %v in UTC", in, got, want)
	}
	if got := normTime(in); !got.Equal(want) || got.Location() != time.UTC {
		t.Fatalf("normTime(%v) = %v, want %v", in, got, want)
	}
	if got := nullMicros(time.Time{}); got.Valid {
		t.Fatalf("nullMicros(zero) = %v, want NULL", got)
	}
	if got := fromNullMicros(nullMicros(time.Time{})); !got.IsZero() {
		t.Fatalf("zero time round trip = %v, want zero", got)
	}
	if got := fromNullMicros(nullMicros(in)); !got.Equal(want) {
		t.Fatalf("optional time round trip = %v, want %v", got, want)
	}
	if got := normTime(time.Time{}); !got.IsZero() {
		t.Fatalf("normTime(zero) = %v, want zero", got)
	}
}
