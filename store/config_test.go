package store

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A bad value read from the environment is reported under the variable's
// name, the one the operator set, never the Go field it fills.
func TestConfigFromEnvNamesTheVariable(t *testing.T) {
	tests := []struct {
		env, value, want string
	}{
		{EnvStaleBytes, "-1", `EMGCACHE_STALE_BYTES="-1" is negative`},
		{EnvMaxMemoryBytes, "-5", `EMGCACHE_MAX_MEMORY_BYTES="-5" is negative`},
		{EnvMaxEntryBytes, "lots", `EMGCACHE_MAX_ENTRY_BYTES="lots" is not an integer`},
		{EnvOpTimeout, "-1s", `EMGCACHE_OP_TIMEOUT="-1s" is negative`},
		{EnvDefaultTTL, "-60", `EMGCACHE_DEFAULT_TTL="-60" is negative`},
		{EnvKeyPrefix, "app:{x}:", `EMGCACHE_KEY_PREFIX="app:{x}:": contains a hash tag brace`},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			t.Setenv(tt.env, tt.value)
			_, err := Open(context.Background(), ConfigFromEnv())
			require.ErrorIs(t, err, ErrInvalidConfig)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	t.Run("a negative client-side cache turns it off", func(t *testing.T) {
		t.Setenv(EnvClientCacheBytes, "-1")
		cfg := ConfigFromEnv()
		assert.Equal(t, -1, cfg.ClientCacheBytes)
		_, err := cfg.withDefaults()
		assert.NoError(t, err)
	})
}

// ConfigFromGetenv reads every variable through the function it is given,
// and nothing from the process environment.
func TestConfigFromGetenvReadsOnlyGetenv(t *testing.T) {
	t.Setenv(EnvKeyPrefix, "process:")
	t.Setenv(EnvURL, "redis://process:6379")
	env := map[string]string{EnvURL: " redis://given:6379 ", EnvOpTimeout: "2s", EnvMaxEntryBytes: "1024"}
	var asked []string
	cfg := ConfigFromGetenv(func(name string) string {
		asked = append(asked, name)
		return env[name]
	})
	assert.Equal(t, "redis://given:6379", cfg.URL)
	assert.Empty(t, cfg.KeyPrefix, "the process environment is not read")
	assert.Equal(t, 2*time.Second, cfg.OpTimeout)
	assert.Equal(t, 1024, cfg.MaxEntryBytes)
	assert.Contains(t, asked, EnvURL)
	assert.Equal(t, 1, countOf(asked, EnvURL), "each variable is read once")
}

func countOf(list []string, s string) (n int) {
	for _, v := range list {
		if v == s {
			n++
		}
	}
	return n
}
