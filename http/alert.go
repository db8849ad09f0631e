package http

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/occsimore/occsimore"
)

type alertsResponse struct {
	Alerts []*occsimore.Alert `json:"alerts"`
	// Next is the cursor of the following page (pass it as ?before=), empty
	// on the last page.
	Next string `json:"next,omitempty"`
}

// handleListAlerts lists the member's alerts, newest first, with filters
// from the query string.
func (s *Server) handleListAlerts(w http.ResponseWriter, r *http.Request) error {
	p := occsimore.PrincipalFromContext(r.Context())
	f, err := alertFilter(r.URL.Query())
	if err != nil {
		return err
	}
	as, err := s.Alerts.ListAlerts(r.Context(), p.Member.ID, f)
	if err != nil {
		return fmt.Errorf("list alerts: %w", err)
	}
	resp := alertsResponse{Alerts: as}
	if resp.Alerts == nil {
		resp.Alerts = []*occsimore.Alert{}
	}
	limit := f.Limit
	if limit == 0 {
		limit = 50
	}
	if len(as) == limit {
		resp.Next = as[len(as)-1].ID
	}
	s.writeJSON(w, r, http.StatusOK, resp)
	return nil
}

// alertFilter parses the query parameters of GET /v1/alerts. Unknown
// parameters are errors, so a typo does not silently return everything.
func alertFilter(q url.Values) (occsimore.AlertFilter, error) {
	var f occsimore.AlertFilter
	for key, vals := range q {
		v := vals[0]
		var err error
		switch key {
		case "kind":
			f.Kind = v
		case "decision":
			f.Decision = occsimore.Decision(v)
		case "label":
			f.Label = occsimore.Label(v)
		case "unlabeled":
			f.Unlabeled, err = strconv.ParseBool(v)
		case "entity_role":
			f.EntityRole = v
		case "entity_id":
			f.EntityID = v
		case "since":
			f.Since, err = time.Parse(time.RFC3339, v)
		case "until":
			f.Until, err = time.Parse(time.RFC3339, v)
		case "min_score":
			f.MinScore, err = strconv.ParseFloat(v, 64)
		case "before":
			f.Before = v
		case "limit":
			f.Limit, err = parseLimit(v)
		default:
			return f, occsimore.FieldErrorf(key, "unknown query parameter %q; known: kind, decision, label, unlabeled, entity_role, entity_id, since, until, min_score, before, limit", key)
		}
		if err != nil {
			return f, occsimore.FieldErrorf(key, "%s=%q is not valid: %v", key, v, err)
		}
	}
	if (f.EntityRole == "") != (f.EntityID == "") {
		return f, occsimore.FieldErrorf("entity_id", "entity_role and entity_id go together")
	}
	return f, nil
}

func (s *Server) handleGetAlert(w http.ResponseWriter, r *http.Request) error {
	p := occsimore.PrincipalFromContext(r.Context())
	a, err := s.Alerts.FindAlert(r.Context(), p.Member.ID, r.PathValue("id"))
	if err != nil {
		return fmt.Errorf("find alert: %w", hideNotFound(err, "alert"))
	}
	s.writeJSON(w, r, http.StatusOK, a)
	return nil
}

type labelRequest struct {
	Label occsimore.Label `json:"label"`
}

// handleLabelAlert records an analyst's verdict. The pipeline feeds it to the
// label-driven features at once and keeps it as training data.
func (s *Server) handleLabelAlert(w http.ResponseWriter, r *http.Request) error {
	p := occsimore.PrincipalFromContext(r.Context())
	var req labelRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	if !req.Label.Valid() {
		return occsimore.FieldErrorf("label", "label %q must be fraud or legit", req.Label)
	}
	by := p.UserID
	if by == "" {
		by = p.TokenID
	}
	a, err := s.Events.Label(r.Context(), p.Member.ID, r.PathValue("id"), req.Label, by)
	if err != nil {
		return fmt.Errorf("label alert: %w", hideNotFound(err, "alert"))
	}
	s.writeJSON(w, r, http.StatusOK, a)
	return nil
}
