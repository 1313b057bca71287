package store

import (
	"context"
	"testing"

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
