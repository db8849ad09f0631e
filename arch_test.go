package occsimore_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/occsimore/occsimore"

// frontEnds are the adapters people and clients talk to, and the only
// packages of the module each may depend on, directly or not: the domain,
// authentication, and the codecs of what they receive and send. Never the
// engine, the models, a service or each other.
var frontEnds = map[string][]string{
	"http": {"", "auth", "ingest", "remediation", "taxii"},
	"web":  {"", "auth"},
}

// goPackage is what the test reads of `go list -json`.
type goPackage struct {
	ImportPath string
	Imports    []string
	Deps       []string
	Standard   bool
}

// TestImportRules checks the import rules docs/architecture.md states
// against what the packages import, so that the document stays true: every
// folder is in its layout table, and each kind of package imports only what
// its kind may.
func TestImportRules(t *testing.T) {
	t.Parallel()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("SKIPPED: the go tool is not on PATH (%v); the import rules of docs/architecture.md are not checked", err)
	}
	kinds := layoutKinds(t)
	pkgs := listPackages(t, goTool)

	kindOf := func(path string) (folder, kind string) {
		rel := strings.TrimPrefix(strings.TrimPrefix(path, module), "/")
		folder, _, _ = strings.Cut(rel, "/")
		if k, ok := kinds[rel]; ok { // a row for the package itself, e.g. cmd/occsimore
			return rel, k
		}
		return folder, kinds[folder]
	}
	for _, p := range pkgs {
		folder, kind := kindOf(p.ImportPath)
		if kind == "" {
			t.Errorf("%s: folder %q has no row in the layout table of docs/architecture.md", p.ImportPath, folder)
			continue
		}
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module) {
				if kind == "domain" && strings.Contains(strings.SplitN(imp, "/", 2)[0], ".") {
					t.Errorf("%s imports %s: the root package imports the standard library only", p.ImportPath, imp)
				}
				continue
			}
			impFolder, impKind := kindOf(imp)
			if why := forbidden(kind, folder, impKind, impFolder); why != "" {
				t.Errorf("%s (%s) imports %s (%s): %s", p.ImportPath, kind, imp, impKind, why)
			}
		}
	}
	for name, allowed := range frontEnds {
		i := slices.IndexFunc(pkgs, func(p goPackage) bool { return p.ImportPath == module+"/"+name })
		if i < 0 {
			t.Errorf("package %s not found", name)
			continue
		}
		for _, dep := range pkgs[i].Deps {
			if !strings.HasPrefix(dep, module) {
				continue
			}
			if rel := strings.TrimPrefix(strings.TrimPrefix(dep, module), "/"); !slices.Contains(allowed, rel) {
				t.Errorf("%s depends on %s; it may depend on the module's %q only", name, dep, allowed)
			}
		}
	}
}

// forbidden says why a package of kind in folder may not import one of
// impKind in impFolder, or "" when it may.
func forbidden(kind, folder, impKind, impFolder string) string {
	switch {
	case impKind == "main":
		return "nothing imports the main package"
	case impKind == "app" && kind != "main":
		return "only main builds through app"
	case impFolder == "storetest" && kind != "tests":
		return "the store contract suite is for tests"
	case frontEnds[impFolder] != nil && kind != "main":
		return "only main wires the front ends"
	}
	switch kind {
	case "domain":
		return "the root package imports the standard library only"
	case "pure", "runtime":
		if impKind != "domain" && impKind != "pure" {
			return "domain packages are pure logic: they import the root package and other pure packages only"
		}
	case "adapter":
		if impKind == "service" {
			return "adapters do not depend on services"
		}
	}
	return ""
}

// layoutKinds reads the layout table of docs/architecture.md: folder → kind
// ("domain", "pure", "adapter", "service", "runtime", "app", "tests", "main",
// "tooling").
func layoutKinds(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open("docs/architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	row := regexp.MustCompile("^\\| `([^`]+)`[^|]*\\| ([a-z ]+?)(?: \\(|\\s*\\|)")
	kinds := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		m := row.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		folder, kind := strings.Trim(m[1], "/"), strings.TrimSpace(m[2])
		if kind == "domain types" {
			kind = "domain"
		}
		kinds[folder] = kind
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(kinds) < 10 {
		t.Fatalf("read %d rows of the layout table of docs/architecture.md; its format changed", len(kinds))
	}
	return kinds
}

// listPackages runs `go list -json ./...` in the module's root.
func listPackages(t *testing.T, goTool string) []goPackage {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), goTool, "list", "-json", "./...")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []goPackage
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p goPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}
