package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"

	"github.com/occsimore/occsimore"
)

// listen opens the server's TCP listener. A busy port is the commonest
// failure on a first start, so its error says how to pick another one.
func listen(ctx context.Context, addr string) (net.Listener, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, &occsimore.Error{Code: occsimore.EUNAVAILABLE,
			Message: fmt.Sprintf("address %s is in use: pass --addr or set server.addr (OCCSIMORE_SERVER_ADDR)", addr)}
	}
	if err != nil {
		return nil, &occsimore.Error{Code: occsimore.EUNAVAILABLE, Message: fmt.Sprintf("listen on %s: %v", addr, err)}
	}
	return ln, nil
}
