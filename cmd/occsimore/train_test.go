package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTrainEndToEnd simulates a small card world, trains on it, and moves
// the model through shadow and promotion.
func TestTrainEndToEnd(t *testing.T) {
	c := newCLI(t)
	c.mustRun("", "member", "add", "--slug", "bank", "--name", "Bank", "--sector", "banking")
	file := filepath.Join(t.TempDir(), "tx.csv")
	c.mustRun("", "simulate", "cards", "--customers", "150", "--terminals", "300", "--days", "21", "--seed", "5", "--out", file)

	var res struct {
		Model struct {
			ID      string `json:"id"`
			Version int    `json:"version"`
			Status  string `json:"status"`
			Source  string `json:"source"`
			Metrics struct {
				AUC           float64 `json:"auc_roc"`
				AP            float64 `json:"average_precision"`
				HoldoutRows   int     `json:"holdout_rows"`
				HoldoutFrauds int     `json:"holdout_frauds"`
			} `json:"metrics"`
		} `json:"model"`
	}
	// Few trees: the race detector makes training slow, and the AUC shows
	// learning well before.
	out := c.mustRun("", "train", "--member", "bank", "--kind", "card.tx", "--from", file, "--trees", "30", "-o", "json")
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("train output %q: %v", out, err)
	}
	m := res.Model
	if m.Version != 1 || m.Status != "candidate" || m.Source != "tx.csv" || !strings.HasPrefix(m.ID, "mdl_") {
		t.Fatalf("trained model = %+v, want candidate v1 from tx.csv", m)
	}
	if m.Metrics.HoldoutFrauds == 0 || m.Metrics.HoldoutRows == 0 {
		t.Fatalf("holdout of %d rows has %d frauds", m.Metrics.HoldoutRows, m.Metrics.HoldoutFrauds)
	}
	if m.Metrics.AUC < 0.7 {
		t.Fatalf("holdout AUC %.3f, want well above 0.5 (at least 0.7)", m.Metrics.AUC)
	}
	t.Logf("holdout AUC %.3f AP %.3f on %d rows (%d frauds)", m.Metrics.AUC, m.Metrics.AP, m.Metrics.HoldoutRows, m.Metrics.HoldoutFrauds)

	// A second training is version 2.
	out = c.mustRun("", "train", "--member", "bank", "--from", file, "--trees", "3")
	if !strings.Contains(out, "v2") {
		t.Fatalf("second training output does not name v2:\n%s", out)
	}

	c.mustRun("", "model", "shadow", "--member", "bank", "2")
	c.mustRun("", "model", "promote", "--member", "bank", "v1")
	var list []struct {
		Version int    `json:"version"`
		Status  string `json:"status"`
	}
	if err := json.Unmarshal([]byte(c.mustRun("", "model", "list", "--member", "bank", "-o", "json")), &list); err != nil {
		t.Fatal(err)
	}
	got := map[int]string{}
	for _, l := range list {
		got[l.Version] = l.Status
	}
	if got[1] != "promoted" || got[2] != "shadow" || len(got) != 2 {
		t.Fatalf("model list = %+v, want v1 promoted and v2 shadow", list)
	}
	if text := c.mustRun("", "model", "list", "--member", "bank"); !strings.Contains(text, "promoted") || !strings.Contains(text, "tx.csv") {
		t.Fatalf("model list text:\n%s", text)
	}

	// An unknown version is not found, and named.
	code, _, stderr := c.run("", "model", "promote", "--member", "bank", "7")
	if code != exitNotFound || !strings.Contains(stderr, "version 7") {
		t.Fatalf("promote 7: exit %d, stderr %q; want %d naming version 7", code, stderr, exitNotFound)
	}
	code, _, stderr = c.run("", "model", "promote", "--member", "bank", "seven")
	if code != exitInvalid || !strings.Contains(stderr, `"seven"`) {
		t.Fatalf("promote seven: exit %d, stderr %q; want %d naming it", code, stderr, exitInvalid)
	}
}

func TestTrainBadInput(t *testing.T) {
	c := newCLI(t)
	c.mustRun("", "member", "add", "--slug", "bank", "--name", "Bank", "--sector", "banking")
	dir := t.TempDir()
	const header = "TRANSACTION_ID,TX_DATETIME,CUSTOMER_ID,TERMINAL_ID,TX_AMOUNT,TX_TIME_SECONDS,TX_TIME_DAYS,TX_FRAUD,TX_FRAUD_SCENARIO\n"
	const good = "0,2018-04-01 00:00:31,596,3156,57.16,31,0,0,0\n"
	for _, c2 := range []struct {
		name, file, content string
		code                int
		want                []string
	}{
		{"malformed row", "bad.csv", header + good + "1,2018-04-01 00:02:10,4961,3412,not-a-number,130,0,0,0\n",
			exitInvalid, []string{"line 3", "amount"}},
		{"missing column", "nolabel.csv", strings.ReplaceAll(header, ",TX_FRAUD,", ",OTHER,") + good,
			exitInvalid, []string{"TX_FRAUD"}},
		{"empty label", "emptylabel.csv", header + "0,2018-04-01 00:00:31,596,3156,57.16,31,0,,0\n",
			exitInvalid, []string{"line 2", "TX_FRAUD"}},
		{"ndjson without label", "events.ndjson", `{"kind":"card.tx","time":"2026-01-01T00:00:00Z","card":"c1","amount":3}` + "\n",
			exitInvalid, []string{"line 1", "attrs.fraud"}},
		{"unknown format", "events.txt", good, exitUsage, []string{"--format"}},
	} {
		t.Run(c2.name, func(t *testing.T) {
			path := filepath.Join(dir, c2.file)
			if err := os.WriteFile(path, []byte(c2.content), 0o600); err != nil {
				t.Fatal(err)
			}
			code, _, stderr := c.run("", "train", "--member", "bank", "--from", path)
			if code != c2.code {
				t.Fatalf("exit %d, want %d; stderr %s", code, c2.code, stderr)
			}
			for _, w := range c2.want {
				if !strings.Contains(stderr, w) {
					t.Fatalf("stderr %q does not name %q", stderr, w)
				}
			}
		})
	}
	code, _, stderr := c.run("", "train", "--member", "bank", "--from", filepath.Join(dir, "absent.csv"))
	if code != exitNotFound {
		t.Fatalf("absent file: exit %d, stderr %s", code, stderr)
	}
	// No labelled alerts yet: nothing to train on, said plainly.
	code, _, stderr = c.run("", "train", "--member", "bank")
	if code != exitInvalid || !strings.Contains(stderr, "0 rows") {
		t.Fatalf("training on no alerts: exit %d, stderr %q", code, stderr)
	}
	code, _, _ = c.run("", "train", "--member", "bank", "--holdout", "1.5", "--from", filepath.Join(dir, "bad.csv"))
	if code != exitInvalid {
		t.Fatalf("--holdout 1.5: exit %d, want %d", code, exitInvalid)
	}
}
