package main

import (
	"encoding/json"
	"io"
	"math"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/journal"
)

// TestHugeAmountRefusedAndJournalRecovers checks both halves of the fix for
// a huge finite number: the API refuses it with a 400 naming the field, and
// a server whose journal already holds one (written by an older release,
// here appended raw) starts, skips it, and serves the card's profile with
// a 200 and finite values instead of a 500.
func TestHugeAmountRefusedAndJournalRecovers(t *testing.T) {
	c := newCLI(t)
	dir := strings.TrimPrefix(c.env[0], "OCCSIMORE_STORE_DATA_DIR=")
	c.env = append(c.env, "OCCSIMORE_SERVER_ADDR=127.0.0.1:0", "OCCSIMORE_SERVER_TOKEN_CACHE_TTL=0s")
	c.mustRun("", "member", "add", "--slug", "bank", "--name", "Bank", "--sector", "banking")
	var members []struct{ ID, Slug string }
	if err := json.Unmarshal([]byte(c.mustRun("", "member", "list", "-o", "json")), &members); err != nil || len(members) != 1 {
		t.Fatalf("member list: %v %+v", err, members)
	}
	admin := c.token("bank", "admin")

	// The journal of an older release: two good transactions of card c1
	// around one of 1e160.
	now := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	tx := func(id string, i int, amount float64) occsimore.Event {
		return occsimore.Event{MemberID: members[0].ID, ID: id, Kind: "card.tx", Time: now.Add(time.Duration(i) * time.Minute),
			Card: "c1", Amount: amount, Currency: "EUR", Country: "FR"}
	}
	j, err := journal.Open(t.Context(), filepath.Join(dir, "journal"), journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.Append(t.Context(), journal.Record{Kind: journal.KindEvents, MemberID: members[0].ID,
		Events: []occsimore.Event{tx("a", 0, 20), tx("poison", 1, 1e160), tx("b", 2, 30)}}); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}

	url := serveInProcess(t, c.env)
	var view struct {
		Events  int
		Numeric []struct{ Mean, Std, Count float64 }
	}
	if code := getJSON(t, url+"/v1/entities/card/c1", admin, &view); code != http.StatusOK {
		t.Fatalf("GET entity after replay: %d", code)
	}
	if view.Events != 2 || len(view.Numeric) == 0 {
		t.Fatalf("profile %+v, want the 2 valid events with amount statistics", view)
	}
	for _, n := range view.Numeric {
		for _, f := range []float64{n.Mean, n.Std, n.Count} {
			if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e6 {
				t.Fatalf("profile value %g after replay: %+v", f, view)
			}
		}
	}

	// The live path refuses the same number with a problem naming the field.
	body := `{"kind":"card.tx","time":"` + now.Add(3*time.Minute).Format(time.RFC3339) + `","card":"c1","amount":1e160}`
	req, _ := http.NewRequest("POST", url+"/v1/events", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+admin)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var prob struct {
		Status        int
		Field, Detail string
	}
	if err := json.Unmarshal(b, &prob); err != nil || resp.StatusCode != http.StatusBadRequest || prob.Field != "amount" {
		t.Fatalf("POST amount 1e160: %d %s, want 400 naming field amount", resp.StatusCode, b)
	}
	if code := getJSON(t, url+"/v1/entities/card/c1", admin, &view); code != http.StatusOK || view.Events != 2 {
		t.Fatalf("GET entity after the refused event: %d %+v", code, view)
	}
}
