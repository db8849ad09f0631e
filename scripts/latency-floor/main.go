// Command latency-floor is the peer server of scripts/bench-latency.sh: the
// least a Go HTTP server can do for POST /v1/events. It reads the body and
// answers a fixed score, with nothing behind it, so its latency under the
// same load generator is the floor this machine puts under occsimore's.
// With -sync it also appends each body to a file and fdatasyncs it before
// answering, one request at a time, as a naive durable server would.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "latency-floor:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:18189", "listen address")
	durable := flag.Bool("sync", false, "append each body to a file in -dir and fdatasync it before answering")
	dir := flag.String("dir", os.TempDir(), "directory of the -sync file")
	flag.Parse()

	f, err := os.OpenFile(filepath.Join(*dir, "latency-floor.log"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("open the -sync file: %w", err)
	}
	defer f.Close()
	var mu sync.Mutex // one append and sync at a time
	bufs := sync.Pool{New: func() any { return new(bytes.Buffer) }}
	answer := []byte(`{"score":0.5,"decision":"allow","reasons":[]}` + "\n")

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("POST /v1/events", func(w http.ResponseWriter, r *http.Request) {
		buf := bufs.Get().(*bytes.Buffer)
		defer bufs.Put(buf)
		buf.Reset()
		if _, err := buf.ReadFrom(io.LimitReader(r.Body, 1<<20)); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if *durable {
			mu.Lock()
			buf.WriteByte('\n')
			_, err := f.Write(buf.Bytes())
			if err == nil {
				err = syscall.Fdatasync(int(f.Fd()))
			}
			mu.Unlock()
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
	})
	srv := &http.Server{Addr: *addr, Handler: mux}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		srv.Shutdown(context.Background())
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
