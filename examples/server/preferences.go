package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/emgcache/emgcache/emgkey"
	"github.com/emgcache/emgcache/examples/internal/recordstore"
	"github.com/emgcache/emgcache/patterns"
)

// maxUserIDBytes bounds a user id. Ids are opaque to the server, but one
// longer than this is a mistake or an attack, not an account.
const maxUserIDBytes = 256

// getPreferences answers GET /api/users/{user_id}/preferences with the
// user's preferences document (a JSON object): 200, or 404 when none was
// ever stored. It reads through the cache under user_prefs:{hashed id}.
func (s *server) getPreferences(w http.ResponseWriter, r *http.Request) {
	userID, key, err := userVar(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	doc, err := patterns.Aside(r.Context(), s.patterns, key, preferencesTTL, func(ctx context.Context) (json.RawMessage, error) {
		return s.repo.Preferences(ctx, userID)
	})
	if errors.Is(err, recordstore.ErrNotFound) {
		err = &clientError{msg: "no preferences stored for this user", err: err}
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, doc)
}

// putPreferences answers PUT /api/users/{user_id}/preferences, whose body
// is a JSON object of at most 16 KiB replacing the stored one: 200 and the
// document as stored. The database is written first, as the system of
// record, then the cache, so that the next read sees the new document.
func (s *server) putPreferences(w http.ResponseWriter, r *http.Request) {
	userID, key, err := userVar(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var body bytes.Buffer
	if _, err := body.ReadFrom(http.MaxBytesReader(w, r.Body, recordstore.MaxPreferencesBytes)); err != nil {
		if statusOf(err) != http.StatusRequestEntityTooLarge {
			err = badRequest("read preferences: %v", err)
		}
		s.fail(w, r, err)
		return
	}
	doc, err := s.repo.SavePreferences(r.Context(), userID, body.Bytes())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The database has the new document whether or not the client waits
	// for the answer, so the cache must get it too.
	ctx := context.WithoutCancel(r.Context())
	if err := s.cache.Set(ctx, key, doc, preferencesTTL); err != nil {
		s.cacheLog.absorbed(ctx, key, err)
		// Whatever the cache holds is now outdated; if it answers a
		// delete, reads go to the database until the next write.
		if _, err := s.cache.Delete(ctx, key); err != nil {
			s.cacheLog.absorbed(ctx, key, err)
		}
	}
	writeJSON(w, http.StatusOK, doc)
}

// userVar returns the route's user id and its cache key. The key holds a
// hash of the id, never the id itself.
func userVar(r *http.Request) (userID, key string, err error) {
	userID = pathValue(r, "user_id")
	switch {
	case userID == "":
		return "", "", badRequest("user_id is empty")
	case len(userID) > maxUserIDBytes:
		return "", "", badRequest("user_id is longer than %d bytes", maxUserIDBytes)
	case !utf8.ValidString(userID):
		return "", "", badRequest("user_id is not valid UTF-8")
	case strings.IndexFunc(userID, unicode.IsControl) >= 0:
		return "", "", badRequest("user_id holds control characters")
	}
	key, err = emgkey.UserPrefs(userID)
	return userID, key, err
}
