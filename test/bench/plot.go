package main

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"
	"sort"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// plot draws the latency distribution (CDF, log-scaled milliseconds) of
// every N into a PNG.
func plot(rep report, path string) error {
	const w, h, left, right, top, bottom = 900, 560, 70, 30, 40, 60
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	grey := color.RGBA{200, 200, 200, 255}
	black := color.RGBA{0, 0, 0, 255}

	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range rep.Results {
		for _, o := range r.Operator {
			for _, v := range o.LatenciesMs {
				v = math.Max(v, 0.1)
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if math.IsInf(lo, 1) {
		return fmt.Errorf("no latencies to plot")
	}
	lo = math.Pow(10, math.Floor(math.Log10(lo)))
	hi = math.Pow(10, math.Ceil(math.Log10(hi)))
	x := func(ms float64) int {
		return left + int(float64(w-left-right)*(math.Log10(math.Max(ms, lo))-math.Log10(lo))/(math.Log10(hi)-math.Log10(lo)))
	}
	y := func(q float64) int { return h - bottom - int(float64(h-top-bottom)*q) }

	for d := lo; d <= hi*1.0001; d *= 10 {
		line(img, x(d), y(0), x(d), y(1), grey)
		text(img, x(d)-10, h-bottom+18, fmt.Sprintf("%g", d), black)
	}
	for _, q := range []float64{0, 0.5, 0.9, 0.99} {
		line(img, left, y(q), w-right, y(q), grey)
		text(img, 8, y(q)+4, fmt.Sprintf("p%g", q*100), black)
	}
	line(img, left, y(1), w-right, y(1), grey)
	text(img, w/2-120, h-15, "latency from create to converged (ms, log scale)", black)
	text(img, left, 22, "KalypsoTritonServer convergence latency, CDF per N", black)

	palette := []color.RGBA{{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255}, {148, 103, 189, 255}}
	for i, r := range rep.Results {
		all := append([]float64(nil), r.Live.LatenciesMs...)
		sort.Float64s(all)
		c := palette[i%len(palette)]
		px, py := x(all[0]), y(0)
		for j, v := range all {
			nx, ny := x(v), y(float64(j+1)/float64(len(all)))
			line(img, px, py, nx, py, c)
			line(img, nx, py, nx, ny, c)
			px, py = nx, ny
		}
		lx, ly := w-right-170, top+20+i*18
		draw.Draw(img, image.Rect(lx, ly-8, lx+20, ly-2), &image.Uniform{c}, image.Point{}, draw.Src)
		text(img, lx+26, ly, fmt.Sprintf("N=%d p99=%.0fms", r.N, r.P99Ms), black)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	return png.Encode(f, img)
}

// line draws a straight line (Bresenham), two pixels wide.
func line(img *image.RGBA, x0, y0, x1, y1 int, c color.Color) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := sign(x1-x0), sign(y1-y0)
	e := dx + dy
	for {
		img.Set(x0, y0, c)
		img.Set(x0, y0+1, c)
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * e
		if e2 >= dy {
			e += dy
			x0 += sx
		}
		if e2 <= dx {
			e += dx
			y0 += sy
		}
	}
}

func text(img *image.RGBA, x, y int, s string, c color.Color) {
	d := &font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func sign(v int) int {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}
