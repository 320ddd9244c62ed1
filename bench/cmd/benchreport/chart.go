package main

import (
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"slices"
	"strings"
)

// series is one runtime's times (ms) in one panel.
type series struct {
	name  string
	times []float64
}

// panel is one measurement (run, lifecycle, exec): a box plot per runtime.
type panel struct {
	title  string
	series []series
}

// summary is what a box shows.
type summary struct {
	min, p25, median, p75, p95, max, mean float64
}

func summarize(times []float64) summary {
	s := slices.Clone(times)
	slices.Sort(s)
	q := func(p float64) float64 {
		if len(s) == 0 {
			return 0
		}
		pos := p * float64(len(s)-1)
		i := int(pos)
		if i+1 >= len(s) {
			return s[len(s)-1]
		}
		return s[i] + (pos-float64(i))*(s[i+1]-s[i])
	}
	mean := 0.0
	for _, t := range s {
		mean += t
	}
	if len(s) > 0 {
		mean /= float64(len(s))
		return summary{s[0], q(0.25), q(0.5), q(0.75), q(0.95), s[len(s)-1], mean}
	}
	return summary{}
}

var (
	white     = color.RGBA{255, 255, 255, 255}
	black     = color.RGBA{30, 30, 30, 255}
	grey      = color.RGBA{150, 150, 150, 255}
	lightGrey = color.RGBA{225, 225, 225, 255}
	palette   = map[string]color.RGBA{
		"tincan-oci": {230, 120, 20, 255},
		"runc":       {50, 100, 200, 255},
		"crun":       {40, 160, 70, 255},
		"floor":      {140, 140, 140, 255},
	}
	otherColor = color.RGBA{150, 80, 170, 255}
)

// Layout, in pixels.
const (
	chartWidth = 1000
	labelWidth = 150
	rightPad   = 190 // room for the "median / mean" text
	rowHeight  = 34
	titleH     = 30
	axisH      = 28
	panelGap   = 14
	textScale  = 2
)

// drawChart renders the panels one above the other: for each runtime a
// box from the 25th to the 75th percentile, the median as a bar across
// it, a whisker from the fastest run to the 95th percentile, the mean as
// a dot, and the median and mean written on the right.
func drawChart(w io.Writer, heading string, panels []panel) error {
	height := titleH + panelGap
	for _, p := range panels {
		height += titleH + len(p.series)*rowHeight + axisH + panelGap
	}
	c := &canvas{image.NewRGBA(image.Rect(0, 0, chartWidth, height))}
	c.fill(0, 0, chartWidth, height, white)
	c.text(12, 8, heading, textScale, black)
	y := titleH + panelGap
	for _, p := range panels {
		y = c.panel(y, p)
	}
	return png.Encode(w, c.img)
}

func (c *canvas) panel(y int, p panel) int {
	c.text(12, y+6, p.title, textScale, black)
	y += titleH
	top := y
	sums := make([]summary, len(p.series))
	hi := 0.0
	for i, s := range p.series {
		sums[i] = summarize(s.times)
		hi = math.Max(hi, sums[i].p95)
	}
	step := tickStep(hi)
	hi = math.Ceil(hi/step) * step
	x0, x1 := labelWidth, chartWidth-rightPad
	scale := func(v float64) int { return x0 + int(math.Round(v/hi*float64(x1-x0))) }
	// Grid lines at the ticks, behind the boxes.
	bottom := top + len(p.series)*rowHeight
	for v := 0.0; v <= hi+step/2; v += step {
		c.vline(scale(v), top, bottom, lightGrey)
	}
	for i, s := range p.series {
		col, ok := palette[s.name]
		if !ok {
			col = otherColor
		}
		mid := top + i*rowHeight + rowHeight/2
		c.text(12, mid-glyphH*textScale/2, s.name, textScale, black)
		m := sums[i]
		c.hline(scale(m.min), scale(m.p95), mid, col)
		c.vline(scale(m.min), mid-5, mid+5, col)
		c.vline(scale(m.p95), mid-5, mid+5, col)
		c.fill(scale(m.p25), mid-9, max(scale(m.p75), scale(m.p25)+1), mid+9, lighten(col))
		c.outline(scale(m.p25), mid-9, max(scale(m.p75), scale(m.p25)+1), mid+9, col)
		c.fill(scale(m.median)-1, mid-11, scale(m.median)+2, mid+11, black)
		c.fill(scale(m.mean)-3, mid-3, scale(m.mean)+4, mid+4, col)
		c.text(x1+12, mid-glyphH*textScale/2, formatMs(m.median)+" / "+formatMs(m.mean), textScale, black)
	}
	c.hline(x0, x1, bottom, black)
	for v := 0.0; v <= hi+step/2; v += step {
		x := scale(v)
		c.vline(x, bottom, bottom+5, black)
		label := formatTick(v)
		c.text(x-textWidth(label, textScale)/2, bottom+9, label, textScale, black)
	}
	c.text(x1+12, bottom+9, "MEDIAN/MEAN MS", textScale, grey)
	return bottom + axisH + panelGap
}

// tickStep picks 1, 2 or 5 times a power of ten giving 4 to 10 ticks.
func tickStep(hi float64) float64 {
	if hi <= 0 {
		return 1
	}
	step := math.Pow(10, math.Floor(math.Log10(hi)))
	for _, f := range []float64{0.1, 0.2, 0.5, 1, 2, 5} {
		if hi/(step*f) <= 10 {
			return step * f
		}
	}
	return step * 10
}

func formatTick(v float64) string {
	if v == math.Trunc(v) {
		return trimFloat(v, 0)
	}
	return trimFloat(v, 1)
}

func formatMs(v float64) string { return trimFloat(v, 2) }

func lighten(c color.RGBA) color.RGBA {
	mix := func(v uint8) uint8 { return uint8((int(v) + 3*255) / 4) }
	return color.RGBA{mix(c.R), mix(c.G), mix(c.B), 255}
}

type canvas struct{ img *image.RGBA }

func (c *canvas) fill(x0, y0, x1, y1 int, col color.RGBA) {
	r := image.Rect(x0, y0, x1, y1).Intersect(c.img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c.img.SetRGBA(x, y, col)
		}
	}
}

func (c *canvas) hline(x0, x1, y int, col color.RGBA) {
	c.fill(min(x0, x1), y, max(x0, x1)+1, y+1, col)
}
func (c *canvas) vline(x, y0, y1 int, col color.RGBA) {
	c.fill(x, min(y0, y1), x+1, max(y0, y1)+1, col)
}

func (c *canvas) outline(x0, y0, x1, y1 int, col color.RGBA) {
	c.hline(x0, x1, y0, col)
	c.hline(x0, x1, y1, col)
	c.vline(x0, y0, y1, col)
	c.vline(x1, y0, y1, col)
}

// text draws s upper-case with the built-in font, its top-left at (x, y);
// characters without a glyph are drawn as '?'.
func (c *canvas) text(x, y int, s string, scale int, col color.RGBA) {
	for _, r := range strings.ToUpper(s) {
		g, ok := glyphs[r]
		if !ok {
			g = glyphs['?']
		}
		for row := 0; row < glyphH; row++ {
			for colIdx := 0; colIdx < glyphW; colIdx++ {
				if g[row][colIdx] == '#' {
					c.fill(x+colIdx*scale, y+row*scale, x+(colIdx+1)*scale, y+(row+1)*scale, col)
				}
			}
		}
		x += (glyphW + 1) * scale
	}
}

func textWidth(s string, scale int) int { return len([]rune(s))*(glyphW+1)*scale - scale }
