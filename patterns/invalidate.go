package patterns

import (
	"context"
	"fmt"
	"strings"

	"github.com/emgcache/emgcache/store"
)

// InvalidatePattern removes every key of the cache matching the glob
// pattern and returns how many it removed. It walks the keyspace with SCAN
// and UNLINK in batches on every primary of a cluster, never KEYS. The
// pattern is confined to the cache's key prefix, so "*" means everything this
// cache wrote and never another application's keys. A bad pattern (empty,
// over 1 KiB, an unbalanced '[') gets store.ErrInvalidPattern and removes
// nothing.
func (p *Patterns) InvalidatePattern(ctx context.Context, pattern string) (int64, error) {
	n, err := p.cache.DeletePattern(ctx, pattern)
	if err != nil {
		return n, fmt.Errorf("invalidate %q: %w", pattern, err)
	}
	return n, nil
}

// InvalidateFile removes everything cached for one EMG file and returns how
// many keys it removed: emg_analysis:{hash} and emg_metadata:{hash}, and the
// variants stored under them, such as emg_analysis:{hash}:{digest} written
// by the HTTP middleware. The hash is validated as store.ValidateFileHash
// does (a bad one is store.ErrInvalidKey and removes nothing) and may be in
// either case.
func (p *Patterns) InvalidateFile(ctx context.Context, fileHash string) (int64, error) {
	keys, err := store.FileKeys(fileHash)
	if err != nil {
		return 0, fmt.Errorf("invalidate file: %w", err)
	}
	hash := strings.TrimPrefix(keys[0], store.AnalysisPrefix)
	n, err := p.cache.DeleteMany(ctx, keys...)
	if err != nil {
		return n, fmt.Errorf("invalidate file %s: %w", hash, err)
	}
	// One walk of the keyspace for both families: two DeletePattern calls
	// would SCAN every node twice. The glob also admits other emg_ families
	// (and a hash that shows up later in a key), which the prefix test below
	// leaves alone.
	variants := []string{keys[0] + ":", keys[1] + ":"}
	err = p.cache.Scan(ctx, "emg_*:"+hash+":*", func(found []string) error {
		ours := found[:0]
		for _, k := range found {
			if strings.HasPrefix(k, variants[0]) || strings.HasPrefix(k, variants[1]) {
				ours = append(ours, k)
			}
		}
		if len(ours) == 0 {
			return nil
		}
		m, err := p.cache.DeleteMany(ctx, ours...)
		n += m
		return err
	})
	if err != nil {
		return n, fmt.Errorf("invalidate file %s: %w", hash, err)
	}
	return n, nil
}
