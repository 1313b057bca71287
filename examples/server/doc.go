// Command server runs the EMG workflow behind the cache and the monitoring API.
package main
