package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func sampleResults() *Results {
	r := &Results{Date: "2026-11-23T10:00:00Z", Host: Host{Kernel: "6.1", CPUs: 2},
		Latency: map[string]map[string][]float64{"run": {
			"runc": {6, 6.5, 7, 9}, "tincan-oci": {3, 3.2, 3.1, 4}, "crun": {2.8, 3, 3.3, 5}, "floor": {1.5, 1.6, 1.7, 2},
		}}}
	r.Density = []Density{{Runtime: "tincan-oci", N: 100, Running: 100, WallS: 2, Leaked: 0}, {Runtime: "runc", N: 100, Running: 100, WallS: 1.5}}
	return r
}

func TestUpdateMarkdownReplacesOnlyTheSection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "PERF.md")
	if err := os.WriteFile(path, []byte("# Perf\n\nprose\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, section := range []string{"first\n", "second\n"} {
		if err := updateMarkdown(path, section); err != nil {
			t.Fatal(err)
		}
	}
	data, _ := os.ReadFile(path)
	s := string(data)
	if !strings.HasPrefix(s, "# Perf\n\nprose\n") || strings.Contains(s, "first") || strings.Count(s, "second") != 1 ||
		strings.Count(s, beginMarker) != 1 || strings.Count(s, endMarker) != 1 {
		t.Fatalf("after two updates:\n%s", s)
	}
	if err := os.WriteFile(path, []byte(beginMarker+"\nno end\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := updateMarkdown(path, "x"); err == nil {
		t.Fatal("a damaged section was overwritten")
	}
}

func TestMarkdownJudgesTargets(t *testing.T) {
	r := sampleResults()
	mean := func(v float64) *float64 { return &v }
	r.Startup = &Startup{Runs: 4}
	for _, x := range []struct {
		name    string
		run, lc float64
		rss     float64
	}{{"tincan-oci", 3.3, 9, 5}, {"runc", 7, 20, 9}, {"crun", 3.2, 8, 2}} {
		row := StartupResult{Name: x.name, PeakRSSMB: x.rss}
		row.RunMs.Mean = x.run
		row.LifecycleMs.Mean = mean(x.lc)
		r.Startup.Results = append(r.Startup.Results, row)
	}
	md := r.markdown("chart.png", "r.json")
	for _, want := range []string{
		"| run mean ≤ 1.0× crun | 1.03× | **not met** |",
		"| run mean ≤ 0.5× runc | 0.47× | met |",
		"| create→start→delete ≤ crun | 1.12× | **not met** |",
		"| peak RSS ≤ runc | 5.00 MB vs 9.00 MB | met |",
		"| density 100: no leaks, wall ≤ runc | 0 leaked, 2.00 s vs 1.50 s | **not met** |",
		"![start-up latency distributions](chart.png)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestChartIsAPNGWithAPanelPerKind(t *testing.T) {
	r := sampleResults()
	var small, big bytes.Buffer
	if err := drawChart(&small, chartHeading(r), r.panels()); err != nil {
		t.Fatal(err)
	}
	r.Latency["exec"] = map[string][]float64{"runc": {20, 21}, "tincan-oci": {10, 11}}
	if err := drawChart(&big, chartHeading(r), r.panels()); err != nil {
		t.Fatal(err)
	}
	a, err := png.Decode(&small)
	if err != nil {
		t.Fatal(err)
	}
	b, err := png.Decode(&big)
	if err != nil {
		t.Fatal(err)
	}
	if b.Bounds().Dy() <= a.Bounds().Dy() {
		t.Fatalf("a second panel did not grow the chart: %v vs %v", a.Bounds(), b.Bounds())
	}
}
