package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

const (
	// barWidth fits the bar and its counts in 80 columns.
	barWidth = 30
	// redrawEvery bounds how often the bar is redrawn: thousands of fast
	// entries would otherwise spend more time drawing than loading.
	redrawEvery = 100 * time.Millisecond
)

// progress draws a progress bar on one terminal line, redrawn in place with
// a carriage return. Off a terminal it draws nothing and prints nothing:
// the summary says it all, and a log full of bars helps no one.
type progress struct {
	w        io.Writer
	terminal bool
	total    int
	lastDraw time.Time
	lastDone int  // done as last drawn
	width    int  // columns the bar takes now, to blank them out
	shown    bool // whether the bar is on the line now
}

func newProgress(w io.Writer, terminal bool, total int) *progress {
	return &progress{w: w, terminal: terminal, total: total}
}

// draw shows done of total entries, with the loaded and failed counts.
func (p *progress) draw(done, loaded, failed int) {
	if !p.terminal || time.Since(p.lastDraw) < redrawEvery && done < p.total {
		return
	}
	p.lastDraw, p.lastDone, p.shown = time.Now(), done, true
	filled := 0
	if p.total > 0 {
		filled = done * barWidth / p.total
	}
	line := fmt.Sprintf("[%s%s] %3d%%  %d/%d  loaded %d  failed %d",
		strings.Repeat("#", filled), strings.Repeat(".", barWidth-filled),
		done*100/max(p.total, 1), done, p.total, loaded, failed)
	pad := max(p.width-len(line), 0)
	fmt.Fprintf(p.w, "\r%s%s", line, strings.Repeat(" ", pad))
	p.width = len(line)
}

// println prints msg on a line of its own above the bar, on a terminal
// only; the summary repeats it anyway.
func (p *progress) println(msg string) {
	if !p.terminal {
		return
	}
	if p.shown {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.width))
	}
	fmt.Fprintln(p.w, msg)
	p.width, p.shown = 0, false
	// The bar is gone; draw it again at the next chance.
	p.lastDraw = time.Time{}
}

// finish draws the final state and ends the bar's line.
func (p *progress) finish(done, loaded, failed int) {
	if !p.terminal {
		return
	}
	if !p.shown || p.lastDone != done {
		p.lastDraw = time.Time{}
		p.draw(done, loaded, failed)
	}
	fmt.Fprintln(p.w)
}
