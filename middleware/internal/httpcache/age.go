package httpcache

import (
	"net/http"
	"strings"
	"time"
)

// InitialAge is the corrected_initial_age of RFC 9111 §4.2.3: how old the
// response already was when it arrived, from the larger of its apparent age
// (arrival minus Date) and its Age field plus the time the request took.
// requestTime is when the request was sent, responseTime when the response
// arrived. The current age is then InitialAge plus the time it has been
// stored (CurrentAge).
func InitialAge(h http.Header, requestTime, responseTime time.Time) time.Duration {
	apparent := max(responseTime.Sub(DateValue(h, responseTime)), 0)
	delay := max(responseTime.Sub(requestTime), 0)
	corrected := ageValue(h) + delay
	return max(apparent, corrected)
}

// CurrentAge is §4.2.3's current_age at now of a response that arrived at
// responseTime with the given initial age.
func CurrentAge(initial time.Duration, responseTime, now time.Time) time.Duration {
	return initial + max(now.Sub(responseTime), 0)
}

// ageValue reads the Age field (§5.1): the first member of the first line
// when a list was sent; an invalid value (anything but a non-negative
// integer) is ignored.
func ageValue(h http.Header) time.Duration {
	lines := h["Age"]
	if len(lines) == 0 {
		return 0
	}
	v, _, _ := strings.Cut(lines[0], ",")
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0
		}
	}
	return seconds(parseDelta(v))
}

// AgeSeconds formats an age for the Age field: whole seconds, rounded down,
// never negative, at most MaxDelta.
func AgeSeconds(age time.Duration) int64 {
	return min(max(int64(age/time.Second), 0), MaxDelta)
}
