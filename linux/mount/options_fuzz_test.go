package mount

import (
	"slices"
	"strings"
	"testing"
)

func FuzzParseOptions(f *testing.F) {
	for _, seed := range []string{
		"rbind,ro,nosuid,rprivate",
		"mode=755,size=65536k,tmpcopyup",
		"idmap=uids=0-1000-10#@10-11-1;gids=0-1000-10",
		"ridmap=uids=1-2-3",
		"rro,rnoatime,ratime,rw",
	} {
		f.Add(seed)
	}
	known := KnownOptions()
	f.Fuzz(func(t *testing.T, list string) {
		opts := strings.Split(list, ",")
		o, err := ParseOptions(opts)
		if err != nil {
			if !isIDMapOption(strings.Join(opts, "")) && !slices.ContainsFunc(opts, isIDMapOption) {
				t.Fatalf("error for a list without an idmap option: %v", err)
			}
			return
		}
		for _, d := range o.Data {
			if d == "" || slices.Contains(known, d) || isIDMapOption(d) {
				t.Fatalf("%q reached the data string", d)
			}
		}
		if o.Recursive && !o.Bind {
			t.Fatal("recursive without bind")
		}
	})
}
