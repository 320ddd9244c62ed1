// Package lazyjson encodes and decodes JSON exactly as encoding/json does,
// for the runtime's start-up path: config.json, state.json and the init's
// bootstrap, each read or written once by a process that lives a few
// milliseconds.
//
// encoding/json builds, on the first use of a type, its field tables and
// encoders for every type the type can reach. For a runtime-spec config
// that is about 60 struct types and 0.9 ms, paid again by every process
// (create, the container's init, start, delete), against 0.05 ms for the
// decoding itself. This package looks types up by reflection as it meets
// them, so a config costs only the types it uses.
//
// It handles the subset of JSON and Go types those files use, and hands
// anything else to encoding/json: a key that is not an exact field name
// (encoding/json also matches keys case-insensitively), a duplicate key,
// escapes in keys, numbers that do not fit, values of the wrong type,
// malformed JSON, types with their own MarshalJSON or UnmarshalJSON
// (except time.Time), interfaces, and `,string` or `omitzero` tags. The
// results and the errors are therefore encoding/json's in every case;
// the tests compare the two.
//
// It owns no format of its own. It does not escape or validate what
// encoding/json would not, and it is not a general-purpose replacement:
// once warm, encoding/json is faster.
package lazyjson

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"time"
)

// field is one JSON member of a struct type.
type field struct {
	name      string
	index     []int // reflect.Value.FieldByIndex path (embedded structs)
	typ       reflect.Type
	omitEmpty bool
}

// structInfo is what both directions need of a struct type.
type structInfo struct {
	fields []field
	// unsupported: a tag or layout this package leaves to encoding/json.
	unsupported bool
}

var (
	structInfos sync.Map // reflect.Type -> *structInfo

	jsonMarshaler   = reflect.TypeFor[json.Marshaler]()
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textMarshaler   = reflect.TypeFor[encoding.TextMarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	timeType        = reflect.TypeFor[time.Time]()
)

// structOf returns the fields of struct type t, built on first use.
func structOf(t reflect.Type) *structInfo {
	if si, ok := structInfos.Load(t); ok {
		return si.(*structInfo)
	}
	si := &structInfo{}
	collectFields(si, t, nil, 0)
	// Two members of one name: encoding/json's dominance rules decide.
	seen := make(map[string]bool, len(si.fields))
	for _, f := range si.fields {
		if seen[f.name] {
			si.unsupported = true
		}
		seen[f.name] = true
	}
	structInfos.Store(t, si)
	return si
}

// collectFields appends the JSON members of struct type t, whose value
// is reached through index from the outer struct; embedded structs
// without a tag name contribute their members.
func collectFields(si *structInfo, t reflect.Type, index []int, depth int) {
	if depth > 8 {
		si.unsupported = true
		return
	}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag, hasTag := sf.Tag.Lookup("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		path := append(append([]int(nil), index...), i)
		if sf.Anonymous && name == "" {
			ft := sf.Type
			if ft.Kind() == reflect.Struct {
				collectFields(si, ft, path, depth+1)
				continue
			}
			if ft.Kind() == reflect.Pointer || sf.IsExported() {
				// Embedded pointers (allocated on the way in) and
				// embedded non-structs: not worth the rules.
				si.unsupported = true
				continue
			}
			continue
		}
		if !sf.IsExported() {
			continue
		}
		if !hasTag || name == "" {
			name = sf.Name
		} else if !plainName(name) {
			si.unsupported = true
		}
		f := field{name: name, index: path, typ: sf.Type}
		for _, o := range strings.Split(opts, ",") {
			switch o {
			case "":
			case "omitempty":
				f.omitEmpty = true
			default: // string, omitzero, or anything newer
				si.unsupported = true
			}
		}
		si.fields = append(si.fields, f)
	}
}

// plainName reports whether a tag name is made of the characters every
// config and state member uses (encoding/json accepts more, and treats
// some names specially).
func plainName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// customCodec reports whether t (or *t) brings its own JSON or text
// encoding, which this package leaves to encoding/json.
func customCodec(t reflect.Type) bool {
	pt := reflect.PointerTo(t)
	return t.Implements(jsonMarshaler) || pt.Implements(jsonMarshaler) ||
		t.Implements(jsonUnmarshaler) || pt.Implements(jsonUnmarshaler) ||
		t.Implements(textMarshaler) || pt.Implements(textMarshaler) ||
		t.Implements(textUnmarshaler) || pt.Implements(textUnmarshaler)
}
