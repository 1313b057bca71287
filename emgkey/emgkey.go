package emgkey

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// The key families. A file's families share its hash, so that everything
// cached for one file can be found from the hash alone.
const (
	AnalysisPrefix  = "emg_analysis:"
	MetadataPrefix  = "emg_metadata:"
	UserPrefsPrefix = "user_prefs:"
	// FilePrefix starts the namespace of one file (see FileNamespace).
	FilePrefix = "emg_file:"
)

// ErrInvalid means the input cannot be part of an EMG key: a file hash that
// is not a hex digest, or an empty user id.
var ErrInvalid = errors.New("emgkey: invalid key input")

// FileHash checks that h is a hex digest of a length MD5, SHA-1, SHA-256 or
// SHA-512 produce (32, 40, 64 or 128 digits, either case) and returns it in
// lower case, without allocating when it already is. Anything else is
// ErrInvalid.
func FileHash(h string) (string, error) {
	switch len(h) {
	case 32, 40, 64, 128:
	default:
		return "", fmt.Errorf("%w: file hash must be 32, 40, 64 or 128 hex digits, got %d bytes", ErrInvalid, len(h))
	}
	lower := true
	for i := 0; i < len(h); i++ {
		switch c := h[i]; {
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f':
		case 'A' <= c && c <= 'F':
			lower = false
		default:
			return "", fmt.Errorf("%w: file hash has a non-hex byte at %d", ErrInvalid, i)
		}
	}
	if lower {
		return h, nil
	}
	b := []byte(h)
	for i, c := range b {
		if 'A' <= c && c <= 'F' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b), nil
}

// Analysis returns emg_analysis:{file_hash}, or ErrInvalid when the hash is
// not a hex digest.
func Analysis(fileHash string) (string, error) {
	return withHash(AnalysisPrefix, fileHash)
}

// Metadata returns emg_metadata:{file_hash}, or ErrInvalid when the hash is
// not a hex digest.
func Metadata(fileHash string) (string, error) {
	return withHash(MetadataPrefix, fileHash)
}

// FileNamespace returns emg_file:{file_hash}, the namespace of everything
// cached for one file. Callers put the namespace's version into the file's
// keys (patterns.Layer.VersionedKey; the middleware's default does it for
// the HTTP responses), so that one store.Cache.InvalidateNamespace drops
// all of them. ErrInvalid when the hash is not a hex digest.
func FileNamespace(fileHash string) (string, error) {
	return withHash(FilePrefix, fileHash)
}

// FileKeys returns the unversioned keys of every family that holds data of
// one file (analysis, metadata), for removing all of them at once.
func FileKeys(fileHash string) ([]string, error) {
	h, err := FileHash(fileHash)
	if err != nil {
		return nil, err
	}
	return []string{AnalysisPrefix + h, MetadataPrefix + h}, nil
}

// UserPrefs returns user_prefs:{hash of the user id}. The id never appears
// in the key: it is hashed with SHA-256, so a key seen in Redis or a log
// does not reveal whose it is. An empty id is ErrInvalid.
func UserPrefs(userID string) (string, error) {
	if userID == "" {
		return "", fmt.Errorf("%w: empty user id", ErrInvalid)
	}
	sum := sha256.Sum256([]byte("emgcache user id\x00" + userID))
	return UserPrefsPrefix + hex.EncodeToString(sum[:]), nil
}

func withHash(prefix, fileHash string) (string, error) {
	h, err := FileHash(fileHash)
	if err != nil {
		return "", err
	}
	return prefix + h, nil
}
