package scenario

import (
	"slices"
	"testing"
)

func TestBuiltinScenariosCompile(t *testing.T) {
	t.Parallel()
	ss, err := BuiltinScenarios()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range ss {
		names = append(names, s.Name)
	}
	for _, want := range []string{
		"ssh-bf", "ssh-slow-bf", "ssh-bf_user-enum", "ssh-slow-bf_user-enum", "ssh-time-based-bf",
		"ssh-time-based-bf_user-enum", "http-probing", "http-crawl-non_statics", "http-sensitive-files",
		"http-path-traversal-probing", "http-sqli-probing", "http-bad-user-agent",
		"http-admin-interface-probing", "http-generic-bf", "http-cve-probing",
		"credential-stuffing-many-users", "credential-stuffing-one-user",
	} {
		if !slices.Contains(names, want) {
			t.Errorf("built-in set lacks %s (has %v)", want, names)
		}
	}
}
