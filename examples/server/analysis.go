package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"

	"github.com/emgcache/emgcache/emg"
)

// maxAnalysisWindows bounds the windows of one analysis, summed over the
// channels. Each is a spectrum to compute and an object in the response, so
// a tiny, heavily overlapping window over a long recording would otherwise
// cost minutes and a response of hundreds of megabytes. The defaults stay
// far below it: 20 minutes of 4 channels at 0.25 s with half overlap is
// about 40 000 windows.
const maxAnalysisWindows = 100_000

// Query parameters of the analysis.
const (
	paramWindowSeconds = "window_seconds"
	paramOverlap       = "overlap"
)

// analysisResponse is the body of a successful analysis.
type analysisResponse struct {
	FileHash string `json:"file_hash"`
	*emg.Analysis
}

// getAnalysis answers GET /api/emg/analysis/{file_hash}[?window_seconds=S&overlap=F]
// with the analysis of every channel of a stored recording: 200, 404 for a
// hash never uploaded, 400 for a hash that is not hex or bad options. The
// response middleware in front of it stores the 200s, so this runs once per
// file and set of options until the entry expires or is invalidated.
//
// window_seconds is the window length (default 0.25); overlap is the
// fraction of a window the next one overlaps, from 0 (adjacent windows) to
// 0.9 (default 0.5).
func (s *server) getAnalysis(w http.ResponseWriter, r *http.Request) {
	hash, err := fileHashVar(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	opts, err := analysisOptions(r.URL.Query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	meta, err := s.metadata(r.Context(), hash)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// Checked from the metadata, before the raw bytes are even read.
	if err := checkWindowCount(meta, opts); err != nil {
		s.fail(w, r, err)
		return
	}
	reader, ok := s.readerFor(meta)
	if !ok {
		s.fail(w, r, fmt.Errorf("recording %s is stored as %q, which no reader reads", hash, meta.Format))
		return
	}
	raw, err := s.repo.Raw(r.Context(), hash)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rec, err := reader.Read(bytes.NewReader(raw), meta.SampleRate)
	if err != nil {
		// %v, not %w: bytes that parsed at upload and no longer do are the
		// server's fault, not a bad request, whatever the parser says.
		s.fail(w, r, fmt.Errorf("parse stored recording %s: %v", hash, err))
		return
	}
	an, err := emg.Analyze(rec, opts)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The result is a pure function of the stored bytes and the options, so
	// its ETag is too; the cache middleware then answers If-None-Match with
	// 304 without running the analysis or sending the body again.
	w.Header().Set("ETag", analysisETag(hash, an))
	writeJSON(w, http.StatusOK, analysisResponse{FileHash: hash, Analysis: an})
}

// analysisVersion changes whenever emg.Analyze's output would, so that an
// ETag never outlives the result it names.
const analysisVersion = "1"

// analysisETag names one analysis: the recording and the window settings
// actually used.
func analysisETag(hash string, an *emg.Analysis) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s|%s|%d|%g", analysisVersion, hash, an.WindowSamples, an.OverlapFraction))
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

// analysisOptions reads the analysis parameters, normalised. Unknown
// parameters are refused rather than ignored: each distinct query is a
// response of its own in the cache, so ignored ones would let any client
// fill it with copies of one analysis.
func analysisOptions(q url.Values) (emg.AnalysisOptions, error) {
	for name := range q {
		if name != paramWindowSeconds && name != paramOverlap {
			return emg.AnalysisOptions{}, badRequest("unknown parameter %q; the analysis takes %s and %s",
				excerpt(name), paramWindowSeconds, paramOverlap)
		}
	}
	var opts emg.AnalysisOptions
	window, set, err := floatParam(q, paramWindowSeconds)
	if err != nil {
		return opts, err
	}
	if set {
		if !(window > 0) || math.IsInf(window, 0) {
			return opts, badRequest("%s=%v is not a positive number of seconds", paramWindowSeconds, window)
		}
		opts.WindowSeconds = window
	}
	overlap, set, err := floatParam(q, paramOverlap)
	if err != nil {
		return opts, err
	}
	if set {
		if !(overlap >= 0 && overlap <= emg.MaxOverlapFraction) {
			return opts, badRequest("%s=%v is outside [0, %v]", paramOverlap, overlap, emg.MaxOverlapFraction)
		}
		// In the API 0 means no overlap; in AnalysisOptions 0 means the
		// default.
		opts.OverlapFraction = overlap
		if overlap == 0 {
			opts.OverlapFraction = emg.NoOverlap
		}
	}
	return opts.Normalize()
}

// floatParam reads an optional number.
func floatParam(q url.Values, name string) (v float64, set bool, err error) {
	s, err := singleParam(q, name)
	if err != nil || s == "" {
		return 0, false, err
	}
	v, err = strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false, badRequest("%s %q is not a number", name, excerpt(s))
	}
	return v, true, nil
}

// checkWindowCount refuses options that would make more than
// maxAnalysisWindows windows. It counts them as emg.Analyze places them;
// windows too short to analyse are left for Analyze to refuse.
func checkWindowCount(meta emg.Metadata, opts emg.AnalysisOptions) error {
	n := float64(meta.Samples)
	size := math.Round(opts.WindowSeconds * meta.SampleRate)
	if size < 1 || n < 1 {
		return nil
	}
	size = min(size, n)
	overlap := opts.OverlapFraction
	if overlap == emg.NoOverlap {
		overlap = 0
	}
	step := max(size-math.Round(overlap*size), 1)
	windows := (math.Floor((n-size)/step) + 1) * float64(len(meta.Channels))
	if windows > maxAnalysisWindows {
		return badRequest("%s=%v and %s=%v make %.0f windows over %d channels, more than %d; use longer windows or less overlap",
			paramWindowSeconds, opts.WindowSeconds, paramOverlap, max(overlap, 0), windows, len(meta.Channels), maxAnalysisWindows)
	}
	return nil
}
