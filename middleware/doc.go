// Package middleware caches net/http handler responses in a [store.Cache]
// under EMG keys such as emg_analysis:{file_hash}. It is a plain
// func(http.Handler) http.Handler, so it works with any router.
package middleware
