package occsimore

import (
	"context"
	"net/mail"
	"time"
	"unicode/utf8"
)

// User is a person who logs in to the web console.
type User struct {
	ID           string    `json:"id"`
	MemberID     string    `json:"member_id"`
	Email        string    `json:"email"`
	Name         string    `json:"name"`
	Role         Role      `json:"role"`
	PasswordHash string    `json:"-"` // argon2id, PHC string format
	CreatedAt    time.Time `json:"created_at"`
}

// MinPasswordLength follows NIST SP 800-63B.
const MinPasswordLength = 12

// Validate checks the fields a caller supplies.
func (u *User) Validate() error {
	// Stored as given: invalid UTF-8 is refused, never altered.
	if !utf8.ValidString(u.Email) {
		return FieldErrorf("email", "email is not valid UTF-8")
	}
	if !utf8.ValidString(u.Name) {
		return FieldErrorf("name", "name is not valid UTF-8")
	}
	if a, err := mail.ParseAddress(u.Email); err != nil || a.Address != u.Email {
		return FieldErrorf("email", "email %q is not a plain address such as ana@example.org", u.Email)
	}
	if u.Name == "" || len(u.Name) > 200 {
		return FieldErrorf("name", "name is required and at most 200 characters")
	}
	if !u.Role.Valid() || u.Role == RoleIngest {
		return FieldErrorf("role", "role %q must be admin, analyst or reader", u.Role)
	}
	return nil
}

// Session is a logged-in browser. Only a hash of its cookie value is stored.
type Session struct {
	Hash      []byte
	UserID    string
	MemberID  string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// UserService stores users and their sessions.
type UserService interface {
	// CreateUser assigns u.ID and u.CreatedAt. Emails are unique platform-wide
	// (they are the login name); a duplicate is ECONFLICT.
	CreateUser(ctx context.Context, memberID string, u *User) error
	FindUser(ctx context.Context, memberID, id string) (*User, error)
	ListUsers(ctx context.Context, memberID string) ([]*User, error)
	// SetPassword replaces the user's password hash and ends every one of
	// its sessions.
	SetPassword(ctx context.Context, memberID, id, hash string) error
	// FindUserByEmail is for login only: unscoped, since the member is not
	// known until the password is verified.
	FindUserByEmail(ctx context.Context, email string) (*User, error)

	CreateSession(ctx context.Context, s *Session) error
	// FindSession returns an unexpired session or ENOTFOUND.
	FindSession(ctx context.Context, hash []byte, now time.Time) (*Session, error)
	DeleteSession(ctx context.Context, hash []byte) error
	// DeleteExpiredSessions removes sessions that expired before now.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error)
}
