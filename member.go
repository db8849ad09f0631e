package occsimore

import (
	"context"
	"time"
	"unicode/utf8"
)

// Sectors a member can belong to. Attack statistics are aggregated per sector.
var Sectors = []string{"banking", "pharma", "weather", "transport", "network", "other"}

// ValidSector reports whether s is one of Sectors.
func ValidSector(s string) bool {
	for _, v := range Sectors {
		if v == s {
			return true
		}
	}
	return false
}

// Member is a tenant: one organisation of the lab. No member ever sees
// another member's raw data.
type Member struct {
	ID     string `json:"id"`
	Slug   string `json:"slug"`
	Name   string `json:"name"`
	Sector string `json:"sector"`
	// Operator members run the platform: their admins may create members and
	// list them. They still cannot read another member's objects.
	Operator  bool      `json:"operator"`
	CreatedAt time.Time `json:"created_at"`
}

// Validate checks the fields a caller supplies.
func (m *Member) Validate() error {
	switch {
	case !ValidSlug(m.Slug):
		return FieldErrorf("slug", "slug %q must be 2-40 lowercase letters, digits or hyphens, starting with a letter", m.Slug)
	case m.Name == "" || len(m.Name) > 200:
		return FieldErrorf("name", "name is required and at most 200 characters")
	case !utf8.ValidString(m.Name):
		return FieldErrorf("name", "name is not valid UTF-8")
	case !ValidSector(m.Sector):
		return FieldErrorf("sector", "sector %q is not one of %v", m.Sector, Sectors)
	}
	return nil
}

// MemberService stores members.
type MemberService interface {
	// CreateMember assigns m.ID and m.CreatedAt. A duplicate slug is ECONFLICT.
	CreateMember(ctx context.Context, m *Member) error
	// FindMember returns the member id as seen by the member asking: a member
	// sees itself, an operator sees every member, anyone else gets ENOTFOUND.
	FindMember(ctx context.Context, asking *Member, id string) (*Member, error)
	// FindMemberBySlug is for local administration (the CLI), unscoped.
	FindMemberBySlug(ctx context.Context, slug string) (*Member, error)
	// ListMembers lists what asking may see, by slug.
	ListMembers(ctx context.Context, asking *Member) ([]*Member, error)
}
