package main

import (
	"bytes"
	"mime"
	"strings"

	"github.com/emgcache/emgcache/emg/c3d"
)

// Upload formats.
const (
	formatCSV = "csv"
	formatC3D = "c3d"
)

// formURLEncoded is what curl -d sends, and also curl --data-binary unless
// told otherwise, so it alone proves nothing.
const formURLEncoded = "application/x-www-form-urlencoded"

// dataBinaryHint is the fix for the usual ways a recording gets mangled
// on its way in.
const dataBinaryHint = "send the file itself as the body: curl --data-binary @recording.csv (curl -d strips line breaks and curl -F wraps the file in a form)"

// detectFormat names the format of an upload by its bytes: C3D files start
// with a parameter block number and the byte 0x50, and their parameter
// section names a processor; anything else is taken for CSV.
func detectFormat(raw []byte) string {
	if c3d.Sniff(raw) && len(raw) >= c3d.BlockSize {
		return formatC3D
	}
	return formatCSV
}

func describeFormat(format string) string {
	if format == formatC3D {
		return "a C3D file (recognised by its header)"
	}
	return "not a C3D file, so it is read as CSV"
}

// checkUploadType refuses bodies that announce a form or JSON: the file
// must be the body itself.
func checkUploadType(contentType string) error {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil // an unparsable type says nothing; the body decides
	}
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		return &clientError{msg: "the upload is a " + mt + " form (curl -F); " + dataBinaryHint, err: errUnsupportedMedia}
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return &clientError{msg: "the upload is JSON; " + dataBinaryHint, err: errUnsupportedMedia}
	}
	return nil
}

// checkCSVBody refuses what cannot be a CSV recording for a reason the
// client can fix: a form or JSON sent without its type, or a body whose
// line breaks were stripped.
func checkCSVBody(raw []byte) error {
	trimmed := bytes.TrimLeft(raw, " \t\r\n")
	switch {
	case len(trimmed) == 0:
		return nil // the reader reports an empty recording
	case bytes.HasPrefix(trimmed, []byte("--")) && bytes.Contains(raw[:min(len(raw), 1024)], []byte("Content-Disposition: form-data")):
		return &clientError{msg: "the upload is a multipart form (curl -F); " + dataBinaryHint, err: errUnsupportedMedia}
	case trimmed[0] == '{' || trimmed[0] == '[':
		return &clientError{msg: "the upload is JSON, not CSV; " + dataBinaryHint, err: errUnsupportedMedia}
	case bytes.IndexByte(raw, '\n') < 0 && bytes.IndexByte(raw, '\r') < 0:
		return badRequest("the upload has no line breaks, so it holds a header and no rows; " + dataBinaryHint)
	}
	return nil
}
