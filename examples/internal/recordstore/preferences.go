package recordstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// MaxPreferencesBytes bounds one user's stored preferences document.
const MaxPreferencesBytes = 16 << 10

// ErrBadPreferences reports a preferences document that is not a JSON
// object or is larger than MaxPreferencesBytes.
var ErrBadPreferences = errors.New("preferences must be a JSON object of at most 16 KiB")

const prefsSchema = `
CREATE TABLE IF NOT EXISTS user_preferences (
	user_id    TEXT PRIMARY KEY,
	prefs      TEXT NOT NULL, -- a JSON object
	updated_at TEXT NOT NULL
)`

// Preferences returns the stored preferences document (a JSON object) of
// userID, or ErrNotFound.
func (r *Repository) Preferences(ctx context.Context, userID string) (json.RawMessage, error) {
	var doc string
	err := r.db.QueryRowContext(ctx, `SELECT prefs FROM user_preferences WHERE user_id = ?`, userID).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read preferences: %w", err)
	}
	return json.RawMessage(doc), nil
}

// SavePreferences replaces the preferences document of userID. doc must be
// a JSON object of at most MaxPreferencesBytes, or the error wraps
// ErrBadPreferences and nothing is stored. The stored form is compacted.
func (r *Repository) SavePreferences(ctx context.Context, userID string, doc []byte) (json.RawMessage, error) {
	if len(doc) > MaxPreferencesBytes {
		return nil, fmt.Errorf("%w: %d bytes", ErrBadPreferences, len(doc))
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(doc, &obj); err != nil || obj == nil {
		return nil, fmt.Errorf("%w: not a JSON object", ErrBadPreferences)
	}
	compact, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadPreferences, err)
	}
	_, err = r.db.ExecContext(ctx,
		`INSERT INTO user_preferences (user_id, prefs, updated_at) VALUES (?, ?, ?)
		 ON CONFLICT(user_id) DO UPDATE SET prefs = excluded.prefs, updated_at = excluded.updated_at`,
		userID, string(compact), time.Now().UTC().Format(time.RFC3339Nano))
	if err != nil {
		return nil, fmt.Errorf("save preferences: %w", err)
	}
	return compact, nil
}
