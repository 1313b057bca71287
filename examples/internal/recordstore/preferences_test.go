package recordstore

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPreferences(t *testing.T) {
	ctx := context.Background()
	repo, err := Open(ctx, ":memory:")
	require.NoError(t, err)
	defer repo.Close()

	_, err = repo.Preferences(ctx, "alice")
	require.ErrorIs(t, err, ErrNotFound)

	saved, err := repo.SavePreferences(ctx, "alice", []byte(`{ "theme": "dark", "window_seconds": 0.5 }`))
	require.NoError(t, err)
	assert.JSONEq(t, `{"theme":"dark","window_seconds":0.5}`, string(saved))
	got, err := repo.Preferences(ctx, "alice")
	require.NoError(t, err)
	assert.JSONEq(t, string(saved), string(got))

	_, err = repo.SavePreferences(ctx, "alice", []byte(`{"theme":"light"}`))
	require.NoError(t, err)
	got, err = repo.Preferences(ctx, "alice")
	require.NoError(t, err)
	assert.JSONEq(t, `{"theme":"light"}`, string(got))

	for name, doc := range map[string]string{
		"not json":  `{theme`,
		"array":     `[1,2]`,
		"null":      `null`,
		"too large": `{"x":"` + strings.Repeat("a", MaxPreferencesBytes) + `"}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := repo.SavePreferences(ctx, "bob", []byte(doc))
			require.ErrorIs(t, err, ErrBadPreferences)
			_, err = repo.Preferences(ctx, "bob")
			require.ErrorIs(t, err, ErrNotFound, "nothing is stored")
		})
	}
}
