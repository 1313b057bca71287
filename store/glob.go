package store

import "fmt"

// validatePattern rejects what Redis would accept but a caller almost never
// means: an empty pattern, an overlong one, or an unbalanced '['.
func validatePattern(pattern string) error {
	if pattern == "" {
		return fmt.Errorf("%w: empty", ErrInvalidPattern)
	}
	if len(pattern) > MaxPatternBytes {
		return fmt.Errorf("%w: longer than %d bytes", ErrInvalidPattern, MaxPatternBytes)
	}
	for i := 0; i < len(pattern); i++ {
		switch pattern[i] {
		case '\\':
			i++
		case '[':
			j := i + 1
			if j < len(pattern) && pattern[j] == '^' {
				j++
			}
			for ; j < len(pattern) && pattern[j] != ']'; j++ {
				if pattern[j] == '\\' {
					j++
				}
			}
			if j >= len(pattern) {
				return fmt.Errorf("%w: unbalanced '[' at byte %d", ErrInvalidPattern, i)
			}
			i = j
		}
	}
	return nil
}

// escapeGlob quotes every glob metacharacter of s so that it matches itself.
func escapeGlob(s string) string {
	var out []byte
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', ']', '\\':
			if out == nil {
				out = append(make([]byte, 0, len(s)+4), s[:i]...)
			}
			out = append(out, '\\')
		}
		if out != nil {
			out = append(out, s[i])
		}
	}
	if out == nil {
		return s
	}
	return string(out)
}

// globMatch reports whether s matches pattern with Redis' glob rules
// (stringmatchlen): '*', '?', '[...]' with ranges and '^', and '\' escapes.
// It works on bytes, so keys need not be UTF-8.
func globMatch(pattern, s string) bool {
	p, n := 0, 0
	starP, starN := -1, 0
	for n < len(s) {
		if p < len(pattern) {
			switch pattern[p] {
			case '*':
				starP, starN = p, n
				p++
				continue
			case '?':
				p++
				n++
				continue
			case '[':
				end, ok := matchClass(pattern, p, s[n])
				if ok {
					p = end
					n++
					continue
				}
			case '\\':
				if p+1 < len(pattern) && pattern[p+1] == s[n] {
					p += 2
					n++
					continue
				}
			default:
				if pattern[p] == s[n] {
					p++
					n++
					continue
				}
			}
		}
		if starP >= 0 {
			starN++
			p, n = starP+1, starN
			continue
		}
		return false
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// matchClass matches c against the class starting at pattern[p] == '[' and
// returns the index after the closing ']'.
func matchClass(pattern string, p int, c byte) (int, bool) {
	i := p + 1
	negate := false
	if i < len(pattern) && pattern[i] == '^' {
		negate = true
		i++
	}
	matched := false
	for i < len(pattern) && pattern[i] != ']' {
		lo := pattern[i]
		if lo == '\\' && i+1 < len(pattern) {
			i++
			lo = pattern[i]
		}
		if i+2 < len(pattern) && pattern[i+1] == '-' && pattern[i+2] != ']' {
			hi := pattern[i+2]
			if hi == '\\' && i+3 < len(pattern) {
				i++
				hi = pattern[i+2]
			}
			if lo > hi {
				lo, hi = hi, lo
			}
			if c >= lo && c <= hi {
				matched = true
			}
			i += 3
			continue
		}
		if c == lo {
			matched = true
		}
		i++
	}
	if i >= len(pattern) {
		return 0, false
	}
	return i + 1, matched != negate
}
