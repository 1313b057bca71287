// Package browsertest drives the health dashboard page in a headless
// Chromium. It is a module of its own so that chromedp, which only this test
// needs, stays out of the graph of every module that requires health. It
// holds no code besides its test.
package browsertest
