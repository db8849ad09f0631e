package parse

import "testing"

// TestEntryNamed lists the set fields of a parsed sshd line in snake case.
func TestEntryNamed(t *testing.T) {
	t.Parallel()
	e, err := ParseString("Nov 27 04:43:53 web-1 sshd[812]: Invalid user admin from 203.0.113.5 port 52344", Hint{Years: &Years{Year: 2026}})
	if err != nil {
		t.Fatal(err)
	}
	got := e.Named()
	for k, want := range map[string]string{"source_ip": "203.0.113.5", "user": "admin", "host": "web-1", "time": "2026-11-27T04:43:53Z"} {
		if got[k] != want {
			t.Errorf("%s = %q, want %q (all: %v)", k, got[k], want, got)
		}
	}
	for k, v := range got {
		if v == "" || v == "0" {
			t.Errorf("unset field %s listed as %q", k, v)
		}
	}
	if s := snake("SourceIP"); s != "source_ip" {
		t.Errorf("snake(SourceIP) = %q", s)
	}
}
