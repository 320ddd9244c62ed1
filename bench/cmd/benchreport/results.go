package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Results is one bench run: bench/results/<date>.json.
type Results struct {
	Date string `json:"date"`
	Host Host   `json:"host"`
	// Startup is the startup script's JSON as it wrote it.
	Startup *Startup `json:"startup,omitempty"`
	// Latency is every timed run, in ms: "run", "lifecycle" and "exec",
	// then the runtime's name.
	Latency map[string]map[string][]float64 `json:"latency_ms,omitempty"`
	Density []Density                       `json:"density,omitempty"`
	// Monitor is bench/monitor.sh's JSON as it wrote it.
	Monitor []Monitor `json:"monitor,omitempty"`
	GoBench []GoBench `json:"go_benchmarks,omitempty"`
	Pull    *Pull     `json:"pull,omitempty"`
}

// Host describes the machine at the start of the run.
type Host struct {
	Kernel  string  `json:"kernel"`
	CPUs    int     `json:"cpus"`
	LoadAvg float64 `json:"load_average_1m"`
}

// Startup mirrors the startup script's --json.
type Startup struct {
	Host struct {
		Kernel  string `json:"kernel"`
		Cgroups string `json:"cgroups"`
		View    string `json:"view"`
	} `json:"host"`
	Runs    int             `json:"runs"`
	Warmup  int             `json:"warmup"`
	RSSRuns int             `json:"rss_runs"`
	Elapsed float64         `json:"elapsed_s"`
	Results []StartupResult `json:"results"`
}

// StartupResult is one runtime's row of it.
type StartupResult struct {
	Name    string `json:"name"`
	Path    string `json:"path"`
	Version string `json:"version"`
	RunMs   struct {
		Mean, Min, Max, Median, Stddev float64
	} `json:"run_ms"`
	LifecycleMs struct {
		Mean   *float64 `json:"mean"`
		Stddev *float64 `json:"stddev"`
	} `json:"lifecycle_ms"`
	PeakRSSMB float64 `json:"peak_rss_mb_median"`
	Ratio     struct {
		Crun  *float64 `json:"crun"`
		Runc  *float64 `json:"runc"`
		Floor *float64 `json:"floor"`
	} `json:"ratio"`
}

// Density is one runtime's line of ../shared/bench/density.
type Density struct {
	Runtime     string  `json:"runtime"`
	N           int     `json:"n"`
	Running     int     `json:"running"`
	WallS       float64 `json:"create_start_wall_s"`
	LeftoverKiB float64 `json:"runtime_rss_left_kib_per_container"`
	TeardownS   float64 `json:"kill_delete_wall_s"`
	Leaked      int     `json:"leaked"`
}

// Monitor is one engine's per-container process (bench/monitor.sh).
type Monitor struct {
	Engine  string `json:"engine"`
	Process string `json:"process"`
	RSSKiB  int    `json:"rss_kib"`
	PSSKiB  int    `json:"pss_kib"`
	USSKiB  int    `json:"uss_kib"`
	AnonKiB int    `json:"anon_kib"`
}

// GoBench is one line of `go test -bench` output.
type GoBench struct {
	Package string             `json:"package"`
	Name    string             `json:"name"`
	N       int                `json:"n"`
	Metrics map[string]float64 `json:"metrics"`
}

// Pull is bench/pull.sh's table.
type Pull struct {
	Image string    `json:"image"`
	Rows  []PullRow `json:"rows"`
}

// PullRow is one tool's line of it.
type PullRow struct {
	Tool    string  `json:"tool"`
	MedianS float64 `json:"median_s"`
	BestS   float64 `json:"best_s"`
	MBps    float64 `json:"mb_per_s"`
}

// collect reads a bench run's raw output from dir; what is missing is
// left out (a partial run still reports what it measured).
func collect(dir string) (*Results, error) {
	r := &Results{Date: time.Now().UTC().Format(time.RFC3339), Host: thisHost(), Latency: map[string]map[string][]float64{}}
	if data, err := os.ReadFile(filepath.Join(dir, "host-load")); err == nil {
		r.Host.LoadAvg, _ = strconv.ParseFloat(strings.TrimSpace(string(data)), 64)
	}
	read := func(name string, v any) error {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := json.Unmarshal(data, v); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	if err := read("startup.json", &r.Startup); err != nil {
		return nil, err
	}
	for kind, file := range map[string]string{"run": "startup-run.json", "lifecycle": "startup-lifecycle.json", "exec": "exec.json"} {
		var hf hyperfineExport
		if err := read(file, &hf); err != nil {
			return nil, err
		}
		for _, res := range hf.Results {
			if r.Latency[kind] == nil {
				r.Latency[kind] = map[string][]float64{}
			}
			ms := make([]float64, len(res.Times))
			for i, t := range res.Times {
				ms[i] = t * 1000
			}
			r.Latency[kind][res.Command] = ms
		}
	}
	if err := read("monitor.json", &r.Monitor); err != nil {
		return nil, err
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "density-*.txt"))
	sort.Strings(matches)
	for _, m := range matches {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(m), "density-"), ".txt")
		d, err := parseDensity(m, name)
		if err != nil {
			return nil, err
		}
		r.Density = append(r.Density, d)
	}
	var err error
	if r.GoBench, err = parseGoBench(filepath.Join(dir, "gobench.txt")); err != nil {
		return nil, err
	}
	if r.Pull, err = parsePull(filepath.Join(dir, "pull.txt")); err != nil {
		return nil, err
	}
	return r, nil
}

// hyperfineExport is the part of hyperfine's --export-json used here.
type hyperfineExport struct {
	Results []struct {
		Command string    `json:"command"`
		Times   []float64 `json:"times"`
	} `json:"results"`
}

