package store

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// The EMG key families. Every key of the EMG workflow is built by one of the
// functions below, never by hand, so that a malformed hash or a raw user id
// cannot reach Redis.
const (
	AnalysisPrefix  = "emg_analysis:"
	MetadataPrefix  = "emg_metadata:"
	UserPrefsPrefix = "user_prefs:"
)

// Accepted file hash lengths in hex digits: MD5, SHA-1, SHA-256, SHA-512.
var fileHashLens = map[int]bool{32: true, 40: true, 64: true, 128: true}

// ValidateFileHash checks that h is a hex digest (MD5, SHA-1, SHA-256 or
// SHA-512 length; upper or lower case) and returns it in lower case. Anything
// else is ErrInvalidKey.
func ValidateFileHash(h string) (string, error) {
	if !fileHashLens[len(h)] {
		return "", fmt.Errorf("%w: file hash must be 32, 40, 64 or 128 hex digits, got %d bytes", ErrInvalidKey, len(h))
	}
	b := []byte(h)
	for i, c := range b {
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
		case c >= 'A' && c <= 'F':
			b[i] = c + ('a' - 'A')
		default:
			return "", fmt.Errorf("%w: file hash has a non-hex byte at %d", ErrInvalidKey, i)
		}
	}
	return string(b), nil
}

// AnalysisKey returns emg_analysis:{file_hash}, or ErrInvalidKey when the
// hash is not a hex digest.
func AnalysisKey(fileHash string) (string, error) {
	h, err := ValidateFileHash(fileHash)
	if err != nil {
		return "", err
	}
	return AnalysisPrefix + h, nil
}

// MetadataKey returns emg_metadata:{file_hash}, or ErrInvalidKey when the
// hash is not a hex digest.
func MetadataKey(fileHash string) (string, error) {
	h, err := ValidateFileHash(fileHash)
	if err != nil {
		return "", err
	}
	return MetadataPrefix + h, nil
}

// UserPrefsKey returns user_prefs:{hash of user id}. The id never appears
// in the key: it is hashed with SHA-256, so a key seen in Redis or a log
// does not reveal who it belongs to. An empty id is ErrInvalidKey.
func UserPrefsKey(userID string) (string, error) {
	if userID == "" {
		return "", fmt.Errorf("%w: empty user id", ErrInvalidKey)
	}
	sum := sha256.Sum256([]byte("emgcache user id\x00" + userID))
	return UserPrefsPrefix + hex.EncodeToString(sum[:]), nil
}

// FileKeys returns every key family that holds data of one EMG file, for
// removing all of it at once.
func FileKeys(fileHash string) ([]string, error) {
	h, err := ValidateFileHash(fileHash)
	if err != nil {
		return nil, err
	}
	return []string{AnalysisPrefix + h, MetadataPrefix + h}, nil
}

// FilePrefix starts the namespace of one EMG file (see FileNamespace).
const FilePrefix = "emg_file:"

// FileNamespace returns the namespace of everything cached for one EMG
// file, emg_file:{file_hash}: its analysis, its metadata and the HTTP
// responses about it carry the namespace's version in their keys, so that
// Cache.InvalidateNamespace on it drops all of them in one write. A hash
// that is not a hex digest is ErrInvalidKey.
func FileNamespace(fileHash string) (string, error) {
	h, err := ValidateFileHash(fileHash)
	if err != nil {
		return "", err
	}
	return FilePrefix + h, nil
}
