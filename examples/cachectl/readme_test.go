package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// markdownLink matches the target of [text](target).
var markdownLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// The READMEs a newcomer follows to cachectl link only files that exist.
func TestReadmeLinksResolve(t *testing.T) {
	for _, readme := range []string{"../../README.md", "README.md"} {
		t.Run(readme, func(t *testing.T) {
			text, err := os.ReadFile(readme)
			require.NoError(t, err)
			links := markdownLink.FindAllStringSubmatch(string(text), -1)
			require.NotEmpty(t, links)
			for _, m := range links {
				target, _, _ := strings.Cut(m[1], "#")
				if target == "" || strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				_, err := os.Stat(filepath.Join(filepath.Dir(readme), target))
				assert.NoError(t, err, "%s links %s", readme, m[1])
			}
		})
	}
}
