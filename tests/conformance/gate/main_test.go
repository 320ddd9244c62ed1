package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGate(t *testing.T) {
	dir := t.TempDir()
	baseline := filepath.Join(dir, "baseline")
	os.WriteFile(baseline, []byte("# c\nMIN_PASS=1\nMAX_BROKEN=1\nKNOWN_BROKEN=\"hooks prestart\"\nFLAKY=\"poststart\"\n"), 0o644)
	write := func(statuses ...string) string {
		var progs []string
		for _, s := range statuses {
			name, status, _ := strings.Cut(s, ":")
			progs = append(progs, `{"name":"`+name+`","status":"`+status+`","note":""}`)
		}
		p := filepath.Join(dir, "summary.json")
		os.WriteFile(p, []byte(`{"programs":[`+strings.Join(progs, ",")+`]}`), 0o644)
		return p
	}
	for _, tc := range []struct {
		programs []string
		wantErr  string
	}{
		{[]string{"a:ok", "hooks:broken"}, ""},
		{[]string{"a:ok", "hooks:broken", "poststart:broken"}, ""},
		{[]string{"hooks:broken", "prestart:broken"}, "2 broken programs, baseline allows 1"},
		{[]string{"a:broken"}, "does not list: a"},
		{nil, "no programs ran"},
	} {
		err := gate(baseline, write(tc.programs...))
		if tc.wantErr == "" && err != nil {
			t.Errorf("%v: %v", tc.programs, err)
		}
		if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%v: error %v, want %q", tc.programs, err, tc.wantErr)
		}
	}
}
