// Package c3dtest writes small C3D files for tests, in the spirit of
// net/http/httptest: [Write] turns a [File] description into the bytes a
// motion lab's software would produce, for any processor type and storage,
// with more than 255 channels or 65535 frames when asked, so that readers
// can be tested by round trip. It aims at correct files, not at every
// variant real writers produce; tests that need a defect edit the bytes.
package c3dtest
