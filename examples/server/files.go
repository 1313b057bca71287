package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/emgcache/emgcache/emg"
	"github.com/emgcache/emgcache/emgkey"
	"github.com/emgcache/emgcache/examples/internal/recordstore"
	"github.com/emgcache/emgcache/patterns"
	"github.com/emgcache/emgcache/store"
)

// uploadFile answers POST /api/emg/files[?sample_rate=HZ][&format=csv|c3d][&channels=A,B]
// with the recording in the body: 201 and its metadata when it is new, 200
// and the first upload's metadata when the same bytes were stored before,
// 409 when they were stored with another sample rate or other channels.
// Nothing is stored unless the whole body parses.
//
// The format is recognised from the body: a C3D file by its header bytes,
// whatever the Content-Type says; anything else is CSV. format=, when
// given, must agree. CSV needs sample_rate; a C3D file states its own, and
// a sample_rate given with one must agree with it. channels= picks EMG
// channels of a C3D file by name (422 when one is not there).
func (s *server) uploadFile(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	format, err := singleParam(q, "format")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, ok := s.readers[format]; format != "" && !ok {
		s.fail(w, r, badRequest("format %q is not supported; use one of %s", excerpt(format), strings.Join(s.formats(), ", ")))
		return
	}
	rate, err := sampleRate(q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	channels, err := channelsParam(q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := checkUploadType(r.Header.Get("Content-Type")); err != nil {
		s.fail(w, r, err)
		return
	}
	// Refused before a byte is read when the client announces the size.
	if r.ContentLength > s.maxUpload {
		s.fail(w, r, fmt.Errorf("upload of %d bytes is over the limit of %d bytes: %w",
			r.ContentLength, s.maxUpload, &http.MaxBytesError{Limit: s.maxUpload}))
		return
	}
	raw, err := s.readUpload(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	detected := detectFormat(raw)
	if format != "" && format != detected {
		s.fail(w, r, badRequest("format=%s, but the body is %s", format, describeFormat(detected)))
		return
	}
	reader, err := s.uploadReader(detected, rate, channels, raw)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	meta, created, err := recordstore.Ingest(r.Context(), s.repo, analysable{reader}, raw, rate)
	if err != nil {
		if errors.Is(err, emg.ErrMalformed) && strings.HasPrefix(r.Header.Get("Content-Type"), formURLEncoded) {
			err = &clientError{msg: err.Error() + "; " + dataBinaryHint, err: err}
		}
		s.fail(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		s.cacheMetadata(r.Context(), meta)
	}
	w.Header().Set("Location", "/api/emg/files/"+meta.FileHash)
	writeJSON(w, status, meta)
}

// uploadReader returns the reader for an upload of the detected format,
// or the error that refuses it before parsing.
func (s *server) uploadReader(format string, rate float64, channels []string, raw []byte) (emg.Reader, error) {
	if format == formatC3D {
		return emg.C3DReader{Channels: channels}, nil
	}
	if len(channels) > 0 {
		return nil, badRequest("channels= chooses channels of a C3D file; a CSV upload holds the channels of its header")
	}
	if rate == 0 {
		return nil, badRequest("sample_rate is required for CSV: the rate in Hz the recording was sampled at, such as sample_rate=2000")
	}
	if err := checkCSVBody(raw); err != nil {
		return nil, err
	}
	return s.readers[format], nil
}

// readerFor returns the reader that parses a stored recording again, as it
// was parsed at upload.
func (s *server) readerFor(meta emg.Metadata) (emg.Reader, bool) {
	if meta.Format == formatC3D {
		return emg.C3DReader{Channels: meta.Channels}, true
	}
	reader, ok := s.readers[meta.Format]
	return reader, ok
}

// analysable refuses recordings whose sample rate no default analysis can
// use, so an upload that would only ever fail to analyse fails at once.
type analysable struct{ emg.Reader }

func (a analysable) Read(r io.Reader, sampleRate float64) (*emg.Recording, error) {
	rec, err := a.Reader.Read(r, sampleRate)
	if err != nil {
		return nil, err
	}
	if err := emg.ValidateAnalysisSampleRate(rec.SampleRate); err != nil {
		return nil, err
	}
	return rec, nil
}

// readUpload reads the whole body, up to the upload limit.
func (s *server) readUpload(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		// One allocation of the right size instead of doubling up to it.
		buf.Grow(int(r.ContentLength))
	}
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, s.maxUpload)); err != nil {
		if statusOf(err) == http.StatusRequestEntityTooLarge {
			return nil, fmt.Errorf("upload is over the limit of %d bytes: %w", s.maxUpload, err)
		}
		return nil, badRequest("read upload: %v", err)
	}
	return buf.Bytes(), nil
}

// cacheMetadata writes the metadata of a new upload to the cache, where the
// next read would put it anyway: the uploader usually asks for it next.
func (s *server) cacheMetadata(ctx context.Context, meta emg.Metadata) {
	key, err := s.metadataKey(ctx, meta.FileHash)
	if err == nil {
		// The upload has succeeded; a client that leaves now does not
		// undo it, so neither should it stop the write.
		err = store.SetJSON(context.WithoutCancel(ctx), s.cache, key, meta, metadataTTL)
	}
	if err != nil {
		s.cacheLog.absorbed(ctx, key, err)
	}
}

// getMetadata answers GET /api/emg/files/{file_hash}: 200 and the metadata,
// 404 for a hash never uploaded, 400 for one that is not hex.
func (s *server) getMetadata(w http.ResponseWriter, r *http.Request) {
	hash, err := fileHashVar(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	meta, err := s.metadata(r.Context(), hash)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, meta)
}

// metadata returns the metadata of a validated hash, cache-aside under
// emg_metadata:{hash}@{file version}. Concurrent misses load it from the
// database once.
func (s *server) metadata(ctx context.Context, hash string) (emg.Metadata, error) {
	key, err := s.metadataKey(ctx, hash)
	if err != nil {
		// No version, no key: the store is down (or the hash is bad, which
		// the repository refuses in turn).
		s.cacheLog.absorbed(ctx, "", err)
		return s.repo.Metadata(ctx, hash)
	}
	return patterns.Aside(ctx, s.patterns, key, metadataTTL, func(ctx context.Context) (emg.Metadata, error) {
		return s.repo.Metadata(ctx, hash)
	})
}

// metadataKey returns emg_metadata:{hash}@{version of emg_file:{hash}}: the
// file's namespace, which the analysis responses' keys carry too, so that
// one InvalidateNamespace of it drops everything cached for the file.
func (s *server) metadataKey(ctx context.Context, hash string) (string, error) {
	ns, err := emgkey.FileNamespace(hash)
	if err != nil {
		return "", err
	}
	key, err := emgkey.Metadata(hash)
	if err != nil {
		return "", err
	}
	return s.patterns.VersionedKey(ctx, ns, key)
}

// formats lists the upload formats, sorted.
func (s *server) formats() []string {
	names := make([]string, 0, len(s.readers))
	for name := range s.readers {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// fileHashVar returns the route's file hash, validated and in lower case.
func fileHashVar(r *http.Request) (string, error) {
	raw := pathValue(r, "file_hash")
	h, err := emgkey.FileHash(raw)
	if err != nil {
		return "", badRequest("file_hash %q is not a hex SHA-256 digest (nor MD5, SHA-1 or SHA-512)", excerpt(raw))
	}
	return h, nil
}

// sampleRate reads the optional sample_rate parameter, in Hz; 0 when it is
// absent. A given rate must be one the analysis can use.
func sampleRate(q url.Values) (float64, error) {
	v, err := singleParam(q, "sample_rate")
	if err != nil || v == "" {
		return 0, err
	}
	hz, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, badRequest("sample_rate %q is not a number", excerpt(v))
	}
	if err := emg.ValidateAnalysisSampleRate(hz); err != nil {
		return 0, err
	}
	return hz, nil
}

// maxChannelNames bounds channels=.
const maxChannelNames = 256

// channelsParam reads channels=A,B,…: names of C3D channels, in order.
func channelsParam(q url.Values) ([]string, error) {
	v, err := singleParam(q, "channels")
	if err != nil || v == "" {
		return nil, err
	}
	var names []string
	for name := range strings.SplitSeq(v, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			return nil, badRequest("channels=%q has an empty name", excerpt(v))
		}
		names = append(names, name)
	}
	if len(names) > maxChannelNames {
		return nil, badRequest("channels= names %d channels, more than %d", len(names), maxChannelNames)
	}
	return names, nil
}

// singleParam returns the value of name in q, "" when absent, and an error
// when it is given more than once: which one would win is not obvious.
func singleParam(q url.Values, name string) (string, error) {
	vs := q[name]
	switch len(vs) {
	case 0:
		return "", nil
	case 1:
		return strings.TrimSpace(vs[0]), nil
	}
	return "", badRequest("%s is given %d times", name, len(vs))
}

// excerpt shortens client input quoted back in an error message.
func excerpt(s string) string {
	const keep = 64
	if len(s) <= keep {
		return s
	}
	return strings.ToValidUTF8(s[:keep], "") + "…"
}
