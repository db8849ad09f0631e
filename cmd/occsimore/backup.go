package main

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/config"
	occhttp "github.com/occsimore/occsimore/http"
	"github.com/occsimore/occsimore/journal"
	"github.com/occsimore/occsimore/pipeline"
	"github.com/occsimore/occsimore/sqlite"
	"github.com/occsimore/occsimore/sqlstore"
	"github.com/spf13/cobra"
)

// A backup is a gzipped tar of three files:
//
//	backup.json                 the manifest (backupManifest)
//	occsimore.db                the SQLite store, copied with VACUUM INTO
//	journal/<seq>.snap          the profile snapshot covering record seq
//
// taken while the pipeline is paused (pipeline.Pause): the store holds the
// alerts of exactly the events the snapshot has folded in, so no journal
// segment is needed and a restored server answers as the original did then.
const (
	backupManifestName = "backup.json"
	backupJournalDir   = "journal"
	backupRoutePattern = "POST /v1/admin/backup"
)

type backupManifest struct {
	Format  int       `json:"format"` // 1
	Created time.Time `json:"created"`
	// Seq is the last journal record the snapshot covers; 0: none yet.
	Seq   uint64              `json:"seq"`
	Store string              `json:"store"` // sqlite
	Build occsimore.BuildInfo `json:"build"`
}

// backupRoute serves POST /v1/admin/backup to operator admins: it streams a
// consistent backup of the SQLite store and the profiles. Ingestion pauses
// while the store is copied, not while the backup is sent.
func backupRoute(c config.Config, db *sqlstore.DB, pl *pipeline.Pipeline, logger *slog.Logger) occhttp.Route {
	h := func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if db.Driver() != "sqlite" {
			occhttp.Error(w, r, logger, occsimore.Errorf(occsimore.EINVALID,
				"backup covers the SQLite store only; back up PostgreSQL with its own tools (docs/operations.md)"))
			return
		}
		staging, err := os.MkdirTemp(c.Store.DataDir, ".backup-*")
		if err != nil {
			occhttp.Error(w, r, logger, fmt.Errorf("backup: %w", err))
			return
		}
		defer os.RemoveAll(staging)
		man := backupManifest{Format: 1, Store: "sqlite", Build: buildInfo()}
		start := time.Now()
		err = pl.Pause(ctx, func(seq uint64) error {
			man.Seq, man.Created = seq, time.Now().UTC()
			if _, err := db.SQL().ExecContext(ctx, "VACUUM INTO ?", filepath.Join(staging, sqlite.FileName)); err != nil {
				return fmt.Errorf("copy the store: %w", err)
			}
			if seq == 0 {
				return nil
			}
			if err := os.Mkdir(filepath.Join(staging, backupJournalDir), 0o700); err != nil {
				return err
			}
			return journal.CopySnapshot(c.JournalPath(), seq, filepath.Join(staging, backupJournalDir, journal.SnapshotName(seq)))
		})
		if err != nil {
			occhttp.Error(w, r, logger, fmt.Errorf("backup: %w", err))
			return
		}
		logger.Info("backup taken", "seq", man.Seq, "paused", time.Since(start).Round(time.Millisecond))
		mb, _ := json.MarshalIndent(man, "", "  ")
		if err := os.WriteFile(filepath.Join(staging, backupManifestName), append(mb, '\n'), 0o600); err != nil {
			occhttp.Error(w, r, logger, fmt.Errorf("backup: %w", err))
			return
		}
		// A large store takes longer to send than server.write_timeout.
		_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
		w.Header().Set("Content-Type", "application/gzip")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="occsimore-backup-%s.tar.gz"`, man.Created.Format("20060102T150405Z")))
		if err := writeTarGz(w, staging); err != nil {
			// The status is sent: the client sees a truncated archive.
			logger.Error("send backup", "err", err)
		}
	}
	return occhttp.Route{Pattern: backupRoutePattern, Handler: http.HandlerFunc(h), Perm: occsimore.PermManage, OperatorOnly: true}
}

// writeTarGz writes the regular files under dir, manifest first.
func writeTarGz(w io.Writer, dir string) error {
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	names := []string{backupManifestName}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err == nil && rel != backupManifestName {
			names = append(names, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		return err
	}
	for _, name := range names {
		if err := addTarFile(tw, dir, name); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

func addTarFile(tw *tar.Writer, dir, name string) error {
	f, err := os.Open(filepath.Join(dir, filepath.FromSlash(name)))
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: st.Size(), ModTime: st.ModTime(), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	_, err = io.Copy(tw, f)
	return err
}

func (m *Main) backupCommand() *cobra.Command {
	var serverURL, token, tokenFile string
	cmd := &cobra.Command{
		Use:   "backup FILE",
		Short: "Take a consistent backup of a running server's store and profiles",
		Long: `Ask the running server (POST /v1/admin/backup, an admin token of an operator
member) for a backup and write it to FILE (a .tar.gz; "-" for standard output).

The server pauses ingestion while it writes a checkpoint and copies the SQLite
store (VACUUM INTO), so that the store's alerts and the profiles match; events
sent meanwhile wait, none is refused. 'occsimore restore FILE' puts a backup
into an empty data directory. PostgreSQL stores are backed up with their own
tools (docs/operations.md).`,
		Example: `  occsimore backup --url http://127.0.0.1:8080 --token-file /root/occsimore-admin.token /var/backups/occsimore.tar.gz`,
		Args:    argsUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			bearer, err := readToken(token, tokenFile, "an admin token of an operator member: occsimore token create --role admin")
			if err != nil {
				return err
			}
			if !strings.HasPrefix(serverURL, "http://") && !strings.HasPrefix(serverURL, "https://") {
				return usageError{fmt.Errorf("--url %q must be an http(s) URL such as http://127.0.0.1:8080", serverURL)}
			}
			man, n, err := fetchBackup(cmd.Context(), strings.TrimSuffix(serverURL, "/"), bearer, args[0], m.Stdout)
			if err != nil {
				return err
			}
			if args[0] == "-" {
				return nil
			}
			out := struct {
				File  string `json:"file"`
				Bytes int64  `json:"bytes"`
				backupManifest
			}{args[0], n, man}
			return m.print(out, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "backup %s: %d bytes, journal record %d, taken %s\n", args[0], n, man.Seq, man.Created.Format(time.RFC3339))
				return err
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&serverURL, "url", "http://127.0.0.1:8080", "server base URL")
	f.StringVar(&token, "token", "", "admin bearer token of an operator member (visible in the process list: prefer --token-file)")
	f.StringVar(&tokenFile, "token-file", "", "file holding the bearer token")
	return cmd
}

