package emgkey_test

import (
	"errors"
	"fmt"

	"github.com/emgcache/emgcache/emgkey"
)

func Example() {
	// A hash as a request carries it: validated once, then used for keys.
	hash, err := emgkey.FileHash("9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08")
	if err != nil {
		fmt.Println(err)
		return
	}
	analysis, _ := emgkey.Analysis(hash)
	metadata, _ := emgkey.Metadata(hash)
	ns, _ := emgkey.FileNamespace(hash)
	fmt.Println(analysis)
	fmt.Println(metadata)
	fmt.Println(ns)

	_, err = emgkey.Analysis("../../etc/passwd")
	fmt.Println(errors.Is(err, emgkey.ErrInvalid))
	// Output:
	// emg_analysis:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
	// emg_metadata:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
	// emg_file:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
	// true
}

func ExampleUserPrefs() {
	key, _ := emgkey.UserPrefs("alice@example.com")
	fmt.Println(key[:len(emgkey.UserPrefsPrefix)], len(key))
	// Output: user_prefs: 75
}
