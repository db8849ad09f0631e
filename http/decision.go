package http

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/remediation"
)

// MaxDecisionDuration bounds a manual decision.
const MaxDecisionDuration = 365 * 24 * time.Hour

type decisionsResponse struct {
	Decisions []*occsimore.Remediation `json:"decisions"`
}

// decisionFilter keeps remediations of one action and scope, when set.
type decisionFilter struct {
	action occsimore.Action
	scope  occsimore.Scope
}

// set reads the action and scope parameters.
func (f *decisionFilter) set(key, v string) error {
	switch key {
	case "action":
		if f.action = occsimore.Action(v); !f.action.Valid() {
			return occsimore.FieldErrorf(key, "action %q is not ban, captcha or alert", v)
		}
	case "scope":
		if f.scope = occsimore.Scope(v); !f.scope.Valid() {
			return occsimore.FieldErrorf(key, "scope %q is not ip, range or user", v)
		}
	default:
		return errUnknownParam
	}
	return nil
}

func (f decisionFilter) apply(rs []*occsimore.Remediation) []*occsimore.Remediation {
	return slices.DeleteFunc(rs, func(r *occsimore.Remediation) bool {
		return f.action != "" && r.Action != f.action || f.scope != "" && r.Scope != f.scope
	})
}

// handleListDecisions lists the member's decisions in force.
func (s *Server) handleListDecisions(w http.ResponseWriter, r *http.Request) error {
	p := occsimore.PrincipalFromContext(r.Context())
	var f decisionFilter
	if err := eachParam(r.URL.Query(), "action, scope", f.set); err != nil {
		return err
	}
	rs, err := s.Attacks.ActiveRemediations(r.Context(), p.Member.ID, s.Now())
	if err != nil {
		return fmt.Errorf("list decisions: %w", err)
	}
	s.writeJSON(w, r, http.StatusOK, decisionsResponse{Decisions: f.apply(rs)})
	return nil
}

type decisionRequest struct {
	Action   occsimore.Action `json:"action"`
	Scope    occsimore.Scope  `json:"scope"`
	Value    string           `json:"value"`
	Duration string           `json:"duration"` // a Go duration: "4h", "30m"
	Scenario string           `json:"scenario"` // optional; "manual" by default
	// Force lets an admin ban a range wider than /16 (IPv4) or /32 (IPv6).
	Force bool `json:"force"`
}

// handleCreateDecision records an analyst's decision. Bouncers get it on
// their next pull.
func (s *Server) handleCreateDecision(w http.ResponseWriter, r *http.Request) error {
	p := occsimore.PrincipalFromContext(r.Context())
	var req decisionRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	if !req.Action.Valid() {
		return occsimore.FieldErrorf("action", "action %q is not ban, captcha or alert", req.Action)
	}
	if !req.Scope.Valid() {
		return occsimore.FieldErrorf("scope", "scope %q is not ip, range or user", req.Scope)
	}
	value, err := remediation.ParseValue(req.Scope, req.Value)
	if err != nil {
		return err
	}
	origin := remediation.OriginManual
	if remediation.TooWide(req.Scope, value) {
		switch {
		case !req.Force:
			return occsimore.FieldErrorf("value", "range %s is wider than /%d (IPv4) or /%d (IPv6); an admin may set force to ban it",
				value, remediation.MinRangeBits4, remediation.MinRangeBits6)
		case !p.Can(occsimore.PermManage):
			return occsimore.Errorf(occsimore.EFORBIDDEN, "only an admin may force a range as wide as %s", value)
		}
		origin = remediation.OriginForced
	}
	d, err := time.ParseDuration(req.Duration)
	if err != nil || d <= 0 || d > MaxDecisionDuration {
		return occsimore.FieldErrorf("duration", "duration %q is not a duration such as 4h or 30m, up to %s", req.Duration, MaxDecisionDuration)
	}
	now := s.Now()
	rem := &occsimore.Remediation{
		Action: req.Action, Scope: req.Scope, Value: value,
		Scenario: req.Scenario, Origin: origin,
		Until: now.Add(d), CreatedAt: now,
	}
	if rem.Scenario == "" {
		rem.Scenario = remediation.OriginManual
	}
	if err := remediation.Check(rem); err != nil {
		return err // the scenario's length; the rest is checked above
	}
	if err := s.Attacks.CreateRemediations(r.Context(), p.Member.ID, []*occsimore.Remediation{rem}); err != nil {
		return fmt.Errorf("create decision: %w", err)
	}
	s.writeJSON(w, r, http.StatusCreated, rem)
	return nil
}

