// Package examples holds runnable programs built on emgcache: the EMG server,
// the cachectl command-line tool and smaller examples.
package examples
