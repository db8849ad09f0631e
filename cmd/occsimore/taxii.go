package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"text/tabwriter"
	"time"

	"github.com/occsimore/occsimore/config"
	occhttp "github.com/occsimore/occsimore/http"
	"github.com/occsimore/occsimore/sqlstore"
	"github.com/occsimore/occsimore/stix"
	"github.com/occsimore/occsimore/taxii"
	"github.com/spf13/cobra"
)

// taxiiConfig builds the server's TAXII settings from the configuration, or
// nil when taxii.enabled is false.
func taxiiConfig(c config.Config, db *sqlstore.DB, logger *slog.Logger) (*occhttp.TAXIIConfig, error) {
	t := c.TAXII
	if !t.Enabled {
		return nil, nil
	}
	validator, err := stix.NewValidator()
	if err != nil {
		return nil, fmt.Errorf("taxii: STIX schemas: %w", err)
	}
	key := []byte(t.CursorKey)
	if len(key) == 0 {
		key = make([]byte, 32)
		rand.Read(key)
		logger.Info("taxii.cursor_key is not set: next cursors are signed with a key of this process only")
	}
	return &occhttp.TAXIIConfig{Store: db, Cursors: taxii.NewCursors(key), Title: t.Title, Description: t.Description,
		Contact: t.Contact, Root: t.Root, PublicURL: t.PublicURL, MaxPageSize: t.MaxPageSize,
		MaxContentLength: t.MaxContentLength, MaxConcurrent: t.MaxConcurrent, Check: stixCheck(validator)}, nil
}

// stixCheck validates a POST's objects with the STIX codec: the OASIS
// schemas (through v) and the rules they cannot check (pattern syntax,
// modified >= created, reference types). A refused object's reason names
// its JSON path in the envelope, e.g. /objects/3/pattern.
func stixCheck(v *stix.Validator) func([]json.RawMessage) map[int]string {
	return func(objs []json.RawMessage) map[int]string {
		// The envelope's objects, checked as one bundle: Import checks each
		// object on its own and keeps the rest.
		b := make([]byte, 0, 96+len(objs)*512)
		b = append(b, `{"type":"bundle","id":"bundle--`...)
		b = append(b, taxii.NewUUID()...)
		b = append(b, `","objects":[`...)
		for i, o := range objs {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, o...)
		}
		b = append(b, "]}"...)
		res, err := stix.Import(b, v)
		if err != nil { // the objects are not even a list of JSON values
			out := make(map[int]string, len(objs))
			for i := range objs {
				out[i] = "not a STIX object: " + err.Error()
			}
			return out
		}
		out := make(map[int]string, len(res.Rejected))
		for _, r := range res.Rejected {
			out[r.Index] = r.Err.Error()
		}
		return out
	}
}

// scheduledPull returns the sync of the configuration's taxii.pull_* keys,
// or nil when taxii.pull_url is empty.
func scheduledPull(ctx context.Context, c config.Config, db *sqlstore.DB, logger *slog.Logger) (*taxii.Sync, error) {
	t := c.TAXII
	if t.PullURL == "" {
		return nil, nil
	}
	m, err := memberBySlug(ctx, db, t.PullMember)
	if err != nil {
		return nil, configError{fmt.Errorf("taxii.pull_member %q: %w", t.PullMember, err)}
	}
	validator, err := stix.NewValidator()
	if err != nil {
		return nil, fmt.Errorf("taxii: STIX schemas: %w", err)
	}
	return &taxii.Sync{
		Check: stixCheck(validator),
		Client: &taxii.Client{HTTP: &http.Client{Timeout: 2 * time.Minute}, Root: t.PullURL, Token: t.PullToken,
			User: t.PullUser, Password: t.PullPassword},
		Remote: t.PullCollection, Store: db, Member: m.ID, Local: t.PullInto,
		Name: t.PullURL + "#" + t.PullCollection, Now: time.Now, Logger: logger,
	}, nil
}

