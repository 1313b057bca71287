package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/emgcache/emgcache/emg"
	"github.com/emgcache/emgcache/middleware"
	"github.com/emgcache/emgcache/store"
)

// target is a server under load.
type target struct {
	// analysisURL serves an EMG analysis through the cache middleware.
	analysisURL string
	// floorURL serves the same bytes from a bare handler: the fastest any
	// cache in front of the analysis could be.
	floorURL string
	// origin says what an uncached request costs.
	origin string
	close  func()
}

// serve runs h on a free loopback port until the returned function is
// called.
func serve(h http.Handler) (baseURL string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}

// floorHandler writes body with contentType, and nothing else.
func floorHandler(body []byte, contentType string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		_, _ = w.Write(body)
	})
}

// startInProcess serves, in this process, the analysis endpoint of the
// example server as the middleware would wrap it, over a store opened with
// storeURL ("" for the embedded backend). The origin is a simulated query
// that takes originDelay and writes a synthesized analysis of the shipped
// sample's shape. It stands in until the example server exists; see
// startServer.
func startInProcess(ctx context.Context, storeURL string, originDelay time.Duration) (*target, error) {
	cache, err := store.Open(ctx, store.Config{URL: storeURL})
	if err != nil {
		return nil, err
	}
	a, err := sampleAnalysis()
	if err != nil {
		_ = cache.Close()
		return nil, err
	}
	body, err := json.Marshal(a)
	if err != nil {
		_ = cache.Close()
		return nil, err
	}
	sum := sha256.Sum256(body)
	fileHash := hex.EncodeToString(sum[:])
	origin := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := time.NewTimer(originDelay)
		defer t.Stop()
		select {
		case <-r.Context().Done():
			return
		case <-t.C:
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	mux := http.NewServeMux()
	mux.Handle("GET /api/emg/analysis/{file_hash}", middleware.New(cache, middleware.Options{TTL: time.Hour})(origin))
	mux.Handle("GET /floor/{file_hash}", floorHandler(body, "application/json"))
	base, stop, err := serve(mux)
	if err != nil {
		_ = cache.Close()
		return nil, err
	}
	return &target{
		analysisURL: base + "/api/emg/analysis/" + fileHash,
		floorURL:    base + "/floor/" + fileHash,
		origin:      fmt.Sprintf("simulated query of %v (in-process middleware)", originDelay),
		close: func() {
			stop()
			_ = cache.Close()
		},
	}, nil
}

// Where the example server keeps its sample recording and what it expects.
const (
	sampleCSV        = "testdata/sample_emg.csv"
	sampleRate       = "2000"
	serverReadyAfter = 30 * time.Second
)

// startServer builds the example server from its package directory dir,
// runs it with args on a free loopback port with REDIS_URL=storeURL (unset
// for the embedded backend), uploads the shipped sample recording and
// returns its analysis endpoint. The floor is another process too, this
// program in floor mode, serving the bytes and Content-Type of that
// endpoint's response: a server and its floor then pay alike for being a
// process of their own beside the load generator.
func startServer(ctx context.Context, dir string, args []string, storeURL, workDir string) (*target, error) {
	bin := filepath.Join(workDir, "server")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build %s: %w\n%s", dir, err, out)
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, append([]string{"-addr", addr}, args...)...)
	cmd.Env = serverEnv(storeURL)
	base := "http://" + addr
	stopServer, err := startProcess(ctx, cmd, workDir, "server", base+"/api/cache/health")
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*target, error) {
		stopServer()
		return nil, err
	}
	client := &http.Client{Timeout: 10 * time.Second}
	fileHash, err := uploadSample(ctx, client, base, filepath.Join(dir, sampleCSV))
	if err != nil {
		return fail(err)
	}
	analysisURL := base + "/api/emg/analysis/" + fileHash
	body, contentType, err := fetch(ctx, client, analysisURL)
	if err != nil {
		return fail(err)
	}
	bodyFile := filepath.Join(workDir, "floor.body")
	if err := os.WriteFile(bodyFile, body, 0o600); err != nil {
		return fail(err)
	}
	self, err := os.Executable()
	if err != nil {
		return fail(err)
	}
	floorAddr, err := freeAddr()
	if err != nil {
		return fail(err)
	}
	floorURL := "http://" + floorAddr + "/floor/" + fileHash
	stopFloor, err := startProcess(ctx, exec.Command(self, "-floor-addr", floorAddr, "-floor-body", bodyFile, "-floor-type", contentType), workDir, "floor", floorURL)
	if err != nil {
		return fail(err)
	}
	return &target{
		analysisURL: analysisURL,
		floorURL:    floorURL,
		origin:      "the example server's analysis of the shipped sample",
		close: func() {
			stopFloor()
			stopServer()
		},
	}, nil
}

