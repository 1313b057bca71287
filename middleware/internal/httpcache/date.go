package httpcache

import "time"

// ParseHTTPDate parses an HTTP-date as RFC 9110 §5.6.7 defines it, and
// nothing else: IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), or one of
// the two obsolete forms every recipient must accept, rfc850-date
// ("Sunday, 06-Nov-94 08:49:37 GMT") and asctime-date
// ("Sun Nov  6 08:49:37 1994"). The grammar is case-sensitive and has
// fixed widths, so a one-digit hour, a doubled space, "UTC" for "GMT", a
// two-digit year in IMF-fixdate or a day that is not in its month is
// rejected; net/http's ParseTime accepts several of those, which is why
// this exists. A two-digit rfc850 year is read as 1970-2069, the pivot
// Go's time package uses; RFC 9110 asks for "within 50 years of now",
// which would make the result depend on the clock.
func ParseHTTPDate(s string) (time.Time, bool) {
	switch {
	case len(s) == len("Sun, 06 Nov 1994 08:49:37 GMT") && s[3] == ',':
		return parseIMFFixdate(s)
	case len(s) == len("Sun Nov  6 08:49:37 1994") && s[3] == ' ':
		return parseASCTime(s)
	default:
		return parseRFC850(s)
	}
}

var (
	dayNames  = [7]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}
	longDays  = [7]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
	monthName = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
)

// parseIMFFixdate: day-name "," SP 2DIGIT SP month SP 4DIGIT SP time SP "GMT".
func parseIMFFixdate(s string) (time.Time, bool) {
	if !isDayName(s[:3]) || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' || s[25:] != " GMT" {
		return time.Time{}, false
	}
	day, ok1 := digits(s[5:7])
	month, ok2 := monthNumber(s[8:11])
	year, ok3 := digits(s[12:16])
	if !ok1 || !ok2 || !ok3 {
		return time.Time{}, false
	}
	return build(year, month, day, s[17:25])
}

// parseRFC850: day-name-l "," SP 2DIGIT "-" month "-" 2DIGIT SP time SP "GMT".
func parseRFC850(s string) (time.Time, bool) {
	comma := -1
	for i, name := range longDays {
		if len(s) > len(name) && s[:len(name)] == name {
			comma = len(longDays[i])
			break
		}
	}
	const rest = len(", 06-Nov-94 08:49:37 GMT")
	if comma < 0 || len(s) != comma+rest {
		return time.Time{}, false
	}
	s = s[comma:]
	if s[:2] != ", " || s[4] != '-' || s[8] != '-' || s[11] != ' ' || s[20:] != " GMT" {
		return time.Time{}, false
	}
	day, ok1 := digits(s[2:4])
	month, ok2 := monthNumber(s[5:8])
	yy, ok3 := digits(s[9:11])
	if !ok1 || !ok2 || !ok3 {
		return time.Time{}, false
	}
	year := 1900 + yy
	if yy < 70 {
		year = 2000 + yy
	}
	return build(year, month, day, s[12:20])
}

// parseASCTime: day-name SP month SP ( 2DIGIT / ( SP DIGIT ) ) SP time SP 4DIGIT.
func parseASCTime(s string) (time.Time, bool) {
	if !isDayName(s[:3]) || s[7] != ' ' || s[10] != ' ' || s[19] != ' ' {
		return time.Time{}, false
	}
	month, ok1 := monthNumber(s[4:7])
	d := s[8:10]
	if d[0] == ' ' {
		d = d[1:]
	}
	day, ok2 := digits(d)
	year, ok3 := digits(s[20:24])
	if !ok1 || !ok2 || !ok3 {
		return time.Time{}, false
	}
	return build(year, month, day, s[11:19])
}

// build checks time-of-day (2DIGIT ":" 2DIGIT ":" 2DIGIT) and the ranges,
// and returns the instant in UTC. A second of 60 (a leap second) is allowed
// by the grammar and read as the next second.
func build(year int, month time.Month, day int, tod string) (time.Time, bool) {
	if tod[2] != ':' || tod[5] != ':' {
		return time.Time{}, false
	}
	h, ok1 := digits(tod[0:2])
	m, ok2 := digits(tod[3:5])
	sec, ok3 := digits(tod[6:8])
	if !ok1 || !ok2 || !ok3 || h > 23 || m > 59 || sec > 60 || day < 1 {
		return time.Time{}, false
	}
	if d := time.Date(year, month, day, 0, 0, 0, 0, time.UTC); d.Day() != day {
		// time.Date normalised an impossible day such as Feb 30.
		return time.Time{}, false
	}
	return time.Date(year, month, day, h, m, sec, 0, time.UTC), true
}

func isDayName(s string) bool {
	for _, d := range dayNames {
		if s == d {
			return true
		}
	}
	return false
}

func monthNumber(s string) (time.Month, bool) {
	for i, m := range monthName {
		if s == m {
			return time.Month(i + 1), true
		}
	}
	return 0, false
}

// digits parses a fixed-width run of ASCII digits.
func digits(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	v := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// FormatHTTPDate formats t as an IMF-fixdate, the form a sender must use.
func FormatHTTPDate(t time.Time) string {
	return t.UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT")
}