func (m *Main) taxiiCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "taxii",
		Short: "Manage TAXII 2.1 collections and pull from peers",
		Long: `TAXII 2.1 collections hold the STIX objects members share: one per sharing group,
each member with its own rights to read and write. 'serve' answers TAXII under
/taxii2/ (see docs/api.md); 'taxii pull' copies a peer's collection into a local one.`,
	}
	var col taxii.Collection
	create := &cobra.Command{
		Use:     "create",
		Short:   "Create a collection",
		Example: "  occsimore taxii create --title 'Banking sharing group'",
		Args:    argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return m.withStore(cmd.Context(), func(db *sqlstore.DB) error {
				if err := db.CreateCollection(cmd.Context(), &col); err != nil {
					return fmt.Errorf("create collection: %w", err)
				}
				return m.print(&col, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "created collection %s (%s)\n", col.ID, col.Title)
					return err
				})
			})
		},
	}
	create.Flags().StringVar(&col.Title, "title", "", "title shown to members")
	create.Flags().StringVar(&col.Description, "description", "", "description")
	create.Flags().StringVar(&col.ID, "id", "", "collection id (a UUID); default: a new one")

	var g struct {
		collection, member string
		read, write        bool
	}
	grant := &cobra.Command{
		Use:     "grant",
		Short:   "Set a member's rights on a collection (neither --read nor --write revokes)",
		Example: "  occsimore taxii grant --collection 0b0b... --member banque-alpes --read --write",
		Args:    argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return m.withStore(cmd.Context(), func(db *sqlstore.DB) error {
				mem, err := memberBySlug(cmd.Context(), db, g.member)
				if err != nil {
					return err
				}
				if err := db.Grant(cmd.Context(), g.collection, mem.ID, g.read, g.write); err != nil {
					return fmt.Errorf("grant: %w", err)
				}
				v := map[string]any{"collection": g.collection, "member": mem.Slug, "can_read": g.read, "can_write": g.write}
				return m.print(v, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "%s on %s: read %t, write %t\n", mem.Slug, g.collection, g.read, g.write)
					return err
				})
			})
		},
	}
	grant.Flags().StringVar(&g.collection, "collection", "", "collection id")
	grant.Flags().StringVar(&g.member, "member", "", "member slug")
	grant.Flags().BoolVar(&g.read, "read", false, "the member may read the collection")
	grant.Flags().BoolVar(&g.write, "write", false, "the member may add objects to the collection")

	var member string
	list := &cobra.Command{
		Use:   "list",
		Short: "List the collections a member sees",
		Args:  argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return m.withStore(cmd.Context(), func(db *sqlstore.DB) error {
				mem, err := memberBySlug(cmd.Context(), db, member)
				if err != nil {
					return err
				}
				cs, err := db.ListCollections(cmd.Context(), mem.ID)
				if err != nil {
					return err
				}
				return m.print(cs, func(w io.Writer) error {
					tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "ID\tTITLE\tREAD\tWRITE")
					for _, c := range cs {
						fmt.Fprintf(tw, "%s\t%s\t%t\t%t\n", c.ID, c.Title, c.CanRead, c.CanWrite)
					}
					return tw.Flush()
				})
			})
		},
	}
	list.Flags().StringVar(&member, "member", "", "member slug")

	var every time.Duration
	pull := &cobra.Command{
		Use:   "pull",
		Short: "Pull the peer collection of the taxii.pull_* keys into the local one, once or --every",
		Long: `Pull a remote TAXII 2.1 collection (another occsimore, or any TAXII 2.1 server) into a
local collection, page by page, saving where it stands after each page: an interrupted
pull resumes, and versions already held are not stored twice. The source is set by the
configuration keys taxii.pull_url, pull_collection, pull_into, pull_member and
pull_token (or pull_user and pull_password), e.g. OCCSIMORE_TAXII_PULL_TOKEN_FILE.`,
		Example: "  OCCSIMORE_TAXII_PULL_URL=https://peer/taxii2/lab/ OCCSIMORE_TAXII_PULL_COLLECTION=... \\\n" +
			"  OCCSIMORE_TAXII_PULL_INTO=... OCCSIMORE_TAXII_PULL_MEMBER=banque-alpes occsimore taxii pull",
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := m.loadConfig()
			if err != nil {
				return err
			}
			if c.TAXII.PullURL == "" {
				return configError{fmt.Errorf("taxii.pull_url is not set (OCCSIMORE_TAXII_PULL_URL)")}
			}
			logger := m.logger(c)
			return m.withStore(cmd.Context(), func(db *sqlstore.DB) error {
				s, err := scheduledPull(cmd.Context(), c, db, logger)
				if err != nil {
					return err
				}
				if every > 0 {
					return s.Loop(cmd.Context(), every)
				}
				res, err := s.Run(cmd.Context())
				if err != nil {
					return err
				}
				return m.print(res, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "pulled %d pages: %d versions stored, %d already held, %d rejected\n",
						res.Pages, res.Objects, res.Held, res.Rejected)
					return err
				})
			})
		},
	}
	pull.Flags().DurationVar(&every, "every", 0, "pull again at this interval until interrupted (0: once)")
	cmd.AddCommand(create, grant, list, pull)
	return cmd
}