// readToken takes the bearer token from --token or --token-file.
func readToken(token, tokenFile, what string) (string, error) {
	switch {
	case token != "" && tokenFile != "":
		return "", usageError{errors.New("give --token or --token-file, not both")}
	case tokenFile != "":
		b, err := os.ReadFile(tokenFile)
		if err != nil {
			return "", usageError{fmt.Errorf("--token-file: %w", err)}
		}
		token = strings.TrimSpace(string(b))
	}
	if token == "" {
		return "", usageError{fmt.Errorf("--token or --token-file is required (%s)", what)}
	}
	return token, nil
}

// fetchBackup downloads a backup to path (or stdout for "-"), checking as
// it goes that the archive is whole. A file is written under a temporary
// name and renamed once complete.
func fetchBackup(ctx context.Context, base, bearer, path string, stdout io.Writer) (backupManifest, int64, error) {
	var man backupManifest
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/admin/backup", nil)
	if err != nil {
		return man, 0, usageError{err}
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return man, 0, &occsimore.Error{Code: occsimore.EUNAVAILABLE, Message: fmt.Sprintf("backup: %v", err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var p struct{ Detail string }
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if json.Unmarshal(b, &p) != nil || p.Detail == "" {
			p.Detail = strings.TrimSpace(string(b))
		}
		code := occsimore.EINTERNAL
		switch {
		case resp.StatusCode == http.StatusServiceUnavailable:
			code = occsimore.EUNAVAILABLE
		case resp.StatusCode < 500:
			code = occsimore.EINVALID
		}
		return man, 0, &occsimore.Error{Code: code, Message: fmt.Sprintf("backup: server answered %s: %s", resp.Status, p.Detail)}
	}
	var w io.Writer = stdout
	var f *os.File
	if path != "-" {
		f, err = os.OpenFile(path+".part", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return man, 0, err
		}
		defer func() {
			if f != nil {
				f.Close()
				os.Remove(path + ".part")
			}
		}()
		w = f
	}
	cw := &countWriter{w: w}
	man, err = readBackup(io.TeeReader(resp.Body, cw), nil)
	if err != nil {
		return man, cw.n, fmt.Errorf("backup from the server: %w", err)
	}
	if f != nil {
		if err := f.Sync(); err != nil {
			return man, cw.n, err
		}
		if err := f.Close(); err != nil {
			return man, cw.n, err
		}
		f = nil
		if err := os.Rename(path+".part", path); err != nil {
			return man, cw.n, err
		}
	}
	return man, cw.n, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// readBackup reads a backup archive to its end, checks its manifest and
// names, and calls file, if set, with each file's name and contents.
func readBackup(r io.Reader, file func(name string, r io.Reader) error) (backupManifest, error) {
	var man backupManifest
	gz, err := gzip.NewReader(r)
	if err != nil {
		return man, fmt.Errorf("not a backup archive: %w", err)
	}
	tr := tar.NewReader(gz)
	seen := map[string]bool{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return man, fmt.Errorf("backup archive is damaged or cut short: %w", err)
		}
		name := h.Name
		switch {
		case name == backupManifestName:
			if err := json.NewDecoder(tr).Decode(&man); err != nil {
				return man, fmt.Errorf("%s: %w", name, err)
			}
			if man.Format != 1 || man.Store != "sqlite" {
				return man, fmt.Errorf("%s: format %d of store %q: this release reads format 1 of sqlite", name, man.Format, man.Store)
			}
		case name == sqlite.FileName, man.Seq > 0 && name == backupJournalDir+"/"+journal.SnapshotName(man.Seq):
		default:
			return man, fmt.Errorf("backup archive holds an unexpected file %q", name)
		}
		if len(seen) == 0 && name != backupManifestName {
			return man, fmt.Errorf("backup archive does not start with %s", backupManifestName)
		}
		seen[name] = true
		if file != nil {
			if err := file(name, damageReader{tr}); err != nil {
				return man, err
			}
		}
		if _, err := io.Copy(io.Discard, tr); err != nil {
			return man, fmt.Errorf("backup archive is damaged or cut short: %w", err)
		}
	}
	// The gzip trailer's checksum is checked at its end.
	if _, err := io.Copy(io.Discard, gz); err != nil {
		return man, fmt.Errorf("backup archive is damaged or cut short: %w", err)
	}
	if !seen[sqlite.FileName] || (man.Seq > 0 && !seen[backupJournalDir+"/"+journal.SnapshotName(man.Seq)]) {
		return man, errors.New("backup archive is incomplete: the store or the snapshot is missing")
	}
	return man, nil
}

// damageReader names a failure to read an archive's content for what it is.
type damageReader struct{ r io.Reader }

func (d damageReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("backup archive is damaged or cut short: %w", err)
	}
	return n, err
}

func (m *Main) restoreCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "restore FILE",
		Short: "Restore a backup into an empty data directory (server stopped)",
		Long: `Restore a backup taken by 'occsimore backup' into the data directory and journal
directory the configuration names (store.data_dir, engine.journal_dir). Both
must be empty or absent: restore never overwrites a store. Start the server
afterwards; it answers as the original did when the backup was taken.`,
		Example: `  systemctl stop occsimore
  mv /var/lib/private/occsimore /var/lib/private/occsimore.old
  OCCSIMORE_STORE_DATA_DIR=/var/lib/private/occsimore \
    occsimore --config /etc/occsimore/occsimore.toml restore /var/backups/occsimore.tar.gz
  systemctl start occsimore   # systemd hands the directory to the service's user`,
		Args: argsUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := m.loadConfig()
			if err != nil {
				return err
			}
			if c.Store.Driver != "sqlite" {
				return configError{fmt.Errorf("restore puts a SQLite store back; store.driver is %q", c.Store.Driver)}
			}
			man, err := restoreBackup(args[0], c.Store.DataDir, c.JournalPath())
			if err != nil {
				return err
			}
			return m.print(man, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "restored %s into %s: journal record %d, taken %s by occsimore %s\n",
					args[0], c.Store.DataDir, man.Seq, man.Created.Format(time.RFC3339), man.Build.Version)
				return err
			})
		},
	}
}