// handleDeleteDecision ends a decision early; deleting one already ended is
// no error.
func (s *Server) handleDeleteDecision(w http.ResponseWriter, r *http.Request) error {
	p := occsimore.PrincipalFromContext(r.Context())
	errNotFound := occsimore.Errorf(occsimore.ENOTFOUND, "decision not found")
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return errNotFound // no decision has such an ID
	}
	if err := s.Attacks.DeleteRemediation(r.Context(), p.Member.ID, id, s.Now()); err != nil {
		return fmt.Errorf("delete decision: %w", hideNotFound(err, "decision"))
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type streamResponse struct {
	New     []*occsimore.Remediation `json:"new"`
	Deleted []*occsimore.Remediation `json:"deleted"`
}

// handleDecisionStream is the bouncer stream. Each token is one bouncer,
// whose last pull the store keeps.
func (s *Server) handleDecisionStream(w http.ResponseWriter, r *http.Request) error {
	p := occsimore.PrincipalFromContext(r.Context())
	var startup bool
	err := eachParam(r.URL.Query(), "startup", func(key, v string) (err error) {
		if key != "startup" {
			return errUnknownParam
		}
		startup, err = strconv.ParseBool(v)
		return err
	})
	if err != nil {
		return err
	}
	if p.TokenID == "" {
		return occsimore.Errorf(occsimore.EFORBIDDEN, "the decision stream needs an API token: each bouncer has its own")
	}
	added, ended, err := s.Attacks.PullRemediations(r.Context(), p.Member.ID, p.TokenID, startup, s.Now())
	if err != nil {
		return fmt.Errorf("decision stream: %w", err)
	}
	s.writeJSON(w, r, http.StatusOK, streamResponse{New: added, Deleted: ended})
	return nil
}

// handleExportDecisions writes the member's decisions in force for a
// blocker: text (one value a line), json or an nftables script. Only bans
// unless ?action= says otherwise.
func (s *Server) handleExportDecisions(w http.ResponseWriter, r *http.Request) error {
	p := occsimore.PrincipalFromContext(r.Context())
	f := decisionFilter{action: occsimore.ActionBan}
	format := "text"
	var opt remediation.NFTOptions
	err := eachParam(r.URL.Query(), "format, action, scope, family, table, set4, set6", func(key, v string) error {
		switch key {
		case "format":
			format = v
		case "family":
			opt.Family = v
		case "table":
			opt.Table = v
		case "set4":
			opt.Set4 = v
		case "set6":
			opt.Set6 = v
		default:
			return f.set(key, v)
		}
		return nil
	})
	if err != nil {
		return err
	}
	now := s.Now()
	rs, err := s.Attacks.ActiveRemediations(r.Context(), p.Member.ID, now)
	if err != nil {
		return fmt.Errorf("export decisions: %w", err)
	}
	rs = f.apply(rs)
	// Written to a buffer first, so that an error is still a problem response.
	var buf bytes.Buffer
	ctype := "text/plain; charset=utf-8"
	switch format {
	case "text":
		err = remediation.WriteText(&buf, rs)
	case "json":
		ctype = "application/json"
		err = remediation.WriteJSON(&buf, rs)
	case "nftables":
		err = remediation.WriteNFTables(&buf, rs, now, opt)
	default:
		return occsimore.FieldErrorf("format", "format %q is not text, json or nftables", format)
	}
	if err != nil {
		return fmt.Errorf("export decisions: %w", err)
	}
	w.Header().Set("Content-Type", ctype)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
	return nil
}
