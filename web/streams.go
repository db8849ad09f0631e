package web

import (
	"context"
	"sync"
	"time"

	"github.com/occsimore/occsimore"
)

// StreamLimits bound the console's live streams (the alert stream): each
// holds a connection, a goroutine and a buffer for hours, so one session
// opening thousands must not starve the server.
type StreamLimits struct {
	PerSession int // open streams of one sign-in
	PerMember  int // of all users of one member together
	Total      int // of the whole console
	// WriteTimeout is how long one event may take to reach a reader; a
	// reader slower than that is disconnected, so its buffer never grows and
	// publishing alerts never waits for it.
	WriteTimeout time.Duration
}

// stream is one open live stream.
type stream struct {
	session string // the session's hash, as a string key
	user    string
	member  string
	end     context.CancelFunc
}

// streams counts open live streams against StreamLimits and ends them when
// their session ends (sign-out, password change).
type streams struct {
	lim StreamLimits

	mu        sync.Mutex
	all       map[*stream]struct{}
	perMember map[string]int
}

func newStreams(lim StreamLimits) *streams {
	return &streams{lim: lim, all: make(map[*stream]struct{}), perMember: make(map[string]int)}
}

// open registers a stream, or refuses it with ERATELIMIT when a limit is
// reached. end is called to end the stream early.
func (h *streams) open(session, user, member string, end context.CancelFunc) (*stream, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	perSession := 0
	for s := range h.all {
		if s.session == session {
			perSession++
		}
	}
	switch {
	case len(h.all) >= h.lim.Total:
		return nil, occsimore.Errorf(occsimore.ERATELIMIT, "the console has as many live streams open as it serves; try again later")
	case h.perMember[member] >= h.lim.PerMember:
		return nil, occsimore.Errorf(occsimore.ERATELIMIT, "your organisation has %d live streams open, the most it may; close a tab", h.lim.PerMember)
	case perSession >= h.lim.PerSession:
		return nil, occsimore.Errorf(occsimore.ERATELIMIT, "this sign-in has %d live streams open, the most it may; close a tab", h.lim.PerSession)
	}
	s := &stream{session: session, user: user, member: member, end: end}
	h.all[s] = struct{}{}
	h.perMember[member]++
	return s, nil
}

// close unregisters s; closing twice is harmless.
func (h *streams) close(s *stream) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.all[s]; !ok {
		return
	}
	delete(h.all, s)
	if h.perMember[s.member]--; h.perMember[s.member] <= 0 {
		delete(h.perMember, s.member)
	}
}

// endWhere ends every stream for which match is true.
func (h *streams) endWhere(match func(*stream) bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.all {
		if match(s) {
			s.end()
		}
	}
}

// endSession ends the streams of one session (sign-out).
func (h *streams) endSession(session string) {
	h.endWhere(func(s *stream) bool { return s.session == session })
}

// endUser ends every stream of a user (password change).
func (h *streams) endUser(userID string) {
	h.endWhere(func(s *stream) bool { return s.user == userID })
}

// count returns the number of open streams.
func (h *streams) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.all)
}
