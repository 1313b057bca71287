package store_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/store"
	"github.com/emgcache/emgcache/store/storetest"
)

// The ways of reaching Redis that rueidis.ParseURL reads, each against a
// real server: a unix socket, a password, and TLS with a private CA.

func TestUnixSocketIntegration(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "redis.sock")
	srv := storetest.NewServer(t, storetest.Options{Args: []string{"--unixsocket", sock, "--unixsocketperm", "700"}})
	_ = srv
	c := openCache(t, store.Config{URL: "unix://" + sock})
	roundTrip(t, c)
}

func TestPasswordIntegration(t *testing.T) {
	srv := storetest.NewServer(t, storetest.Options{Password: "s3cret-pw"})
	ctx := context.Background()
	c := openCache(t, store.Config{URL: srv.URL()})
	roundTrip(t, c)

	wrong := openCache(t, store.Config{URL: "redis://:wrong-pw@" + srv.Addr() + "/0"})
	_, err := wrong.Get(ctx, "k")
	require.ErrorIs(t, err, store.ErrUnavailable)
	h := wrong.Health(ctx)
	assert.False(t, h.Healthy)
	assert.NotContains(t, h.Error, "wrong-pw")
	assert.Equal(t, "redis://:xxxxx@"+srv.Addr()+"/0", wrong.Config().RedactedURL())
}

func TestTLSIntegration(t *testing.T) {
	dir := t.TempDir()
	caPEM := writeTestCerts(t, dir)
	tlsPort := freePort(t)
	storetest.NewServer(t, storetest.Options{Args: []string{
		"--tls-port", strconv.Itoa(tlsPort),
		"--tls-cert-file", filepath.Join(dir, "server.crt"),
		"--tls-key-file", filepath.Join(dir, "server.key"),
		"--tls-ca-cert-file", filepath.Join(dir, "ca.crt"),
		"--tls-auth-clients", "no",
	}})
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(caPEM))
	url := "rediss://127.0.0.1:" + strconv.Itoa(tlsPort) + "/0"

	c := openCache(t, store.Config{URL: url, TLSConfig: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}})
	roundTrip(t, c)

	// Without the private CA the server is not trusted: no data flows.
	untrusted := openCache(t, store.Config{URL: url})
	_, err := untrusted.Get(context.Background(), "k")
	require.True(t, errors.Is(err, store.ErrUnavailable), "got %v", err)
}

func roundTrip(t *testing.T, c *store.Cache) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, c.Set(ctx, "k", []byte("v"), time.Minute))
	v, err := c.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, "v", string(v))
	assert.True(t, c.Health(ctx).Healthy)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// writeTestCerts writes a CA and a server certificate for 127.0.0.1 into
// dir and returns the CA in PEM.
func writeTestCerts(t *testing.T, dir string) []byte {
	t.Helper()
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		return k
	}
	caKey, srvKey := newKey(), newKey()
	now := time.Now()
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "emgcache test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	caCert, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	srv := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srv, caCert, &srvKey.PublicKey, caKey)
	require.NoError(t, err)
	srvKeyDER, err := x509.MarshalECPrivateKey(srvKey)
	require.NoError(t, err)
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	write := func(name string, data []byte) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o600))
	}
	write("ca.crt", caPEM)
	write("server.crt", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srvDER}))
	write("server.key", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: srvKeyDER}))
	return caPEM
}

func TestSentinelIntegration(t *testing.T) {
	master := storetest.NewServer(t)
	sentinel := storetest.NewSentinel(t, master, "emgmaster")
	c := openCache(t, store.Config{URL: sentinel.URL()})
	assert.Equal(t, "redis-sentinel", c.Backend())
	roundTrip(t, c)
	v, err := master.Do(context.Background(), "GET", c.Config().KeyPrefix+"k")
	require.NoError(t, err)
	assert.Equal(t, "v", v, "the data lives on the master Sentinel names")
}

// TestACLUserIntegration checks that the least-privilege ACL user
// docs/security.md recommends is enough for every store operation.
func TestACLUserIntegration(t *testing.T) {
	srv := storetest.NewServer(t)
	ctx := context.Background()
	_, err := srv.Do(ctx, "ACL", "SETUSER", "emgcache", "on", ">acl-pw", "~emgcache:*",
		"+@read", "+@write", "+@connection", "+@transaction", "+scan", "+info", "+role",
		"+client|tracking", "+client|caching", "+evalsha", "+eval")
	require.NoError(t, err)
	c := openCache(t, store.Config{URL: "redis://emgcache:acl-pw@" + srv.Addr() + "/0"})
	roundTrip(t, c)
	ok, err := c.SetNX(ctx, "lock", []byte("me"), time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = c.DeleteIfValue(ctx, "lock", []byte("me"))
	require.NoError(t, err)
	require.True(t, ok)
	for _, r := range c.GetMany(ctx, []string{"k", "absent"}) {
		require.True(t, r.Err == nil || errors.Is(r.Err, store.ErrNotFound), "%v", r.Err)
	}
	n, err := c.DeletePattern(ctx, "*")
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
	s := c.Stats(ctx)
	assert.True(t, s.Healthy)
	assert.Positive(t, s.MemoryBytes)

	// The user cannot touch keys outside the prefix.
	_, err = srv.Do(ctx, "SET", "other:key", "x")
	require.NoError(t, err)
	other := openCache(t, store.Config{URL: "redis://emgcache:acl-pw@" + srv.Addr() + "/0", KeyPrefix: "other:"})
	_, err = other.Get(ctx, "key")
	require.Error(t, err)
}
