package lazyjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// fill sets every field reachable from v (pointers allocated, slices and
// maps given a few elements) to pseudo-random values, so that a test
// covers every member of a type without listing them.
func fill(v reflect.Value, r *rand.Rand, depth int) {
	if depth > 12 {
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if r.IntN(6) == 0 {
			return // some stay nil
		}
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), r, depth+1)
	case reflect.Struct:
		if v.Type() == timeType {
			v.Set(reflect.ValueOf(time.Unix(r.Int64N(4e9), r.Int64N(1e9)).UTC()))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() && r.IntN(8) != 0 {
				fill(v.Field(i), r, depth+1)
			}
		}
	case reflect.Slice:
		n := r.IntN(4)
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := 0; i < n; i++ {
			fill(s.Index(i), r, depth+1)
		}
		v.Set(s)
	case reflect.Map:
		n := r.IntN(4)
		m := reflect.MakeMap(v.Type())
		for i := 0; i < n; i++ {
			k := reflect.New(v.Type().Key()).Elem()
			fill(k, r, depth+1)
			e := reflect.New(v.Type().Elem()).Elem()
			fill(e, r, depth+1)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.String:
		v.SetString(randomString(r))
	case reflect.Bool:
		v.SetBool(r.IntN(2) == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bits := v.Type().Bits()
		v.SetInt(r.Int64() >> (64 - bits + r.IntN(bits)))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		bits := v.Type().Bits()
		v.SetUint(r.Uint64() >> (64 - bits + r.IntN(bits)))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(r.NormFloat64() * []float64{1, 1e-9, 1e25, 1e6}[r.IntN(4)])
	case reflect.Interface:
		if r.IntN(2) == 0 {
			v.Set(reflect.ValueOf(map[string]any{"k": randomString(r), "n": 1.5}))
		}
	}
}

