package httpserve_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/examples/internal/httpserve"
)

// Serve answers once Listening has the address, and when the context ends
// lets the request in flight finish, then drains, then returns nil.
func TestServeShutsDownGracefully(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	inFlight, release := make(chan struct{}), make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(inFlight)
		<-release
		_, _ = io.WriteString(w, "done")
	})}
	addrs := make(chan net.Addr, 1)
	drained := make(chan bool, 1)
	served := make(chan error, 1)
	go func() {
		served <- httpserve.Serve(ctx, srv, httpserve.Options{
			Addr:            "127.0.0.1:0",
			ShutdownTimeout: time.Minute,
			Log:             slog.New(slog.DiscardHandler),
			Listening:       func(addr net.Addr) { addrs <- addr },
			Drain:           func(ctx context.Context) { _, ok := ctx.Deadline(); drained <- ok },
		})
	}()
	addr := <-addrs
	answered := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + addr.String() + "/")
		if err != nil {
			answered <- err.Error()
			return
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		answered <- string(b)
	}()
	<-inFlight
	cancel()
	close(release)
	assert.Equal(t, "done", <-answered, "the request in flight finished")
	require.NoError(t, <-served)
	assert.True(t, <-drained, "Drain ran with the shutdown's deadline")
}

func TestServeReportsAListenFailure(t *testing.T) {
	err := httpserve.Serve(context.Background(), &http.Server{}, httpserve.Options{
		Addr: "127.0.0.1:-1", Log: slog.New(slog.DiscardHandler),
	})
	require.ErrorContains(t, err, "listen")
}
