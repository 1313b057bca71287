package storetest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ErrNil is returned by Do when the server replies with a nil, such as GET of
// a missing key, so that tests can tell it from an empty string.
var ErrNil = errors.New("storetest: nil reply")

// ReplyError is an error reply of the server, such as "ERR unknown command"
// or "MOVED 866 127.0.0.1:7001". Do wraps it, so test for it with errors.As.
type ReplyError string

func (e ReplyError) Error() string { return string(e) }

// maxBulk bounds what a reply may make us allocate; a corrupt length must not
// take the test binary down. It matches the largest string Redis stores.
const maxBulk = 512 << 20

// writeCommand encodes args as a RESP array of bulk strings, the one request
// form every Redis version accepts.
func writeCommand(w *bufio.Writer, args []string) error {
	fmt.Fprintf(w, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(w, "$%d\r\n%s\r\n", len(a), a)
	}
	return w.Flush()
}

// readReply decodes one RESP2 reply into string, int64, nil, ReplyError or
// []any. Error replies come back as values, not errors, because inside an
// array (EXEC) they are data; only the outermost one fails the command.
func readReply(r *bufio.Reader) (any, error) {
	line, err := readLine(r)
	if err != nil {
		return nil, err
	}
	if line == "" {
		return nil, errors.New("empty reply line")
	}
	kind, rest := line[0], line[1:]
	switch kind {
	case '+':
		return rest, nil
	case '-':
		return ReplyError(rest), nil
	case ':':
		n, err := strconv.ParseInt(rest, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bad integer reply %q: %w", rest, err)
		}
		return n, nil
	case '$':
		n, err := parseLen(rest)
		if err != nil || n < 0 {
			return nil, err
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, fmt.Errorf("read bulk string: %w", err)
		}
		if buf[n] != '\r' || buf[n+1] != '\n' {
			return nil, errors.New("bulk string not terminated by CRLF")
		}
		return string(buf[:n]), nil
	case '*':
		n, err := parseLen(rest)
		if err != nil || n < 0 {
			return nil, err
		}
		elems := make([]any, 0, min(n, 1024))
		for range n {
			e, err := readReply(r)
			if err != nil {
				return nil, err
			}
			elems = append(elems, e)
		}
		return elems, nil
	default:
		return nil, fmt.Errorf("unexpected reply type %q", kind)
	}
}

// parseLen parses the length of a bulk string or array; -1 means nil.
func parseLen(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("bad length %q: %w", s, err)
	}
	if n < -1 || n > maxBulk {
		return 0, fmt.Errorf("length %d out of range", n)
	}
	return n, nil
}

func readLine(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("read reply: %w", err)
	}
	if !strings.HasSuffix(line, "\r\n") {
		return "", fmt.Errorf("reply line %q not terminated by CRLF", line)
	}
	return line[:len(line)-2], nil
}

// render turns a decoded reply into the text Do returns. Arrays are
// flattened one element per line, which is what tests grep in; nil elements
// become empty lines.
func render(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case ReplyError:
		return string(v)
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = render(e)
		}
		return strings.Join(parts, "\n")
	default:
		return fmt.Sprint(v)
	}
}
