// Command benchreport turns the raw output of one `make bench` run into
// bench/results/<date>.json, a generated section of docs/PERFORMANCE.md
// (between markers, so a new run replaces the old figures) and a PNG
// chart of the latency distributions.
//
//	benchreport -collect DIR -results FILE -md FILE -png FILE
//	benchreport -results FILE -md FILE -png FILE     (regenerate from FILE)
//
// DIR holds what bench/run.sh gathered: startup.json (the startup
// script's --json) with startup-run.json and startup-lifecycle.json
// (hyperfine's exports, every run's time), density-<runtime>.txt,
// exec.json, monitor.json, gobench.txt and pull.txt.
//
// It lives apart from the runtime's packages (nothing imports it) and
// uses only the standard library: the chart's drawing and font are its
// own.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	collect := flag.String("collect", "", "directory with a bench run's raw output")
	resultsPath := flag.String("results", "", "results JSON to write (with -collect) or read")
	mdPath := flag.String("md", "", "markdown file whose generated section is replaced")
	pngPath := flag.String("png", "", "PNG chart to write")
	flag.Parse()
	if *resultsPath == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: benchreport [-collect DIR] -results FILE [-md FILE] [-png FILE]")
		os.Exit(2)
	}
	if err := run(*collect, *resultsPath, *mdPath, *pngPath); err != nil {
		fmt.Fprintf(os.Stderr, "benchreport: %v\n", err)
		os.Exit(1)
	}
}

func run(collectDir, resultsPath, mdPath, pngPath string) error {
	var r *Results
	var err error
	if collectDir != "" {
		if r, err = collect(collectDir); err != nil {
			return err
		}
		if err := r.save(resultsPath); err != nil {
			return err
		}
	} else if r, err = loadResults(resultsPath); err != nil {
		return err
	}
	if pngPath != "" {
		f, err := os.Create(pngPath)
		if err != nil {
			return err
		}
		err = drawChart(f, chartHeading(r), r.panels())
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("chart %s: %w", pngPath, err)
		}
	}
	if mdPath != "" {
		rel, err := filepath.Rel(filepath.Dir(mdPath), pngPath)
		if err != nil || pngPath == "" {
			rel = ""
		}
		resultsRel, err := filepath.Rel(filepath.Dir(mdPath), resultsPath)
		if err != nil {
			resultsRel = resultsPath
		}
		return updateMarkdown(mdPath, r.markdown(rel, resultsRel))
	}
	return nil
}
