// Command latency-floor is the peer server of scripts/bench-latency.sh: the
// least a Go HTTP server can do for POST /v1/events. It reads the body and
// answers a fixed score, with nothing behind it, so its latency under the
// same load generator is the floor this machine puts under occsimore's.
// With -sync it also appends each body to a file and fdatasyncs it before
// answering, one request at a time, as a naive durable server would.
package main

import (
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
	bufs := sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}
	answer := []byte(`{"score":0.5,"decision":"allow","reasons":[]}` + "\n")

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("POST /v1/events", func(w http.ResponseWriter, r *http.Request) {
		bp := bufs.Get().(*[]byte)
		defer bufs.Put(bp)
		body, err := readAll(io.LimitReader(r.Body, 1<<20), (*bp)[:0])
		*bp = body
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if *durable {
			mu.Lock()
			_, err = f.Write(append(body, '\n'))
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

// readAll reads r to its end into buf.
func readAll(r io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}
