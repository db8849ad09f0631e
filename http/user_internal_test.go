package http

import (
	"testing"

	"github.com/occsimore/occsimore"
)

// Session sign-in is the console's; this checks the rule the password route
// applies once a session principal reaches it.
func TestMayManageUser(t *testing.T) {
	m := &occsimore.Member{ID: "mem_a"}
	cases := []struct {
		p    occsimore.Principal
		id   string
		want bool
	}{
		{occsimore.Principal{Member: m, Role: occsimore.RoleAdmin, TokenID: "tok_1"}, "usr_x", true},
		{occsimore.Principal{Member: m, Role: occsimore.RoleAdmin, UserID: "usr_admin"}, "usr_x", true},
		{occsimore.Principal{Member: m, Role: occsimore.RoleReader, UserID: "usr_x"}, "usr_x", true},
		{occsimore.Principal{Member: m, Role: occsimore.RoleReader, UserID: "usr_y"}, "usr_x", false},
		{occsimore.Principal{Member: m, Role: occsimore.RoleAnalyst, TokenID: "tok_1"}, "usr_x", false},
		{occsimore.Principal{Member: m, Role: occsimore.RoleReader}, "", false},
	}
	for _, c := range cases {
		if got := mayManageUser(&c.p, c.id); got != c.want {
			t.Errorf("mayManageUser(%+v, %q) = %v, want %v", c.p, c.id, got, c.want)
		}
	}
}
