package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/auth"
	"github.com/occsimore/occsimore/sqlstore"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func (m *Main) userCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Manage people who log in to the web console",
	}
	var member, email, name, role string
	var passwordStdin bool
	addCmd := &cobra.Command{
		Use:     "add",
		Short:   "Add a console user with an argon2id-hashed password",
		Example: "  printf '%s\\n' \"$PASSWORD\" | occsimore user add --member banque-alpes --email ana@bank.example --name Ana --role analyst --password-stdin",
		Args:    argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			u := &occsimore.User{Email: email, Name: name, Role: occsimore.Role(role)}
			if err := u.Validate(); err != nil {
				return err
			}
			password, err := m.readPassword(passwordStdin)
			if err != nil {
				return err
			}
			if err := auth.CheckPassword(password, u.Email, u.Name); err != nil {
				return err
			}
			if u.PasswordHash, err = auth.HashPassword(password, auth.DefaultArgon2); err != nil {
				return err
			}
			return m.withStore(cmd.Context(), func(db *sqlstore.DB) error {
				mem, err := memberBySlug(cmd.Context(), db, member)
				if err != nil {
					return err
				}
				if err := db.CreateUser(cmd.Context(), mem.ID, u); err != nil {
					return fmt.Errorf("add user %s: %w", u.Email, err)
				}
				return m.print(u, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "added user %s (%s, role %s) to %s\n", u.Email, u.ID, u.Role, mem.Slug)
					return err
				})
			})
		},
	}
	addCmd.Flags().StringVar(&member, "member", "", "member slug")
	addCmd.Flags().StringVar(&email, "email", "", "login email")
	addCmd.Flags().StringVar(&name, "name", "", "display name")
	addCmd.Flags().StringVar(&role, "role", string(occsimore.RoleAnalyst), "admin, analyst or reader")
	addCmd.Flags().BoolVar(&passwordStdin, "password-stdin", false, "read the password from the first line of standard input")

	passwdCmd := &cobra.Command{
		Use:   "passwd",
		Short: "Set a user's password",
		Args:  argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			password, err := m.readPassword(passwordStdin)
			if err != nil {
				return err
			}
			if err := auth.CheckPassword(password, email); err != nil {
				return err
			}
			hash, err := auth.HashPassword(password, auth.DefaultArgon2)
			if err != nil {
				return err
			}
			return m.withStore(cmd.Context(), func(db *sqlstore.DB) error {
				mem, err := memberBySlug(cmd.Context(), db, member)
				if err != nil {
					return err
				}
				u, err := db.FindUserByEmail(cmd.Context(), email)
				if err != nil || u.MemberID != mem.ID {
					return occsimore.Errorf(occsimore.ENOTFOUND, "user %q not found in member %s", email, mem.Slug)
				}
				if err := db.SetPassword(cmd.Context(), mem.ID, u.ID, hash); err != nil {
					return fmt.Errorf("set password: %w", err)
				}
				return m.print(map[string]string{"user": u.ID, "password": "changed"}, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "password changed for %s\n", u.Email)
					return err
				})
			})
		},
	}
	passwdCmd.Flags().StringVar(&member, "member", "", "member slug")
	passwdCmd.Flags().StringVar(&email, "email", "", "login email")
	passwdCmd.Flags().BoolVar(&passwordStdin, "password-stdin", false, "read the password from the first line of standard input")
	cmd.AddCommand(addCmd, passwdCmd)
	return cmd
}

// readPassword reads from standard input when asked to, and otherwise prompts
// twice on a terminal. Passwords are never taken from flags, which leak into
// shell history and process lists.
func (m *Main) readPassword(fromStdin bool) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(m.Stdin).ReadString('\n')
		if err != nil && (err != io.EOF || line == "") {
			return "", usageError{fmt.Errorf("--password-stdin: read standard input: %w", err)}
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	f, ok := m.Stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", usageError{fmt.Errorf("no terminal to prompt for a password: pass --password-stdin and write it to standard input")}
	}
	fmt.Fprint(m.Stderr, "Password: ")
	p1, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(m.Stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	fmt.Fprint(m.Stderr, "Again: ")
	p2, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(m.Stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	if string(p1) != string(p2) {
		return "", occsimore.FieldErrorf("password", "the two passwords differ")
	}
	return string(p1), nil
}
