package http

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are labelled by route pattern, never by raw path, so that their
// cardinality is bounded by the number of routes.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// pulls counts the answered pulls of bouncers by API; its children are
	// resolved once, by route pattern.
	pulls map[string]prometheus.Counter
}

// bouncerRoutes are the routes bouncers pull decisions from, with the
// value of the api label of occsimore_bouncer_pulls_total.
var bouncerRoutes = map[string]string{
	"GET /v1/decisions/stream":          "occsimore",
	"GET /crowdsec/v1/decisions/stream": "crowdsec_stream",
	"GET /crowdsec/v1/decisions":        "crowdsec_live",
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "occsimore_http_requests_total",
		Help: "HTTP requests served, by route pattern and status code.",
	}, []string{"route", "code"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "occsimore_http_request_duration_seconds",
		Help: "Time to serve an HTTP request, by route pattern.",
		// Finer than prometheus.DefBuckets (which start at 5 ms) below
		// 5 ms, where a single event's 2 ms objective lies.
		Buckets: []float64{.00025, .0005, .001, .002, .003, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route"})
	pulls := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "occsimore_bouncer_pulls_total",
		Help: "Decision pulls answered to bouncers (status below 400), by API: occsimore's stream, CrowdSec's stream or CrowdSec's live query.",
	}, []string{"api"})
	var err error
	if requests, err = register(reg, requests); err != nil {
		return nil, err
	}
	if duration, err = register(reg, duration); err != nil {
		return nil, err
	}
	if pulls, err = register(reg, pulls); err != nil {
		return nil, err
	}
	m := &metrics{requests: requests, duration: duration, pulls: make(map[string]prometheus.Counter, len(bouncerRoutes))}
	for route, api := range bouncerRoutes {
		m.pulls[route] = pulls.WithLabelValues(api)
	}
	return m, nil
}

// register registers c, or returns the identical collector already
// registered (two servers sharing one registry).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		if are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); ok {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		return c, fmt.Errorf("http: register metrics: %w", err)
	}
	return c, nil
}

func (m *metrics) observe(route string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
	if c, ok := m.pulls[route]; ok && status < 400 {
		c.Inc()
	}
}

// promLogger passes promhttp's errors to slog.
type promLogger struct{ logger *slog.Logger }

func (l promLogger) Println(v ...any) { l.logger.Error("metrics: " + fmt.Sprint(v...)) }
