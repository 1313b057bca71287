package store

import (
	"path"
	"strings"
	"testing"
)

// FuzzGlob: hostile patterns and keys never panic; a pattern that passes
// validation and an escaped key match themselves; "*" matches everything;
// and on patterns both dialects read alike (no classes, escapes or '^'),
// globMatch agrees with path.Match.
func FuzzGlob(f *testing.F) {
	for _, s := range [][2]string{
		{"emg_analysis:*", "emg_analysis:ab12"}, {"emg_[a-f]*", "emg_c"}, {"a?c", "abc"}, {`\*`, "*"},
		{"[^a]", "b"}, {"[", "["}, {"[z-a]", "m"}, {"*a*b*c", "aXbYc"}, {"", ""}, {`[\]]`, "]"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, key string) {
		got := globMatch(pattern, key)
		// Only the three documented reasons reject a pattern.
		if err := validatePattern(pattern); err != nil && pattern != "" && len(pattern) <= MaxPatternBytes && !strings.Contains(pattern, "[") {
			t.Fatalf("%q rejected: %v", pattern, err)
		}
		if !globMatch(escapeGlob(key), key) {
			t.Fatalf("escaped %q does not match itself", key)
		}
		if !globMatch("*", key) || !globMatch("*"+escapeGlob(key), key) || !globMatch(escapeGlob(key)+"*", key) {
			t.Fatalf("stars around %q", key)
		}
		if strings.ContainsAny(pattern, `[]\^/`) || strings.Contains(key, "/") {
			return
		}
		if want, err := path.Match(pattern, key); err == nil && want != got {
			t.Fatalf("globMatch(%q, %q) = %v, path.Match says %v", pattern, key, got, want)
		}
	})
}
