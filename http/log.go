package http

import (
	"context"
	"log/slog"

	"github.com/occsimore/occsimore"
)

// ContextHandler adds to every record logged with a request's context the
// request's ID and, once authenticated, its member: a line written deep in a
// service by ErrorContext(ctx, …) can then be found with the access line of
// the request that caused it.
type ContextHandler struct{ slog.Handler }

// NewContextHandler wraps h; a ContextHandler is returned as it is.
func NewContextHandler(h slog.Handler) slog.Handler {
	if _, ok := h.(*ContextHandler); ok {
		return h
	}
	return &ContextHandler{h}
}

// Handle adds request_id and member from ctx, when set.
func (h *ContextHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestIDFromContext(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	if p := occsimore.PrincipalFromContext(ctx); p != nil && p.Member != nil {
		r.AddAttrs(slog.String("member", p.Member.ID))
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs keeps the context attributes on the derived handler.
func (h *ContextHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &ContextHandler{h.Handler.WithAttrs(as)}
}

// WithGroup keeps the context attributes on the derived handler, where they
// belong to the group.
func (h *ContextHandler) WithGroup(name string) slog.Handler {
	return &ContextHandler{h.Handler.WithGroup(name)}
}