func randomString(r *rand.Rand) string {
	pieces := []string{"", "a", "/proc/sys", "CAP_SYS_ADMIN", "x y", `q"uote`, `back\slash`,
		"tab\t", "nl\n", "\x01", "<html>&", "é", "\u2028", "\xff", "日本", "/"}
	var b strings.Builder
	for i := r.IntN(4); i > 0; i-- {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

// embedded has the layouts the runtime-spec types use and a few more.
type embedded struct {
	Inner
	Named   Inner             `json:"named"`
	Bytes   []byte            `json:"bytes,omitempty"`
	Time    time.Time         `json:"time"`
	TimeP   *time.Time        `json:"timeP,omitempty"`
	F32     float32           `json:"f32"`
	F64     float64           `json:"f64,omitempty"`
	Any     any               `json:"any,omitempty"`
	Arr     [2]int            `json:"arr"`
	Map     map[string][]int  `json:"map"`
	PtrMap  *map[string]*bool `json:"ptrMap,omitempty"`
	NoTag   int
	skipped int
	Dash    int `json:"-"`
	DashNm  int `json:"-,"`
}

type Inner struct {
	A string `json:"a"`
	B *int   `json:"b,omitempty"`
}

// TestMarshalMatchesEncodingJSON: byte for byte, for filled values.
func TestMarshalMatchesEncodingJSON(t *testing.T) {
	types := []reflect.Type{
		reflect.TypeFor[specs.Spec](), reflect.TypeFor[specs.State](), reflect.TypeFor[embedded](),
	}
	for _, typ := range types {
		for seed := range uint64(300) {
			r := rand.New(rand.NewPCG(seed, 7))
			v := reflect.New(typ)
			fill(v.Elem(), r, 0)
			want, wantErr := json.Marshal(v.Interface())
			got, gotErr := Marshal(v.Interface())
			if (wantErr != nil) != (gotErr != nil) || !bytes.Equal(got, want) {
				t.Fatalf("%s seed %d:\n got %s (%v)\nwant %s (%v)", typ, seed, got, gotErr, want, wantErr)
			}
		}
	}
}

// TestUnmarshalMatchesEncodingJSON decodes encoding/json's output of
// filled values with both.
func TestUnmarshalMatchesEncodingJSON(t *testing.T) {
	types := []reflect.Type{
		reflect.TypeFor[specs.Spec](), reflect.TypeFor[specs.State](), reflect.TypeFor[embedded](),
	}
	for _, typ := range types {
		for seed := range uint64(300) {
			r := rand.New(rand.NewPCG(seed, 11))
			v := reflect.New(typ)
			fill(v.Elem(), r, 0)
			data, err := json.Marshal(v.Interface())
			if err != nil {
				continue
			}
			compareUnmarshal(t, typ, data)
		}
	}
}

// compareUnmarshal checks that Unmarshal gives what json.Unmarshal gives:
// the same value, or the same error.
func compareUnmarshal(t *testing.T, typ reflect.Type, data []byte) {
	t.Helper()
	want := reflect.New(typ)
	wantErr := json.Unmarshal(data, want.Interface())
	got := reflect.New(typ)
	gotErr := Unmarshal(data, got.Interface())
	if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
		t.Fatalf("%s: %q:\n got error %v\nwant error %v", typ, data, gotErr, wantErr)
	}
	if !reflect.DeepEqual(got.Interface(), want.Interface()) {
		t.Fatalf("%s: %q:\n got %+v\nwant %+v", typ, data, got.Elem(), want.Elem())
	}
}

// tricky are documents whose meaning depends on encoding/json's rules.
var tricky = []string{
	`{}`, ``, ` `, `null`, `[]`, `"x"`, `{"ociVersion":"1.0.2"} x`, "\ufeff{}",
	`{"ociVersion":"1.0.2","ociVersion":"1.1.0"}`,
	`{"OCIVERSION":"1.0.2"}`, `{"ociversion":"1.0.2"}`, `{"unknown":{"a":[1,2,{"b":null}]},"hostname":"h"}`,
	`{"unknown":[1,}`, `{"unknown":tru}`, `{"unknown":"\x"}`, `{"unknown":01}`, `{"unknown":-}`, `{"unknown":1.}`,
	`{"process":{"args":["a","b"],"env":[],"cwd":"/"}}`,
	`{"process":{"args":null}}`, `{"process":null}`, `{"process":{"user":{"uid":-1}}}`,
	`{"process":{"user":{"uid":4294967296}}}`, `{"process":{"user":{"uid":1.0}}}`, `{"process":{"user":{"uid":1e3}}}`,
	`{"process":{"user":{"uid":"1"}}}`, `{"process":{"terminal":1}}`, `{"process":{"args":"sh"}}`,
	`{"process":{"args":["\u0041\n\/\ud83d\ude00\ud800"]}}`, `{"process":{"cwd":"\u00e9"}}`, "{\"process\":{\"cwd\":\"\xff\"}}",
	"{\"process\":{\"cwd\":\"a\tb\"}}", `{"proc\u0065ss":{"cwd":"/"}}`,
	`{"annotations":{"a":"1","a":"2","b":null}}`, `{"annotations":{"a":1}}`, `{"annotations":[]}`,
	`{"linux":{"resources":{"memory":{"limit":-1,"swappiness":18446744073709551615}}}}`,
	`{"linux":{"resources":{"memory":{"swappiness":18446744073709551616}}}}`,
	`{"linux":{"resources":{"blockIO":{"weightDevice":[{"major":8,"minor":0,"weight":10}]}}}}`,
	`{"linux":{"resources":{"cpu":{"shares":-0}}}}`, `{"linux":{"sysctl":{"net.ipv4.ip_forward":"1"}}}`,
	`{"windows":{"credentialSpec":{"a":1}}}`, `{"hooks":{"prestart":[{"path":"/bin/true","timeout":5}]}}`,
	` { "hostname" : "h" , "mounts" : [ ] } `, `{"mounts":[{"destination":"/proc","type":"proc","options":null}]}`,
	strings.Repeat(`{"unknown":`, 2000) + `1` + strings.Repeat(`}`, 2000),
}

func TestUnmarshalTricky(t *testing.T) {
	for _, doc := range tricky {
		compareUnmarshal(t, reflect.TypeFor[specs.Spec](), []byte(doc))
		compareUnmarshal(t, reflect.TypeFor[embedded](), []byte(doc))
	}
	compareUnmarshal(t, reflect.TypeFor[embedded](), []byte(`{"a":"x","named":{"a":"y","b":2},"bytes":"AAEC","time":"2024-01-02T03:04:05.5Z","arr":[1,2]}`))
	compareUnmarshal(t, reflect.TypeFor[embedded](), []byte(`{"bytes":"!!","time":"yesterday"}`))
	compareUnmarshal(t, reflect.TypeFor[embedded](), []byte(`{"NoTag":3,"-":4,"Dash":5}`))
}

func TestUnmarshalIntoNonZeroMerges(t *testing.T) {
	got := &specs.Spec{Hostname: "keep"}
	want := &specs.Spec{Hostname: "keep"}
	doc := []byte(`{"ociVersion":"1.0.2"}`)
	if err := Unmarshal(doc, got); err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(doc, want)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

// TestUsualDocumentsTakeTheFastPath: configs and states as the runtime
// writes and engines send them must not fall back to encoding/json, or
// the package saves nothing.
func TestUsualDocumentsTakeTheFastPath(t *testing.T) {
	configs := []string{
		`{"ociVersion":"1.0.2","process":{"terminal":false,"user":{"uid":0,"gid":0},"args":["/bin/true"],"env":["PATH=/usr/bin:/bin","TERM=xterm"],"cwd":"/","capabilities":{"bounding":["CAP_KILL"],"effective":["CAP_KILL"],"permitted":["CAP_KILL"]},"rlimits":[{"type":"RLIMIT_NOFILE","hard":1024,"soft":1024}],"noNewPrivileges":true},"root":{"path":"rootfs","readonly":true},"hostname":"bench","mounts":[{"destination":"/proc","type":"proc","source":"proc"},{"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","strictatime","mode=755","size=65536k"]}],"linux":{"resources":{"devices":[{"allow":false,"access":"rwm"}],"memory":{"limit":67108864}},"namespaces":[{"type":"pid"},{"type":"network"},{"type":"mount"}],"maskedPaths":["/proc/kcore"],"readonlyPaths":["/proc/sys"],"seccomp":{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,"architectures":["SCMP_ARCH_X86_64"],"syscalls":[{"names":["read","write"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"}]}]}},"annotations":{"org.example":"x"}}`,
	}
	for _, doc := range configs {
		var s specs.Spec
		d := decoder{data: []byte(doc)}
		if err := d.value(reflect.ValueOf(&s).Elem(), 0); err != nil {
			t.Fatalf("fell back on %s", doc)
		}
		state := struct {
			Created time.Time   `json:"created"`
			Config  *specs.Spec `json:"config"`
			Seccomp []byte      `json:"seccomp,omitempty"`
		}{time.Now(), &s, []byte{1, 2, 3}}
		e := encoder{}
		if err := e.value(reflect.ValueOf(&state), 0); err != nil {
			t.Fatalf("encoding fell back")
		}
		back := reflect.New(reflect.TypeOf(state))
		d = decoder{data: e.buf}
		if err := d.value(back.Elem(), 0); err != nil {
			t.Fatalf("fell back on %s", e.buf)
		}
	}
}

func FuzzUnmarshal(f *testing.F) {
	for _, doc := range tricky[:len(tricky)-1] {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		compareUnmarshal(t, reflect.TypeFor[specs.Spec](), data)
		compareUnmarshal(t, reflect.TypeFor[embedded](), data)
	})
}

func BenchmarkUnmarshalSpec(b *testing.B) {
	s := new(specs.Spec)
	fill(reflect.ValueOf(s).Elem(), rand.New(rand.NewPCG(1, 2)), 0)
	data, _ := json.Marshal(s)
	for b.Loop() {
		var s specs.Spec
		if err := Unmarshal(data, &s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalSpec(b *testing.B) {
	s := new(specs.Spec)
	fill(reflect.ValueOf(s).Elem(), rand.New(rand.NewPCG(1, 2)), 0)
	for b.Loop() {
		if _, err := Marshal(s); err != nil {
			b.Fatal(err)
		}
	}
}