// restoreBackup extracts the backup at path into dataDir and journalDir,
// which must hold no store and no journal. The archive is checked whole
// before anything is put in place.
func restoreBackup(path, dataDir, journalDir string) (backupManifest, error) {
	var man backupManifest
	dbPath := filepath.Join(dataDir, sqlite.FileName)
	if _, err := os.Stat(dbPath); err == nil {
		return man, occsimore.Errorf(occsimore.ECONFLICT, "%s already exists: restore only into an empty data directory", dbPath)
	}
	if entries, err := os.ReadDir(journalDir); err == nil && len(entries) > 0 {
		return man, occsimore.Errorf(occsimore.ECONFLICT, "journal directory %s is not empty: restore only into an empty one", journalDir)
	}
	f, err := os.Open(path)
	if err != nil {
		return man, occsimore.Errorf(occsimore.ENOTFOUND, "%v", err)
	}
	defer f.Close()
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return man, err
	}
	staging, err := os.MkdirTemp(dataDir, ".restore-*")
	if err != nil {
		return man, err
	}
	defer os.RemoveAll(staging)
	man, err = readBackup(f, func(name string, r io.Reader) error {
		if name == backupManifestName {
			return nil
		}
		dst := filepath.Join(staging, filepath.Base(name))
		out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, r); err != nil {
			out.Close()
			return err
		}
		if err := out.Sync(); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	if err != nil {
		return man, occsimore.Errorf(occsimore.EINVALID, "%s: %v", path, err)
	}
	if man.Seq > 0 {
		seq, err := journal.RestoreSnapshot(journalDir, filepath.Join(staging, journal.SnapshotName(man.Seq)))
		if err != nil {
			return man, occsimore.Errorf(occsimore.EINVALID, "%s: snapshot: %v", path, err)
		}
		if seq != man.Seq {
			return man, occsimore.Errorf(occsimore.EINVALID, "%s: the snapshot covers record %d, the manifest says %d", path, seq, man.Seq)
		}
	}
	// The store goes in last: a restore cut short leaves no store, and can
	// be run again once the journal directory is emptied.
	if err := os.Rename(filepath.Join(staging, sqlite.FileName), dbPath); err != nil {
		return man, err
	}
	return man, nil
}
