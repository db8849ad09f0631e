// Package http is occsimore's REST API: authenticated /v1 routes, health and
// metrics endpoints, RFC 9457 problem responses, and the server lifecycle.
// The web console is mounted into the same server at "/".
package http

import (
	"time"

	"github.com/occsimore/occsimore"
)

// Config tunes the HTTP server. Start from DefaultConfig.
type Config struct {
	Addr string
	// MaxBodyBytes bounds every /v1 request body unless a Route sets its own.
	MaxBodyBytes int64
	// MaxBatchBodyBytes bounds a POST /v1/events:batch body, which is
	// streamed; zero means 256 MiB.
	MaxBatchBodyBytes int64

	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	// ShutdownTimeout is how long in-flight requests may run after Serve's
	// context is cancelled.
	ShutdownTimeout time.Duration
	// ShutdownDelay is how long the server keeps serving, with /readyz
	// already failing, before it stops accepting: the time a load balancer
	// needs to see the failure and send no new connection (0: stop at once).
	ShutdownDelay time.Duration

	// Failed authentications are limited per client IP: one more is allowed
	// every AuthFailureEvery, after a burst of AuthFailureBurst.
	AuthFailureEvery time.Duration
	AuthFailureBurst int
}

// DefaultConfig returns the production settings.
func DefaultConfig() Config {
	return Config{
		Addr:              "127.0.0.1:8080",
		MaxBodyBytes:      1 << 20,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ShutdownTimeout:   15 * time.Second,
		AuthFailureEvery:  time.Second,
		AuthFailureBurst:  20,
	}
}

// Validate reports the first unusable setting.
func (c Config) Validate() error {
	switch {
	case c.MaxBodyBytes < 1024:
		return occsimore.FieldErrorf("max_body_bytes", "max body bytes must be at least 1024")
	case c.ReadHeaderTimeout <= 0 || c.ReadTimeout <= 0 || c.WriteTimeout <= 0 || c.IdleTimeout <= 0:
		return occsimore.FieldErrorf("timeouts", "read header, read, write and idle timeouts must be positive")
	case c.ShutdownTimeout <= 0:
		return occsimore.FieldErrorf("shutdown_timeout", "shutdown timeout must be positive")
	case c.ShutdownDelay < 0:
		return occsimore.FieldErrorf("shutdown_delay", "shutdown delay must not be negative")
	case c.AuthFailureEvery <= 0 || c.AuthFailureBurst < 1:
		return occsimore.FieldErrorf("auth_failure", "auth failure limit needs a positive interval and burst")
	}
	return nil
}