func thisHost() Host {
	h := Host{CPUs: runtime.NumCPU()}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		h.Kernel = strings.TrimSpace(string(data))
	}
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		h.LoadAvg, _ = strconv.ParseFloat(strings.Fields(string(data))[0], 64)
	}
	return h
}

var (
	densityStart    = regexp.MustCompile(`all create\+start returned in ([0-9.]+) s .*running: ([0-9]+) of ([0-9]+)`)
	densityLeftover = regexp.MustCompile(`runtime processes left outside the containers: [0-9]+, RSS [0-9]+ KiB \(([0-9.]+) KiB per container\)`)
	densityTeardown = regexp.MustCompile(`kill\+delete of all took ([0-9.]+) s`)
	densityLast     = regexp.MustCompile(`^density: .*leaked: ([0-9]+)`)
)

func parseDensity(path, name string) (Density, error) {
	d := Density{Runtime: name, Leaked: -1}
	f, err := os.Open(path)
	if err != nil {
		return d, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if m := densityStart.FindStringSubmatch(line); m != nil {
			d.WallS, _ = strconv.ParseFloat(m[1], 64)
			d.Running, _ = strconv.Atoi(m[2])
			d.N, _ = strconv.Atoi(m[3])
		}
		if m := densityLeftover.FindStringSubmatch(line); m != nil {
			d.LeftoverKiB, _ = strconv.ParseFloat(m[1], 64)
		}
		if m := densityTeardown.FindStringSubmatch(line); m != nil {
			d.TeardownS, _ = strconv.ParseFloat(m[1], 64)
		}
		if m := densityLast.FindStringSubmatch(line); m != nil {
			d.Leaked, _ = strconv.Atoi(m[1])
		}
	}
	if d.N == 0 {
		return d, fmt.Errorf("%s: no density result in it", path)
	}
	return d, sc.Err()
}

// parseGoBench reads `go test -bench` output: "pkg:" lines, then
// "BenchmarkName-P  N  value unit  value unit ...".
func parseGoBench(path string) ([]GoBench, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []GoBench
	pkg := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) == 2 && fields[0] == "pkg:":
			pkg = fields[1]
		case len(fields) >= 4 && strings.HasPrefix(fields[0], "Benchmark"):
			n, err := strconv.Atoi(fields[1])
			if err != nil {
				continue
			}
			b := GoBench{Package: pkg, Name: trimProcs(fields[0]), N: n, Metrics: map[string]float64{}}
			for i := 2; i+1 < len(fields); i += 2 {
				if v, err := strconv.ParseFloat(fields[i], 64); err == nil {
					b.Metrics[fields[i+1]] = v
				}
			}
			out = append(out, b)
		}
	}
	return out, sc.Err()
}

// trimProcs drops the -GOMAXPROCS suffix go test adds to a name.
func trimProcs(name string) string {
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			return name[:i]
		}
	}
	return name
}

// parsePull reads bench/pull.sh's output: the "Image:" line and the rows
// of its markdown table.
func parsePull(path string) (*Pull, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	p := &Pull{}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "Image:") {
			p.Image = strings.TrimSpace(strings.TrimPrefix(line, "Image:"))
		}
		cells := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
		if len(cells) != 4 {
			continue
		}
		var row PullRow
		row.Tool = strings.TrimSpace(cells[0])
		var e1, e2, e3 error
		row.MedianS, e1 = strconv.ParseFloat(strings.TrimSpace(cells[1]), 64)
		row.BestS, e2 = strconv.ParseFloat(strings.TrimSpace(cells[2]), 64)
		row.MBps, e3 = strconv.ParseFloat(strings.TrimSpace(cells[3]), 64)
		if e1 == nil && e2 == nil && e3 == nil {
			p.Rows = append(p.Rows, row)
		}
	}
	if len(p.Rows) == 0 {
		return nil, nil
	}
	return p, nil
}

func (r *Results) save(path string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

func loadResults(path string) (*Results, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Results
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}

// order puts tincan-oci first, then runc, crun, the floor, then the rest.
func order(names []string) []string {
	rank := map[string]int{"tincan-oci": 0, "runc": 1, "crun": 2, "floor": 3}
	out := append([]string(nil), names...)
	sort.SliceStable(out, func(i, j int) bool {
		ri, iok := rank[out[i]]
		rj, jok := rank[out[j]]
		switch {
		case iok && jok:
			return ri < rj
		case iok != jok:
			return iok
		}
		return out[i] < out[j]
	})
	return out
}

// panels are the chart's: run, lifecycle and exec latencies.
func (r *Results) panels() []panel {
	titles := []struct{ kind, title string }{
		{"run", "RUN (CREATE, START, WAIT, DELETE IN ONE PROCESS)"},
		{"lifecycle", "CREATE, START, DELETE -F (THREE PROCESSES)"},
		{"exec", "EXEC /BIN/TRUE IN A RUNNING CONTAINER"},
	}
	var out []panel
	for _, t := range titles {
		byName := r.Latency[t.kind]
		if len(byName) == 0 {
			continue
		}
		names := make([]string, 0, len(byName))
		for n := range byName {
			names = append(names, n)
		}
		p := panel{title: t.title}
		for _, n := range order(names) {
			p.series = append(p.series, series{name: n, times: byName[n]})
		}
		out = append(out, p)
	}
	return out
}

func chartHeading(r *Results) string {
	return fmt.Sprintf("CONTAINER START-UP LATENCY, %s, %d CPUS, KERNEL %s", dateOf(r.Date), r.Host.CPUs, r.Host.Kernel)
}

func dateOf(rfc string) string {
	if t, err := time.Parse(time.RFC3339, rfc); err == nil {
		return t.Format("2006-01-02")
	}
	return rfc
}
