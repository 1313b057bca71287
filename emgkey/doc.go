// Package emgkey is the key layout of the EMG service: where a recording's
// analysis, its metadata and a user's preferences live in the cache.
//
//	emg_analysis:{file_hash}   an analysis (the HTTP responses about a file
//	                           are stored under it: emg_analysis:{file_hash}:{digest})
//	emg_metadata:{file_hash}   a recording's metadata
//	user_prefs:{hash of id}    a user's preferences
//	emg_file:{file_hash}       the namespace of everything cached for a file
//
// Every EMG key is built by one of its functions, never by hand, so that a
// malformed hash or a raw user id cannot reach the cache: start with
// [FileHash] to validate what a request carries, then [Analysis],
// [Metadata] or [FileNamespace] for the key. [UserPrefs] hides the user id
// behind a hash.
//
// The package imports the standard library only; the generic layers (store,
// patterns, middleware) take any key, and this is the one place that knows
// the EMG names. A key it rejects is an [ErrInvalid] error.
package emgkey