// startProcess starts cmd in workDir with its output in name.log there,
// and waits until readyURL answers. The returned function interrupts the
// process, as a deployment would stop it, and waits for it to exit.
func startProcess(ctx context.Context, cmd *exec.Cmd, workDir, name, readyURL string) (stop func(), err error) {
	logFile, err := os.Create(filepath.Join(workDir, name+".log"))
	if err != nil {
		return nil, err
	}
	// Whatever the process writes to its working directory (the example
	// server's database) goes to the run's scratch directory, not the
	// source tree.
	cmd.Dir = workDir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop = func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		_ = logFile.Close()
	}
	if err := waitReady(ctx, &http.Client{Timeout: 10 * time.Second}, readyURL, exited); err != nil {
		stop()
		log, _ := os.ReadFile(logFile.Name())
		return nil, fmt.Errorf("%s: %w\n%s log:\n%s", name, err, name, tail(log, 2000))
	}
	return stop, nil
}

// serveFloor is floor mode: it serves the bytes of bodyFile on addr until
// interrupted.
func serveFloor(addr, bodyFile, contentType string) error {
	body, err := os.ReadFile(bodyFile)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: floorHandler(body, contentType), ReadHeaderTimeout: 5 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// serverEnv is this process's environment with the store selected by
// storeURL and nothing else of the cache's configuration, so that a
// developer's variables do not change what is measured.
func serverEnv(storeURL string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "REDIS_URL=") || strings.HasPrefix(kv, "EMGCACHE_") {
			continue
		}
		env = append(env, kv)
	}
	if storeURL != "" {
		env = append(env, "REDIS_URL="+storeURL)
	}
	return env
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().String(), nil
}

// waitReady polls url until the server answers at all.
func waitReady(ctx context.Context, client *http.Client, url string, exited <-chan struct{}) error {
	deadline := time.Now().Add(serverReadyAfter)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("server exited before it was ready")
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			_ = resp.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("server not answering %s after %v", url, serverReadyAfter)
}

// uploadSample posts the CSV recording at path and returns its file hash.
func uploadSample(ctx context.Context, client *http.Client, base, path string) (string, error) {
	csv, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/emg/files?sample_rate="+sampleRate, bytes.NewReader(csv))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "text/csv")
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("upload: %s: %s", resp.Status, tail(b, 500))
	}
	var meta struct {
		FileHash string `json:"file_hash"`
	}
	if err := json.Unmarshal(b, &meta); err != nil || meta.FileHash == "" {
		return "", fmt.Errorf("upload: no file_hash in %s", tail(b, 500))
	}
	return meta.FileHash, nil
}

// fetch GETs url and returns its body and Content-Type.
func fetch(ctx context.Context, client *http.Client, url string) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("GET %s: %s: %s", url, resp.Status, tail(b, 500))
	}
	return b, resp.Header.Get("Content-Type"), nil
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// sampleAnalysis is the analysis of a recording of the shipped sample's
// shape (4 channels, 2 s at 2 kHz), computed by emg.Analyze.
func sampleAnalysis() (*emg.Analysis, error) {
	return emg.Analyze(emg.Synthesize(emg.SynthOptions{}), emg.AnalysisOptions{})
}
