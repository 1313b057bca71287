package emgkey_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/emgcache/emgcache/emgkey"
)

const (
	md5Empty  = "d41d8cd98f00b204e9800998ecf8427e"
	sha1Empty = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
)

func TestFileHash(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"md5", md5Empty, md5Empty},
		{"sha1 upper case", strings.ToUpper(sha1Empty), sha1Empty},
		{"sha256", strings.Repeat("ab", 32), strings.Repeat("ab", 32)},
		{"sha512", strings.Repeat("0f", 64), strings.Repeat("0f", 64)},
		{"empty", "", ""},
		{"short", "xyz", ""},
		{"non-hex", md5Empty[:31] + "g", ""},
		{"glob", md5Empty + "*", ""},
		{"colon", md5Empty[:30] + ":e", ""},
		{"path", "../../etc/passwd", ""},
		{"odd length", md5Empty + "0", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := emgkey.FileHash(tc.in)
			if tc.want == "" {
				if !errors.Is(err, emgkey.ErrInvalid) {
					t.Fatalf("FileHash(%q) = %q, %v; want ErrInvalid", tc.in, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("FileHash(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestFileHashLowerCaseAllocatesNothing(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() { _, _ = emgkey.FileHash(md5Empty) })
	if allocs != 0 {
		t.Fatalf("FileHash of a lower-case hash allocates %v times", allocs)
	}
}

func TestBuilders(t *testing.T) {
	upper := strings.ToUpper(md5Empty)
	cases := []struct {
		name  string
		build func(string) (string, error)
		want  string
	}{
		{"Analysis", emgkey.Analysis, "emg_analysis:" + md5Empty},
		{"Metadata", emgkey.Metadata, "emg_metadata:" + md5Empty},
		{"FileNamespace", emgkey.FileNamespace, "emg_file:" + md5Empty},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.build(upper)
			if err != nil || got != tc.want {
				t.Fatalf("%s(%q) = %q, %v; want %q", tc.name, upper, got, err, tc.want)
			}
			if _, err := tc.build("not-a-hash"); !errors.Is(err, emgkey.ErrInvalid) {
				t.Fatalf("%s of a bad hash: %v, want ErrInvalid", tc.name, err)
			}
		})
	}
}

func TestFileKeys(t *testing.T) {
	keys, err := emgkey.FileKeys(sha1Empty)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{emgkey.AnalysisPrefix + sha1Empty, emgkey.MetadataPrefix + sha1Empty}
	if strings.Join(keys, " ") != strings.Join(want, " ") {
		t.Fatalf("FileKeys = %q, want %q", keys, want)
	}
	if _, err := emgkey.FileKeys(""); !errors.Is(err, emgkey.ErrInvalid) {
		t.Fatalf("FileKeys(\"\"): %v, want ErrInvalid", err)
	}
}

func TestUserPrefsHidesID(t *testing.T) {
	k, err := emgkey.UserPrefs("alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(k, "alice") {
		t.Fatalf("UserPrefs key %q shows the id", k)
	}
	if !regexp.MustCompile(`^user_prefs:[0-9a-f]{64}$`).MatchString(k) {
		t.Fatalf("UserPrefs key %q is not user_prefs:{sha256}", k)
	}
	if other, _ := emgkey.UserPrefs("bob@example.com"); other == k {
		t.Fatal("two users share a key")
	}
	if _, err := emgkey.UserPrefs(""); !errors.Is(err, emgkey.ErrInvalid) {
		t.Fatalf("UserPrefs(\"\"): %v, want ErrInvalid", err)
	}
}
