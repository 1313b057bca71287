package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/health"
	"github.com/emgcache/emgcache/store"
)

// filledCache holds two analyses and one metadata entry.
func filledCache(t *testing.T) *store.Cache {
	t.Helper()
	cache := openMemory(t)
	for _, k := range []string{"emg_analysis:a1", "emg_analysis:b2", "emg_metadata:a1"} {
		require.NoError(t, cache.Set(t.Context(), k, []byte("{}"), 0))
	}
	return cache
}

func TestInvalidate(t *testing.T) {
	tests := []struct {
		name string
		// opts configure the server; AdminToken is testToken unless
		// disabled is set.
		opts     health.Options
		disabled bool
		// env is $CACHE_ADMIN_TOKEN, args what follows the server flag.
		env        string
		args       []string
		wantCode   int
		wantOut    string
		wantErrOut string
		// wantLeft is how many of the three keys remain.
		wantLeft int
	}{
		{
			name:     "removes the matching keys",
			args:     []string{"-token", testToken, "invalidate", "emg_analysis:*"},
			wantCode: exitOK,
			wantOut:  "removed 2 keys matching emg_analysis:*\n",
			wantLeft: 1,
		},
		{
			name:     "one key",
			args:     []string{"-token", testToken, "invalidate", "emg_metadata:a1"},
			wantCode: exitOK,
			wantOut:  "removed 1 key matching emg_metadata:a1\n",
			wantLeft: 2,
		},
		{
			name:     "token from the environment",
			env:      testToken,
			args:     []string{"invalidate", "*"},
			wantCode: exitOK,
			wantOut:  "removed 3 keys matching *\n",
			wantLeft: 0,
		},
		{
			name:     "token after the command",
			args:     []string{"invalidate", "-token", testToken, "emg_*"},
			wantCode: exitOK,
			wantOut:  "removed 3 keys matching emg_*\n",
			wantLeft: 0,
		},
		{
			name:       "the key prefix repeated",
			args:       []string{"-token", testToken, "invalidate", "emgcache:*"},
			wantCode:   exitOK,
			wantOut:    "removed 0 keys matching emgcache:*\n",
			wantErrOut: `cachectl invalidate: note: patterns are matched under the key prefix "emgcache:"`,
			wantLeft:   3,
		},
		{
			name:       "no token",
			args:       []string{"invalidate", "*"},
			wantCode:   exitError,
			wantErrOut: "cachectl invalidate: admin token missing or wrong (set CACHE_ADMIN_TOKEN or -token)\n",
			wantLeft:   3,
		},
		{
			name:       "wrong token",
			args:       []string{"-token", "guess", "invalidate", "*"},
			wantCode:   exitError,
			wantErrOut: "cachectl invalidate: admin token missing or wrong (set CACHE_ADMIN_TOKEN or -token)\n",
			wantLeft:   3,
		},
		{
			name:       "bad pattern",
			args:       []string{"-token", testToken, "invalidate", "emg_[abc"},
			wantCode:   exitError,
			wantErrOut: `cachectl invalidate: bad pattern "emg_[abc": `,
			wantLeft:   3,
		},
		{
			name:       "empty pattern",
			args:       []string{"-token", testToken, "invalidate", ""},
			wantCode:   exitError,
			wantErrOut: `cachectl invalidate: bad pattern "": empty pattern`,
			wantLeft:   3,
		},
		{
			name: "rate limited",
			// The first call spends the burst of one.
			opts:       health.Options{InvalidateBurst: 1, InvalidateInterval: time.Hour},
			args:       []string{"-token", testToken, "invalidate", "nothing:*"},
			wantCode:   exitError,
			wantErrOut: "cachectl invalidate: rate limited by the server: retry in 1h0m0s\n",
			wantLeft:   3,
		},
		{
			name:       "disabled on the server",
			disabled:   true,
			args:       []string{"-token", testToken, "invalidate", "*"},
			wantCode:   exitError,
			wantErrOut: "cachectl invalidate: invalidation is disabled on the server: it has no admin token configured\n",
			wantLeft:   3,
		},
		{
			name:       "no pattern",
			args:       []string{"-token", testToken, "invalidate"},
			wantCode:   exitError,
			wantErrOut: "cachectl invalidate: needs exactly one PATTERN\n",
			wantLeft:   3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(envToken, tt.env)
			cache := filledCache(t)
			opts := tt.opts
			if !tt.disabled {
				opts.AdminToken = testToken
			}
			url := serveAPI(t, cache, opts)
			if opts.InvalidateBurst == 1 {
				code, _, errOut := cachectl(t, "-server", url, "-token", testToken, "invalidate", "nothing:*")
				require.Equal(t, exitOK, code, errOut)
			}

			code, out, errOut := cachectl(t, append([]string{"-server", url}, tt.args...)...)
			assert.Equal(t, tt.wantCode, code, "stderr: %s", errOut)
			assert.Equal(t, tt.wantOut, out)
			if tt.wantErrOut == "" {
				assert.Empty(t, errOut)
			} else {
				assert.Contains(t, errOut, tt.wantErrOut)
			}
			left := 0
			require.NoError(t, cache.Scan(t.Context(), "*", func(keys []string) error {
				left += len(keys)
				return nil
			}))
			assert.Equal(t, tt.wantLeft, left)
		})
	}
}
