// Package c3d reads C3D files, the binary format motion-capture and EMG
// systems (Vicon, Qualisys, Motion Analysis, BTS, Cometa, Delsys, Noraxon,
// Mega and others) write: a 512-byte header, a parameter section of groups
// and parameters, and a data section of frames, each holding the 3D points
// of one camera frame followed by the analog samples (EMG, force plates)
// recorded during it.
//
// [Read] decodes a whole file into a [File]: the header, every parameter,
// the processor type the file was written on, the points, and the analog
// channels scaled to their physical units,
//
//	value = (raw − ANALOG:OFFSET) × ANALOG:SCALE × ANALOG:GEN_SCALE
//
// It handles what files from real labs contain: Intel, DEC (with VAX
// floating point) and MIPS/SGI (big-endian) processors; integer or
// floating-point storage chosen by the sign of POINT:SCALE; unsigned analog
// data (ANALOG:FORMAT "UNSIGNED"); more than 255 channels (ANALOG:LABELS2,
// UNITS2, SCALE2, OFFSET2, …); more than 65535 frames (TRIAL:ACTUAL_START_FIELD
// and ACTUAL_END_FIELD, POINT:LONG_FRAMES, a floating-point POINT:FRAMES);
// locked and duplicated parameters; and headers that disagree with the
// parameters. Where a file contradicts itself but can still be read, Read
// reads it and says what it chose in [File.Warnings].
//
// Text (labels, units, descriptions) is Latin-1 in the file and UTF-8 in a
// File, with trailing spaces and NULs removed.
//
// Read is safe on hostile input: it never panics, checks every size a file
// claims against the bytes it holds before allocating, and reports a
// truncated or inconsistent file with an error wrapping [ErrMalformed] that
// says what is wrong.
//
// The package uses the standard library only. Package c3dtest writes files
// for tests.
package c3d
