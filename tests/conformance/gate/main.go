// Command gate checks a conformance run (the summary.json that
// ../shared/conformance/run writes) against tests/conformance/baseline:
// no program may break that is not listed there as known or flaky, and
// the broken programs other than the flaky ones may not exceed MAX_BROKEN.
// (MIN_PASS and MAX_FAIL are checked by run itself.)
//
// Usage: gate BASELINE SUMMARY.json
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

type summary struct {
	Programs []struct {
		Name   string `json:"name"`
		Status string `json:"status"`
		Note   string `json:"note"`
	} `json:"programs"`
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: gate BASELINE SUMMARY.json")
		os.Exit(2)
	}
	if err := gate(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "conformance gate:", err)
		os.Exit(1)
	}
}

func gate(baselinePath, summaryPath string) error {
	base, err := readBaseline(baselinePath)
	if err != nil {
		return err
	}
	maxBroken, err := strconv.Atoi(base["MAX_BROKEN"])
	if err != nil {
		return fmt.Errorf("%s: MAX_BROKEN: %v", baselinePath, err)
	}
	known := strings.Fields(base["KNOWN_BROKEN"])
	flaky := strings.Fields(base["FLAKY"])

	data, err := os.ReadFile(summaryPath)
	if err != nil {
		return err
	}
	var s summary
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("%s: %v", summaryPath, err)
	}
	if len(s.Programs) == 0 {
		return fmt.Errorf("%s: no programs ran", summaryPath)
	}
	var broken, unexpected, flakyBroken []string
	for _, p := range s.Programs {
		if p.Status != "broken" {
			continue
		}
		switch {
		case slices.Contains(flaky, p.Name):
			flakyBroken = append(flakyBroken, p.Name)
		case slices.Contains(known, p.Name):
			broken = append(broken, p.Name)
		default:
			broken = append(broken, p.Name)
			unexpected = append(unexpected, p.Name+" ("+p.Note+")")
		}
	}
	if len(flakyBroken) > 0 {
		fmt.Printf("conformance gate: flaky programs broke this run (not counted): %s\n", strings.Join(flakyBroken, " "))
	}
	if len(unexpected) > 0 {
		return fmt.Errorf("programs broke that the baseline does not list: %s", strings.Join(unexpected, ", "))
	}
	if len(broken) > maxBroken {
		return fmt.Errorf("%d broken programs, baseline allows %d", len(broken), maxBroken)
	}
	fmt.Printf("conformance gate: ok (%d broken, all known; baseline allows %d)\n", len(broken), maxBroken)
	return nil
}

// readBaseline reads the NAME=value lines of a shell-style file; values
// may be double-quoted.
func readBaseline(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	vars := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s: not NAME=value: %q", path, line)
		}
		vars[name] = strings.Trim(value, `"`)
	}
	return vars, sc.Err()
}
