package source_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/occsimore/occsimore/logs/source"
)

// guard bounds every wait; reaching it is a failure, never a measurement.
const guard = 20 * time.Second

// collect returns a Handler that copies each line into the returned channel.
func collect() (source.Handler, chan source.Line) {
	ch := make(chan source.Line, 1024)
	return func(ctx context.Context, l source.Line) error {
		l.Text = append([]byte(nil), l.Text...)
		ch <- l
		return nil
	}, ch
}

// next waits for the next line.
func next(t *testing.T, ch <-chan source.Line) source.Line {
	t.Helper()
	select {
	case l := <-ch:
		return l
	case <-time.After(guard):
		t.Fatalf("no line within %v", guard)
		return source.Line{}
	}
}

// texts waits for n lines and returns their texts.
func texts(t *testing.T, ch <-chan source.Line, n int) []string {
	t.Helper()
	out := make([]string, 0, n)
	for range n {
		out = append(out, string(next(t, ch).Text))
	}
	return out
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// run starts a source in the background and returns a function that stops
// it and returns its error.
func run(t *testing.T, fn func(context.Context) error) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	var stopped bool
	var err error
	stop = func() error {
		if stopped {
			return err
		}
		stopped = true
		cancel()
		select {
		case err = <-done:
		case <-time.After(guard):
			t.Fatalf("source did not stop within %v", guard)
		}
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}
